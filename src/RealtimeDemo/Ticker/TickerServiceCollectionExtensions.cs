using RealtimeDemo.Log;
using RealtimeDemo.Log.Redis;

namespace RealtimeDemo.Ticker;

public static class TickerServiceCollectionExtensions
{
    /// <summary>
    /// The demo ticker with its validated <see cref="TickerOptions"/>, and its lease: on a log shared through Redis only
    /// the host holding the lease ticks; alone, a host always does.
    /// </summary>
    public static IServiceCollection AddDemoTicker(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRealtimeSettings<TickerOptions>();
        if (EventLogServiceCollectionExtensions.StoreOf(configuration) == EventStore.Redis)
        {
            services.AddSingleton<ITickerLease>(sp => new RedisTickerLease(sp.GetRequiredService<RedisEventStream>(), sp.GetRequiredService<TimeProvider>()));
        }
        else
        {
            services.AddSingleton<ITickerLease, SoleTickerLease>();
        }

        services.AddSingleton<DemoTicker>();
        services.AddHostedService(sp => sp.GetRequiredService<DemoTicker>());
        return services;
    }
}
