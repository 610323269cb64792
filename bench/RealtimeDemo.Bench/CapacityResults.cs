namespace RealtimeDemo.Bench;

/// <summary>
/// Capacity mode, one transport (ours or a baseline) at fixed clients: the highest publish rate it held with p99 within
/// <see cref="P99LimitMs"/> and nothing lost or duplicated, and every step measured on the way. The held figures are
/// null when not even the first step held.
/// </summary>
/// <param name="Rate">Events per second published at the step held.</param>
/// <param name="DeliveriesPerSecond">Deliveries per second at the step held.</param>
/// <param name="DeliveriesPerCpuSecond">
/// Deliveries per server CPU-second at the step held (null: a host not started by the bench).
/// </param>
/// <param name="P99Ms">The held step's p99 latency.</param>
/// <param name="P99LimitMs">The p99 a step must stay within: 100 ms, plus the interval for short polling.</param>
/// <param name="StoppedBy">
/// Why the steps ended: <c>p99</c>, <c>lost</c>, <c>ceiling</c> (the ticker's maximum was held), <c>steps</c> (as many
/// as allowed were measured) or <c>failed</c>.
/// </param>
public sealed record CapacityRun(
    string Transport,
    bool Baseline,
    int Clients,
    double? Rate,
    double? DeliveriesPerSecond,
    double? DeliveriesPerCpuSecond,
    double? P99Ms,
    double P99LimitMs,
    string StoppedBy,
    IReadOnlyList<CapacityStep> Steps);

/// <summary>One measured step of a capacity run: a load run at <see cref="Rate"/>, and whether it held.</summary>
public sealed record CapacityStep(
    double Rate,
    double DeliveriesPerSecond,
    double? DeliveriesPerCpuSecond,
    double P50Ms,
    double P99Ms,
    long Lost,
    long Duplicated,
    bool Held);
