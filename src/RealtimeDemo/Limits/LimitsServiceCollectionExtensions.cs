namespace RealtimeDemo.Limits;

public static class LimitsServiceCollectionExtensions
{
    /// <summary>The per-transport connection caps and the slow-reader watchdog, with their validated settings.</summary>
    public static IServiceCollection AddLimits(this IServiceCollection services)
    {
        services.AddRealtimeSettings<ConnectionLimitsOptions>();
        services.AddSingleton<SlowReaderWatchdog>();
        services.AddConnectionCaps();
        return services;
    }
}
