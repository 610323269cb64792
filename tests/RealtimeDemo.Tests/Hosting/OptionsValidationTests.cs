using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Hosting;

/// <summary>A bad setting stops the host at start-up with a message naming the setting.</summary>
public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("Realtime:Retention", "0")]
    [InlineData("Realtime:TickerEventsPerSecond", "-1")]
    [InlineData("Realtime:TickerEventsPerSecond", "0.0000001")]
    [InlineData("Realtime:TickerEventsPerSecond", "1000.5")]
    [InlineData("Realtime:ReadBatchSize", "0")]
    [InlineData("Realtime:SseHeartbeatInterval", "00:00:00")]
    [InlineData("Realtime:LongPollTimeout", "00:02:00")] // above LongPollMaxTimeout (60 s)
    [InlineData("Realtime:MaxEventDataBytes", "20000")] // above MaxPublishBodyBytes (16384)
    [InlineData("Realtime:WebSocketKeepAliveTimeout", "00:20:00")]
    [InlineData("Realtime:RedisKeyPrefix", "has spaces")]
    [InlineData("Realtime:MaxSseConnections", "0")]
    [InlineData("Realtime:SendTimeout", "00:00:00")]
    [InlineData("Realtime:PublishKey", "too-short")]
    [InlineData("Realtime:PublishBurst", "10")] // below PublishPermitsPerSecond (50)
    public void BadSettingIsRefusedNamingIt(string setting, string value)
    {
        using var app = new RealtimeDemoApplication(new Dictionary<string, string?> { [setting] = value });

        var failure = Assert.Throws<OptionsValidationException>(() => app.Server);

        Assert.Contains(setting, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RedisStoreWithoutAConnectionStringIsRefusedNamingIt()
    {
        using var app = new RealtimeDemoApplication(new Dictionary<string, string?> { ["Realtime:Store"] = "Redis" });

        var failure = Assert.Throws<OptionsValidationException>(() => app.Server);

        Assert.Contains("ConnectionStrings:Redis", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultSettingsAreValid()
    {
        var configuration = new ConfigurationBuilder().Build();
        using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddEventLog(configuration)
            .AddDemoTicker(configuration)
            .AddPublishing()
            .AddTransports()
            .AddLimits()
            .AddOriginCheck()
            .BuildServiceProvider();

        // Each feature's settings, with nothing configured, pass their own validation.
        Assert.Equal(10_000, services.GetRequiredService<IOptions<EventLogOptions>>().Value.Retention);
        Assert.Equal(1, services.GetRequiredService<IOptions<TickerOptions>>().Value.TickerEventsPerSecond);
        Assert.Equal(4096, services.GetRequiredService<IOptions<PublishingOptions>>().Value.MaxEventDataBytes);
        Assert.Equal(TimeSpan.FromSeconds(25), services.GetRequiredService<IOptions<TransportOptions>>().Value.LongPollTimeout);
        Assert.Equal(10_000, services.GetRequiredService<IOptions<ConnectionLimitsOptions>>().Value.MaxSseConnections);
        Assert.Empty(services.GetRequiredService<IOptions<OriginOptions>>().Value.AllowedOrigins);
    }

    [Fact]
    public async Task HostWithABadSettingExitsAtStartNamingIt()
    {
        await using var host = new HostProcess(new Dictionary<string, string?> { ["Realtime__SseHeartbeatInterval"] = "banana" });

        var exitCode = await host.WaitForExitAsync(TestClients.Deadline(Deadlines.Slow));

        Assert.NotEqual(0, exitCode);
        Assert.Contains("SseHeartbeatInterval", host.Output, StringComparison.Ordinal);
    }
}
