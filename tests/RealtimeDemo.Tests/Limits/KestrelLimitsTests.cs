using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Limits;

/// <summary>Every <c>Kestrel:Limits</c> setting reaches the server, data rates included (the bad-input table shows the sizes at work).</summary>
public sealed class KestrelLimitsTests
{
    [Fact]
    public async Task EveryConfiguredLimitReachesKestrelDataRatesIncluded()
    {
        await using var app = new KestrelApplication(new Dictionary<string, string?>
        {
            ["Kestrel:Limits:MaxRequestLineSize"] = "4001",
            ["Kestrel:Limits:MaxRequestHeadersTotalSize"] = "12345",
            ["Kestrel:Limits:MaxRequestHeaderCount"] = "42",
            ["Kestrel:Limits:MaxRequestBodySize"] = "54321",
            ["Kestrel:Limits:RequestHeadersTimeout"] = "00:00:11",
            ["Kestrel:Limits:KeepAliveTimeout"] = "00:01:03",
            ["Kestrel:Limits:MaxConcurrentConnections"] = "1234",
            ["Kestrel:Limits:MinRequestBodyDataRate:BytesPerSecond"] = "999",
            ["Kestrel:Limits:MinRequestBodyDataRate:GracePeriod"] = "00:00:07",
            ["Kestrel:Limits:MinResponseDataRate:BytesPerSecond"] = "777",
            ["Kestrel:Limits:MinResponseDataRate:GracePeriod"] = "00:00:09",
        });

        var limits = app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Equal(4001, limits.MaxRequestLineSize);
        Assert.Equal(12345, limits.MaxRequestHeadersTotalSize);
        Assert.Equal(42, limits.MaxRequestHeaderCount);
        Assert.Equal(54321, limits.MaxRequestBodySize);
        Assert.Equal(TimeSpan.FromSeconds(11), limits.RequestHeadersTimeout);
        Assert.Equal(TimeSpan.FromSeconds(63), limits.KeepAliveTimeout);
        Assert.Equal(1234, limits.MaxConcurrentConnections);
        Assert.Equal((999d, TimeSpan.FromSeconds(7)), (limits.MinRequestBodyDataRate!.BytesPerSecond, limits.MinRequestBodyDataRate.GracePeriod));
        Assert.Equal((777d, TimeSpan.FromSeconds(9)), (limits.MinResponseDataRate!.BytesPerSecond, limits.MinResponseDataRate.GracePeriod));
    }
}
