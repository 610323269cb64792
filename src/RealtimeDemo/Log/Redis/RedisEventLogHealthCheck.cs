using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace RealtimeDemo.Log.Redis;

/// <summary>
/// Readiness: unhealthy while this host cannot read the shared log (publishing fails and its readers hear nothing
/// new). The host stays up meanwhile, its connections open, and catches up when Redis returns.
/// </summary>
public sealed class RedisEventLogHealthCheck(RedisEventLog log) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(log.IsFollowing
            ? HealthCheckResult.Healthy($"Following the shared log (epoch {log.Epoch}, seq {log.Head.Seq}).")
            : HealthCheckResult.Unhealthy("Cannot read the shared event log in Redis."));
}
