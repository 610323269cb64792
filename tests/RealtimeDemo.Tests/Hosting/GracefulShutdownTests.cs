using System.Net;
using System.Net.ServerSentEvents;
using System.Net.WebSockets;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Hosting;

/// <summary>
/// SIGTERM to a running host: held long polls complete, SSE streams end, WebSockets close with 1001,
/// the process exits on its own, and clients pick up where they were on the next host.
/// </summary>
public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task SigtermEndsEveryConnectionCleanlyAndTheHostExits()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        await using var host = new HostProcess();
        using var client = new HttpClient { BaseAddress = await host.ListeningAsync(cancellationToken) };
        var last = (await client.PublishManyAsync(3, cancellationToken))[^1];

        // One of each long-lived connection, each caught up and waiting for more.
        var (sseResponse, sse) = await client.OpenSseAsync($"/api/sse?after={last.Id}", cancellationToken);
        using var _ = sseResponse;
        Assert.True(await sse.MoveNextAsync());
        Assert.Equal("welcome", sse.Current.EventType);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://{client.BaseAddress!.Authority}/ws?after={last.Id}"), cancellationToken);
        Assert.Equal("welcome", (await socket.ReceiveJsonAsync(cancellationToken))?.GetProperty("control").GetString());
        var longPoll = client.GetAsync($"/api/longpoll?after={last.Id}&timeout=50", cancellationToken);
        // The host counts a connection open once its handler is waiting on the log: then SIGTERM finds all three held.
        foreach (var transport in new[] { "long-poll", "sse", "websocket" })
        {
            await client.WaitForOpenConnectionsAsync(transport, 1, cancellationToken);
        }

        host.Terminate();

        Assert.Null(await socket.ReceiveJsonAsync(cancellationToken));
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.CloseStatus);
        Assert.Empty(await RestOfStreamAsync(sse)); // it ends, with no event but perhaps a heartbeat
        using var held = await longPoll;
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        Assert.Empty((await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<PollBody>(held.Content, TestClients.Json, cancellationToken))!.Events);
        Assert.Equal(0, await host.WaitForExitAsync(cancellationToken));
        Assert.Contains("websocket connection ended after", host.Output, StringComparison.Ordinal);
        Assert.Contains("server shutting down", host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientsOfAStoppedHostResumeOnTheNextOneWithAGapSignal()
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        string lastId;
        await using (var first = new HostProcess())
        {
            using var client = new HttpClient { BaseAddress = await first.ListeningAsync(cancellationToken) };
            lastId = (await client.PublishManyAsync(2, cancellationToken))[^1].Id;
            first.Terminate();
            Assert.Equal(0, await first.WaitForExitAsync(cancellationToken));
        }

        await using var second = new HostProcess();
        using var next = new HttpClient { BaseAddress = await second.ListeningAsync(cancellationToken) };

        // The in-memory log starts a new epoch: the old cursor is recognised as foreign, never mis-read.
        var (response, sse) = await next.OpenSseAsync("/api/sse", cancellationToken, lastEventId: lastId);
        using var _ = response;
        var published = await next.PublishAsync("after-restart", new { }, cancellationToken);
        var items = await sse.ReadSseAsync(1);

        Assert.Contains(items, item => item.EventType == "gap" && item.Data.Contains("epoch-changed", StringComparison.Ordinal));
        Assert.Equal(published.Id, items.Single(item => item.EventType == SseParser.EventTypeDefault).EventId);
    }

    /// <summary>Reads the SSE stream to its end and returns what came, heartbeats left out.</summary>
    private static async Task<List<SseItem<string>>> RestOfStreamAsync(IAsyncEnumerator<SseItem<string>> items)
    {
        var rest = new List<SseItem<string>>();
        while (await items.MoveNextAsync())
        {
            if (items.Current.EventType != "heartbeat")
            {
                rest.Add(items.Current);
            }
        }

        return rest;
    }
}
