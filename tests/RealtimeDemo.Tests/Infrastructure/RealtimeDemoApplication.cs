using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// The host under test, in memory: ticker off (tests publish what they assert on), intervals short enough
/// to observe within a test. Pass settings to override any <c>Realtime:</c> value, and services to add or replace.
/// </summary>
public class RealtimeDemoApplication(IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    : WebApplicationFactory<Program>
{
    public static readonly IReadOnlyDictionary<string, string?> TestDefaults = new Dictionary<string, string?>
    {
        ["Realtime:TickerEventsPerSecond"] = "0",
        ["Realtime:HeartbeatInterval"] = "00:00:00.500",
        ["Realtime:SseRetry"] = "00:00:00.500",
        ["Realtime:LongPollTimeout"] = "00:00:05",
        ["Realtime:WebSocketKeepAliveInterval"] = "00:00:05",
        ["Realtime:WebSocketKeepAliveTimeout"] = "00:00:05",
        ["Serilog:MinimumLevel:Default"] = "Warning",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in TestDefaults.Concat(settings ?? new Dictionary<string, string?>()))
        {
            builder.UseSetting(key, value);
        }

        if (services is not null)
        {
            builder.ConfigureTestServices(services);
        }
    }
}
