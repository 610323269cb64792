namespace RealtimeDemo.Bench.Drills;

/// <summary>
/// One technique through one drill: <see cref="Kind"/> is kill, restart or storm. Every client kept its cursor and
/// resumed after every drop; lost counts seqs skipped without a gap signal, duplicated seqs received twice.
/// </summary>
/// <param name="Transport">short-poll, long-poll, sse or websocket, through nginx.</param>
/// <param name="Jitter">Whether the clients' reconnect backoff was jittered.</param>
/// <param name="Hosts">RealtimeDemo hosts behind nginx, sharing one log in Redis.</param>
/// <param name="Seconds">From the first event published to the last.</param>
/// <param name="Delivered">Events received, each once.</param>
/// <param name="Reconnects">Connections (or, for polls, successful requests) made again after a drop or a refusal.</param>
/// <param name="Refused">Attempts that failed: an HTTP error status, a refused or failed connect, a request cut short.</param>
/// <param name="Cut">Clients that lost their connection to a cut (counted once per cut) and so had to resume.</param>
/// <param name="Resumed">Of those, the ones that received again before the drill ended.</param>
/// <param name="ResumeMs">From the cut until each cut client received again; null when the cuts cut no client.</param>
/// <param name="PeakConnectsPerSecond">The most TCP connections nginx accepted from the technique's clients in 100 ms, per second.</param>
/// <param name="Actions">What the drill did, and when (seconds from the first event published).</param>
/// <param name="Timeline">Per second from the first event published: connected clients, deliveries, TCP connects.</param>
public sealed record DrillRun(
    string Kind,
    string Transport,
    int Clients,
    bool Jitter,
    int Hosts,
    double Rate,
    double Seconds,
    long Delivered,
    long Lost,
    long Duplicated,
    long GapSignals,
    long Reconnects,
    long Refused,
    int Cut,
    int Resumed,
    ResumeSummary? ResumeMs,
    double PeakConnectsPerSecond,
    IReadOnlyList<DrillAction> Actions,
    DrillTimeline Timeline);

public sealed record ResumeSummary(double P50, double P99, double Max);

/// <summary>A cut (it starts the resume clock) or another step of the drill, such as a host started again.</summary>
public sealed record DrillAction(double AtSeconds, string What, bool Cut);

/// <summary>Per whole second from the first event published: one value each.</summary>
public sealed record DrillTimeline(IReadOnlyList<int> Connected, IReadOnlyList<long> Deliveries, IReadOnlyList<long> Connects);
