namespace RealtimeDemo.Hosting;

public static class KestrelLimitsExtensions
{
    /// <summary>The configuration section holding Kestrel's limits (<c>KestrelServerLimits</c>, by property name).</summary>
    public const string SectionName = "Kestrel:Limits";

    /// <summary>
    /// Applies <c>Kestrel:Limits</c> (header and body sizes, minimum data rates, keep-alive, connection counts), which
    /// Kestrel does not read from configuration by itself. <c>appsettings.json</c> sets each one deliberately.
    /// </summary>
    public static IWebHostBuilder UseKestrelLimitsFromConfiguration(this IWebHostBuilder web) =>
        web.ConfigureKestrel((context, kestrel) => context.Configuration.GetSection(SectionName).Bind(kestrel.Limits));
}
