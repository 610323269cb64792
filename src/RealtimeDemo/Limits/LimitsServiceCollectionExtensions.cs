namespace RealtimeDemo.Limits;

public static class LimitsServiceCollectionExtensions
{
    /// <summary>The publish rate limit, the per-transport connection caps and the slow-reader watchdog.</summary>
    public static IServiceCollection AddLimits(this IServiceCollection services)
    {
        services.AddSingleton<PublishRateLimiter>();
        services.AddSingleton<SlowReaderWatchdog>();
        services.AddConnectionCaps();
        return services;
    }
}
