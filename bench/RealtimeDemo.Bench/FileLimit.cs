using System.Runtime.InteropServices;

namespace RealtimeDemo.Bench;

/// <summary>Raises this process's open-file limit as far as it may; the servers it starts inherit it.</summary>
public static partial class FileLimit
{
    private const int RlimitNofile = 7;
    private const ulong Wanted = 1 << 17;

    public static ulong Raise()
    {
        if (!OperatingSystem.IsLinux() || GetRlimit(RlimitNofile, out var limit) != 0)
        {
            return 0;
        }

        // Root may lift the hard limit too (tens of thousands of idle connections need as many descriptors);
        // anyone else gets as far as the hard limit allows.
        var wanted = new RLimit { Current = Math.Max(limit.Maximum, Wanted), Maximum = Math.Max(limit.Maximum, Wanted) };
        if (SetRlimit(RlimitNofile, ref wanted) == 0)
        {
            return wanted.Current;
        }

        limit.Current = limit.Maximum;
        return SetRlimit(RlimitNofile, ref limit) == 0 ? limit.Current : 0;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [DllImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static extern int GetRlimit(int resource, out RLimit limit);

    [DllImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static extern int SetRlimit(int resource, ref RLimit limit);
}
