using System.Net;
using System.Net.Http.Json;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Transports;

/// <summary><c>GET /api/poll</c>: answers at once with what lies after the cursor.</summary>
public sealed class ShortPollTests() : PollTransportTests("/api/poll")
{
    [Fact]
    public async Task WithoutAfterStartsFromNowWithoutHistory()
    {
        var cancellationToken = TestClients.Deadline();
        var client = App.CreateClient();
        var published = await client.PublishManyAsync(3, cancellationToken);

        using var response = await client.GetAsync(Url(null), cancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore, "A poll answer must not be cached.");
        var body = (await response.Content.ReadFromJsonAsync<PollBody>(TestClients.Json, cancellationToken))!;
        Assert.Empty(body.Events);
        Assert.False(body.Gap);
        Assert.Equal(published[^1].Id, body.Cursor);
    }
}
