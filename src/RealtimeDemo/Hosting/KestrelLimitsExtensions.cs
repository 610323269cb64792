using Microsoft.AspNetCore.Server.Kestrel.Core;

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
        web.ConfigureKestrel((context, kestrel) =>
        {
            var limits = context.Configuration.GetSection(SectionName);
            limits.Bind(kestrel.Limits);

            // A MinDataRate cannot be bound into (it has no setters): it is built from its section and replaced whole.
            kestrel.Limits.MinRequestBodyDataRate = limits.GetSection(nameof(KestrelServerLimits.MinRequestBodyDataRate)).Get<MinDataRate>() ?? kestrel.Limits.MinRequestBodyDataRate;
            kestrel.Limits.MinResponseDataRate = limits.GetSection(nameof(KestrelServerLimits.MinResponseDataRate)).Get<MinDataRate>() ?? kestrel.Limits.MinResponseDataRate;
        });
}
