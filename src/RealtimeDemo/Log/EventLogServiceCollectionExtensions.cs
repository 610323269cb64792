using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RealtimeDemo.Log.Redis;
using StackExchange.Redis;

namespace RealtimeDemo.Log;

public static class EventLogServiceCollectionExtensions
{
    /// <summary>
    /// Registers the validated <see cref="EventLogOptions"/> and the event log <c>Realtime:Store</c> names: the
    /// in-memory ring, or the Redis log with its follower and health check.
    /// </summary>
    public static IServiceCollection AddEventLog(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRealtimeSettings<EventLogOptions>()
            .Validate<IConfiguration>(
                (options, config) => options.Store != EventStore.Redis || !string.IsNullOrWhiteSpace(config.GetConnectionString(RedisConnection.ConnectionStringName)),
                "Realtime:Store is Redis but ConnectionStrings:Redis is not set (e.g. ConnectionStrings__Redis=localhost:6379).");

        services.TryAddSingleton(TimeProvider.System);
        if (StoreOf(configuration) == EventStore.Redis)
        {
            AddRedisEventLog(services, configuration);
        }
        else
        {
            services.AddSingleton<IEventLog>(sp => new InMemoryEventLog(
                sp.GetRequiredService<IOptions<EventLogOptions>>().Value.Retention,
                sp.GetRequiredService<TimeProvider>()));
        }

        return services;
    }

    /// <summary>The store configured, read before the options exist: it decides what is registered.</summary>
    public static EventStore StoreOf(IConfiguration configuration) =>
        configuration.GetSection(RealtimeSettings.SectionName).GetValue<EventStore>(nameof(EventLogOptions.Store));

    private static void AddRedisEventLog(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            // The settings first: the host resolves the log while it builds, before options are validated at start, and a
            // missing connection string must be refused naming the setting, not by the Redis client's own complaint.
            _ = sp.GetRequiredService<IOptions<EventLogOptions>>().Value;
            return ConnectionMultiplexer.Connect(RedisConnection.Options(configuration.GetConnectionString(RedisConnection.ConnectionStringName) ?? ""));
        });
        services.AddSingleton(sp => new RedisEventStream(
            sp.GetRequiredService<IConnectionMultiplexer>(),
            sp.GetRequiredService<IOptions<EventLogOptions>>().Value.RedisKeyPrefix,
            sp.GetRequiredService<IOptions<EventLogOptions>>().Value.Retention));
        services.AddSingleton(sp => new RedisEventLog(
            sp.GetRequiredService<IConnectionMultiplexer>(),
            sp.GetRequiredService<RedisEventStream>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<RedisEventLog>>()));
        services.AddSingleton<IEventLog>(sp => sp.GetRequiredService<RedisEventLog>());
        services.AddHostedService(sp => sp.GetRequiredService<RedisEventLog>());
        services.AddHealthChecks().AddCheck<RedisEventLogHealthCheck>("event-log");
    }
}
