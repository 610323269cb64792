using System.Runtime.InteropServices;

namespace RealtimeDemo.Bench;

/// <summary>POSIX signals, sent as an orchestrator (or a person at a shell) sends them.</summary>
internal static class Signals
{
    /// <summary>SIGTERM: stop gracefully.</summary>
    public const int Term = 15;

    /// <summary>kill(2): 0, or -1 with errno set.</summary>
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Send(int pid, int signal);
}
