using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using RealtimeDemo.Http;

namespace RealtimeDemo.Publishing;

/// <summary>
/// One token bucket per client address for publishing: <see cref="PublishingOptions.PublishBurst"/> at once, then
/// <see cref="PublishingOptions.PublishPermitsPerSecond"/> sustained. <c>POST /api/events</c> and WebSocket publishes
/// draw on the same bucket.
/// </summary>
/// <remarks>
/// The platform's limiter (<see cref="PartitionedRateLimiter"/>, which also replenishes and drops idle buckets) is used
/// directly rather than through the rate-limiting middleware: the middleware limits requests, and a WebSocket's
/// publishes are messages on one long request, which must count against the same bucket.
/// </remarks>
internal sealed class PublishRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string> _buckets;

    public PublishRateLimiter(IOptions<PublishingOptions> options)
    {
        var settings = options.Value;
        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = settings.PublishBurst,
            TokensPerPeriod = settings.PublishPermitsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        };
        _buckets = PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetTokenBucketLimiter(client, _ => bucket));
    }

    /// <summary>Takes one publish from the client's bucket; false, with when to try again, when it is empty.</summary>
    public bool TryAcquire(HttpContext context, out TimeSpan retryAfter)
    {
        // The client as the forwarded headers of trusted proxies tell it; behind an untrusted proxy, the proxy.
        var client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        using var lease = _buckets.AttemptAcquire(client);
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
        return lease.IsAcquired;
    }

    /// <summary>The <c>429</c> for a publish over the limit.</summary>
    public static IResult TooManyRequests(HttpContext context, TimeSpan retryAfter, PublishingOptions options) =>
        Problems.RetryLater(context, StatusCodes.Status429TooManyRequests, retryAfter, "Too many publishes", RuleText(options));

    /// <summary>The rule, as the error of a refused publish names it.</summary>
    public static string RuleText(PublishingOptions options) =>
        $"A client may publish {options.PublishPermitsPerSecond} events per second, in bursts of up to {options.PublishBurst}";

    public void Dispose() => _buckets.Dispose();
}
