using System.Text.Json.Serialization;

namespace RealtimeDemo.Bench;

/// <summary>Everything one bench run produced: <c>results.json</c>, the console table and <c>report.html</c> are all made from it.</summary>
public sealed record BenchReport(
    DateTimeOffset StartedAt,
    string Machine,
    BenchSettings Settings,
    IReadOnlyList<TransportRun> Runs,
    IReadOnlyList<IdleRun> IdleRuns)
{
    /// <summary>This machine as a run names it: its name, cores, memory, system and runtime.</summary>
    public static string ThisMachine =>
        $"{Environment.MachineName}: {Environment.ProcessorCount} cores, {Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024.0 / 1024 / 1024)} GiB, "
        + $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";

    /// <summary>The drills' runs (<c>--drill</c>), one per drill and technique; absent from load and idle runs.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Drills.DrillRun>? Drills { get; init; }

    /// <summary>Capacity mode's results, a run per transport; absent (null) from the other modes' results.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<CapacityRun>? Capacity { get; init; }

    /// <summary>Beyond one process (<c>--fleet</c>): a run per transport; absent (null) from the other modes' results.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Fleet.FleetRun>? Fleet { get; init; }
}

/// <summary>The workload every transport faced.</summary>
public sealed record BenchSettings(int Clients, double Rate, int Seconds, int WarmupSeconds, double PollIntervalSeconds, int Idle)
{
    /// <summary>Drills: the hosts behind nginx (then <see cref="Seconds"/> is each steady phase's); absent otherwise.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Hosts { get; init; }
}

/// <summary>
/// One transport (ours or a baseline) under the load. <see cref="Transport"/> is one of short-poll, long-poll, sse,
/// websocket, sse-tls, websocket-tls, sse-h2 (over TLS: the first two on HTTP/1.1, the last on HTTP/2), raw-websocket,
/// raw-sse, signalr-websockets, signalr-sse, signalr-longpolling.
/// </summary>
public sealed record TransportRun(
    string Transport,
    bool Baseline,
    int Clients,
    double Rate,
    double Seconds,
    long Delivered,
    double DeliveriesPerSecond,
    LatencySummary LatencyMs,
    long Lost,
    long Duplicated,
    long Requests,
    long EmptyResponses,
    double BytesPerEvent,
    double? ServerCpuSecondsPer1000,
    double? DeliveriesPerServerCpuSecond,
    long? ServerPeakRssBytes,
    IReadOnlyList<LatencyBucket> LatencyHistogram)
{
    /// <summary>sse-h2: the SSE streams multiplexed on each HTTP/2 connection; absent for the other rows.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? StreamsPerConnection { get; init; }
}

public sealed record LatencySummary(double P50, double P95, double P99, double Max);

/// <summary>How many deliveries took at most <see cref="UpToMs"/> (and more than the previous bucket's bound).</summary>
public sealed record LatencyBucket(double UpToMs, long Count);

/// <summary>
/// Idle mode: many connections held open with no events, per long-lived transport. <see cref="EndedEarly"/> connections
/// stopped before the window did; the heartbeat figure, per connection, is low by their share.
/// </summary>
public sealed record IdleRun(
    string Transport,
    bool Baseline,
    int Connections,
    long ServerRssBeforeBytes,
    long ServerRssAfterBytes,
    double MemoryPerConnectionBytes,
    double HeartbeatBytesPerConnectionPerMinute,
    int EndedEarly)
{
    /// <summary>sse-h2: its connections are HTTP/2 streams, this many on each TCP connection; absent for the other rows.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? StreamsPerConnection { get; init; }
}

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(BenchReport))]
internal sealed partial class BenchJson : JsonSerializerContext;
