using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace RealtimeDemo.Hosting;

public static class ReverseProxyExtensions
{
    /// <summary>The configuration section that names the proxies whose forwarded headers are believed.</summary>
    public const string SectionName = "ForwardedHeaders";

    /// <summary>
    /// Honours <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> from trusted proxies only: loopback by default,
    /// plus <c>ForwardedHeaders:KnownProxies</c> (addresses) and <c>ForwardedHeaders:KnownNetworks</c> (CIDR).
    /// From anyone else the headers are ignored, or any client could claim any address.
    /// </summary>
    /// <exception cref="InvalidOperationException">An entry is not an address or network; the message names the setting.</exception>
    public static IServiceCollection AddReverseProxySupport(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(SectionName);
        var proxies = Entries(section, "KnownProxies")
            .Select(text => IPAddress.TryParse(text, out var address) ? address : throw Malformed("KnownProxies", text))
            .ToList();
        var networks = Entries(section, "KnownNetworks")
            .Select(text => System.Net.IPNetwork.TryParse(text, out var network) ? network : throw Malformed("KnownNetworks", text))
            .ToList();

        services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            proxies.ForEach(options.KnownProxies.Add);
            networks.ForEach(options.KnownIPNetworks.Add);
        });
        return services;
    }

    private static string[] Entries(IConfigurationSection section, string key) => section.GetSection(key).Get<string[]>() ?? [];

    private static InvalidOperationException Malformed(string key, string text) =>
        new($"{SectionName}:{key} holds '{text}', which is not a valid {(key == "KnownProxies" ? "IP address" : "network in CIDR form")}.");
}
