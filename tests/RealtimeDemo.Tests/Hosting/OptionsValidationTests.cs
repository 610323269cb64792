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
    [InlineData("Realtime:TickerEventsPerSecond", "10000.5")]
    [InlineData("Realtime:ReadBatchSize", "0")]
    [InlineData("Realtime:HeartbeatInterval", "00:00:00")]
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
        using var services = Compose(new Dictionary<string, string?> { [setting] = value });

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(setting, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RedisStoreWithoutAConnectionStringIsRefusedNamingIt()
    {
        using var services = Compose(new Dictionary<string, string?> { ["Realtime:Store"] = "Redis" });

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("ConnectionStrings:Redis", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultSettingsAreValid()
    {
        using var services = Compose([]);

        services.GetRequiredService<IStartupValidator>().Validate();
        Assert.Equal(10_000, services.GetRequiredService<IOptions<EventLogOptions>>().Value.Retention);
        Assert.Equal(1, services.GetRequiredService<IOptions<TickerOptions>>().Value.TickerEventsPerSecond);
        Assert.Equal(4096, services.GetRequiredService<IOptions<PublishingOptions>>().Value.MaxEventDataBytes);
        Assert.Equal(TimeSpan.FromSeconds(25), services.GetRequiredService<IOptions<TransportOptions>>().Value.LongPollTimeout);
        Assert.Equal(10_000, services.GetRequiredService<IOptions<ConnectionLimitsOptions>>().Value.MaxSseConnections);
        Assert.Empty(services.GetRequiredService<IOptions<OriginOptions>>().Value.AllowedOrigins);
    }

    /// <summary>The real process: it stops before serving, and its log names the setting.</summary>
    [Theory]
    [InlineData("Realtime__HeartbeatInterval", "banana", "HeartbeatInterval")]
    [InlineData("Realtime__Store", "Redis", "ConnectionStrings:Redis")]
    [InlineData("Realtime__RequireReaderToken", "true", "Realtime:TokenSigningKey")]
    public async Task HostWithABadSettingExitsAtStartNamingIt(string variable, string value, string named)
    {
        await using var host = new HostProcess(new Dictionary<string, string?> { [variable] = value });

        var exitCode = await host.WaitForExitAsync(TestClients.Deadline(Deadlines.Slow));

        Assert.NotEqual(0, exitCode);
        Assert.Contains(named, host.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Every feature's settings as the host registers them, each validated at start (what <see cref="IStartupValidator"/>
    /// runs before the host serves), from the given configuration alone.
    /// </summary>
    private static ServiceProvider Compose(IEnumerable<KeyValuePair<string, string?>> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddEventLog(configuration)
            .AddDemoTicker(configuration)
            .AddPublishing()
            .AddTransports()
            .AddLimits()
            .AddOriginCheck()
            .BuildServiceProvider();
    }
}
