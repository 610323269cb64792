namespace RealtimeDemo.Transports;

public static class TransportsServiceCollectionExtensions
{
    /// <summary>The validated <see cref="TransportOptions"/>: read batches, long-poll holds, heartbeats and keep-alives.</summary>
    public static IServiceCollection AddTransports(this IServiceCollection services)
    {
        services.AddRealtimeSettings<TransportOptions>();
        return services;
    }
}
