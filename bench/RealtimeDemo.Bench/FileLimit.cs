using System.Runtime.InteropServices;

namespace RealtimeDemo.Bench;

/// <summary>Raises this process's open-file limit to its hard maximum; the servers it starts inherit it.</summary>
public static partial class FileLimit
{
    private const int RlimitNofile = 7;

    public static ulong Raise()
    {
        if (!OperatingSystem.IsLinux() || GetRlimit(RlimitNofile, out var limit) != 0)
        {
            return 0;
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
