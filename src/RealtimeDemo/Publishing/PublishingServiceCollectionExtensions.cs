namespace RealtimeDemo.Publishing;

public static class PublishingServiceCollectionExtensions
{
    /// <summary>What a publish may contain and who may publish how often (<see cref="PublishingOptions"/>), and the rate limit.</summary>
    public static IServiceCollection AddPublishing(this IServiceCollection services)
    {
        services.AddRealtimeSettings<PublishingOptions>();
        services.AddSingleton<PublishRateLimiter>();
        return services;
    }
}
