using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RealtimeDemo.Events.Redis;
using StackExchange.Redis;

namespace RealtimeDemo.Events;

public static class EventLogServiceCollectionExtensions
{
    /// <summary>
    /// Registers the validated <see cref="RealtimeOptions"/>, the event log <c>Realtime:Store</c> names (the in-memory
    /// ring, or the Redis log with its follower, health check and ticker lease) and the demo ticker.
    /// </summary>
    public static IServiceCollection AddEventLog(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RealtimeOptions>()
            .BindConfiguration(RealtimeOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate<IConfiguration>(
                (options, config) => options.Store != EventStore.Redis || !string.IsNullOrWhiteSpace(config.GetConnectionString(RedisConnection.ConnectionStringName)),
                "Realtime:Store is Redis but ConnectionStrings:Redis is not set (e.g. ConnectionStrings__Redis=localhost:6379).")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        var store = configuration.GetSection(RealtimeOptions.SectionName).GetValue<EventStore>(nameof(RealtimeOptions.Store));
        if (store == EventStore.Redis)
        {
            AddRedisEventLog(services, configuration);
        }
        else
        {
            services.AddSingleton<IEventLog>(sp => new InMemoryEventLog(
                sp.GetRequiredService<IOptions<RealtimeOptions>>().Value.Retention,
                sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton<ITickerLease, SoleTickerLease>();
        }

        services.AddSingleton<DemoTicker>();
        services.AddHostedService(sp => sp.GetRequiredService<DemoTicker>());
        return services;
    }

    private static void AddRedisEventLog(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IConnectionMultiplexer>(_ =>
            ConnectionMultiplexer.Connect(RedisConnection.Options(configuration.GetConnectionString(RedisConnection.ConnectionStringName) ?? "")));
        services.AddSingleton(sp => new RedisEventStream(
            sp.GetRequiredService<IConnectionMultiplexer>(),
            sp.GetRequiredService<IOptions<RealtimeOptions>>().Value.RedisKeyPrefix,
            sp.GetRequiredService<IOptions<RealtimeOptions>>().Value.Retention));
        services.AddSingleton(sp => new RedisEventLog(
            sp.GetRequiredService<IConnectionMultiplexer>(),
            sp.GetRequiredService<RedisEventStream>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<RedisEventLog>>()));
        services.AddSingleton<IEventLog>(sp => sp.GetRequiredService<RedisEventLog>());
        services.AddHostedService(sp => sp.GetRequiredService<RedisEventLog>());
        services.AddSingleton<ITickerLease>(sp => new RedisTickerLease(sp.GetRequiredService<RedisEventStream>(), sp.GetRequiredService<TimeProvider>()));
        services.AddHealthChecks().AddCheck<RedisEventLogHealthCheck>("event-log");
    }
}
