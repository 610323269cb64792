using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RealtimeDemo.Events;
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
    public void BadSettingIsRefusedNamingIt(string setting, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new(setting, value)]).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddEventLog(configuration).BuildServiceProvider();

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<RealtimeOptions>>().Value);

        Assert.Contains(setting, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RedisStoreWithoutAConnectionStringIsRefusedNamingIt()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new("Realtime:Store", "Redis")]).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddEventLog(configuration).BuildServiceProvider();

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<RealtimeOptions>>().Value);

        Assert.Contains("ConnectionStrings:Redis", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultSettingsAreValid()
    {
        var configuration = new ConfigurationBuilder().Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddEventLog(configuration).BuildServiceProvider();

        Assert.Equal(10_000, services.GetRequiredService<IOptions<RealtimeOptions>>().Value.Retention);
    }

    [Fact]
    public async Task HostWithABadSettingExitsAtStartNamingIt()
    {
        await using var host = new HostProcess(new Dictionary<string, string?> { ["Realtime__SseHeartbeatInterval"] = "banana" });

        var exitCode = await host.WaitForExitAsync(TestClients.Deadline(30));

        Assert.NotEqual(0, exitCode);
        Assert.Contains("SseHeartbeatInterval", host.Output, StringComparison.Ordinal);
    }
}
