namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// How many seconds a test may run before its token (<see cref="TestClients.Deadline"/>, linked to xunit's own
/// cancellation) is cancelled, failing the test instead of hanging the run. One default for every test; the longer
/// ones are for tests that genuinely take longer on a loaded machine, named for why.
/// </summary>
public static class Deadlines
{
    /// <summary>A few exchanges with one host, in memory or over real sockets.</summary>
    public const int Default = 15;

    /// <summary>
    /// A real server or process to start or wait on (Redis, nginx, a host), or exchanges that run for seconds: rounds
    /// of a race, rate-limited publishing, a large backlog, a table of bad inputs, every transport at once.
    /// </summary>
    public const int Slow = 30;

    /// <summary>
    /// Load: floods and storms, concurrent readers and writers, many generated cases, hosts stopped and restarted,
    /// two hosts on Redis, a browser.
    /// </summary>
    public const int Load = 90;
}
