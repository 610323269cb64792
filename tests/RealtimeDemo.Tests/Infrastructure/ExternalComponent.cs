namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// Tests that need a real component (Chromium, nginx) skip with the reason where it is absent, except under CI
/// (<c>CI=true</c> or <c>CI=1</c>, any case): there a missing component is a failure, so CI can never pass by skipping them.
/// </summary>
public static class ExternalComponent
{
    public static bool IsCi => Environment.GetEnvironmentVariable("CI")?.Trim() is { } value
        && (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value == "1");

    /// <summary>The executable at <paramref name="overrideVariable"/>'s path if set, else <paramref name="defaultPath"/>.</summary>
    public static string Locate(string overrideVariable, string defaultPath) =>
        Environment.GetEnvironmentVariable(overrideVariable) is { Length: > 0 } path ? path : defaultPath;

    /// <summary>Skips (or, under CI, fails) the test when <paramref name="path"/> does not exist.</summary>
    public static void Require(string path, string what, string overrideVariable)
    {
        if (!File.Exists(path))
        {
            Unavailable($"{what} is not installed at {path} (install Debian's package, run scripts/test.sh, or set {overrideVariable}).");
        }
    }

    /// <summary>Skips the test for <paramref name="reason"/>, or, under CI, fails it.</summary>
    public static void Unavailable(string reason)
    {
        if (IsCi)
        {
            Assert.Fail($"CI requires this test to run: {reason}");
        }

        Assert.Skip(reason);
    }
}
