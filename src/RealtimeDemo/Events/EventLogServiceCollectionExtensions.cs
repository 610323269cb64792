using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace RealtimeDemo.Events;

public static class EventLogServiceCollectionExtensions
{
    /// <summary>Registers the validated <see cref="RealtimeOptions"/>, the in-memory event log and the demo ticker.</summary>
    public static IServiceCollection AddEventLog(this IServiceCollection services)
    {
        services.AddOptions<RealtimeOptions>()
            .BindConfiguration(RealtimeOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IEventLog>(sp => new InMemoryEventLog(
            sp.GetRequiredService<IOptions<RealtimeOptions>>().Value.Retention,
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<DemoTicker>();
        services.AddHostedService(sp => sp.GetRequiredService<DemoTicker>());
        return services;
    }
}
