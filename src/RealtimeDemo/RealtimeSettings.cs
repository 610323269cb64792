using Microsoft.Extensions.Options;

namespace RealtimeDemo;

/// <summary>
/// The <c>Realtime</c> configuration section. Each feature binds the part it reads to options of its own
/// (<c>EventLogOptions</c>, <c>TransportOptions</c>, …), so the keys users set stay one flat section.
/// </summary>
public static class RealtimeSettings
{
    public const string SectionName = "Realtime";

    /// <summary>
    /// Binds <typeparamref name="TOptions"/> to the section and validates it at start-up: a bad value stops the host
    /// with a message naming the setting.
    /// </summary>
    public static OptionsBuilder<TOptions> AddRealtimeSettings<TOptions>(this IServiceCollection services)
        where TOptions : class =>
        services.AddOptions<TOptions>().BindConfiguration(SectionName).ValidateDataAnnotations().ValidateOnStart();
}
