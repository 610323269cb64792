using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>An event as a client receives it on any transport.</summary>
public sealed record WireEvent(string Id, long Seq, string Type, JsonElement Data, DateTimeOffset Time);

/// <summary>A poll response body, short or long.</summary>
public sealed record PollBody(List<WireEvent> Events, string Cursor, bool Gap);

/// <summary>Client-side helpers for the wire contract, shared by every test that talks to a host.</summary>
public static class TestClients
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A well-formed cursor from another epoch: 'z' never appears in the hex epochs a host draws.</summary>
    public const string ForeignCursor = "zzzzzzzzzzzz-3";

    /// <summary>A token that fails a hung test after <paramref name="seconds"/> instead of hanging the run.</summary>
    public static CancellationToken Deadline(int seconds = 15)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        source.CancelAfter(TimeSpan.FromSeconds(seconds));
        return source.Token;
    }

    public static async Task<WireEvent> PublishAsync(this HttpClient client, string type, object data, CancellationToken cancellationToken)
    {
        using var response = await client.PostAsJsonAsync("/api/events", new { type, data }, Json, cancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<WireEvent>(Json, cancellationToken))!;
    }

    /// <summary>Publishes <paramref name="count"/> events of type <c>test</c>, data <c>{"n": i}</c>, one after another.</summary>
    public static async Task<List<WireEvent>> PublishManyAsync(this HttpClient client, int count, CancellationToken cancellationToken)
    {
        var published = new List<WireEvent>(count);
        for (var i = 0; i < count; i++)
        {
            published.Add(await client.PublishAsync("test", new { n = i }, cancellationToken));
        }

        return published;
    }

    public static async Task<PollBody> PollAsync(this HttpClient client, string path, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(path, cancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PollBody>(Json, cancellationToken))!;
    }

    /// <summary>Asserts a <c>400</c> problem-details answer whose <c>errors</c> name <paramref name="field"/>.</summary>
    public static async Task AssertInvalidAsync(this HttpResponseMessage response, string field, CancellationToken cancellationToken) =>
        await AssertInvalidAsync(
            (int)response.StatusCode,
            response.Content.Headers.ContentType?.MediaType,
            await response.Content.ReadAsStreamAsync(cancellationToken),
            field,
            cancellationToken);

    /// <summary>The same check for a response read without <see cref="HttpClient"/> (a refused WebSocket upgrade).</summary>
    public static async Task AssertInvalidAsync(int statusCode, string? mediaType, Stream body, string field, CancellationToken cancellationToken)
    {
        Assert.Equal(400, statusCode);
        Assert.Equal("application/problem+json", mediaType);
        using var problem = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
        Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
        var errors = problem.RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), $"Expected the problem to name '{field}', but its errors are {errors.GetRawText()}.");
    }

    /// <summary>Waits until <c>GET /api/stats</c> shows <paramref name="open"/> open connections of <paramref name="transport"/> (e.g. <c>long-poll</c>).</summary>
    public static async Task WaitForOpenConnectionsAsync(this HttpClient client, string transport, long open, CancellationToken cancellationToken)
    {
        // The counter has no change notification: ask again until it holds; the token's deadline fails the test otherwise.
        while (true)
        {
            using var stats = JsonDocument.Parse(await client.GetStringAsync("/api/stats", cancellationToken));
            if (stats.RootElement.GetProperty("transports").GetProperty(transport).GetProperty("open").GetInt64() == open)
            {
                return;
            }
        }
    }

    /// <summary>The cursor at the head of the stream now ("from now").</summary>
    public static async Task<string> HeadCursorAsync(this HttpClient client, CancellationToken cancellationToken) =>
        (await client.PollAsync("/api/poll", cancellationToken)).Cursor;

    /// <summary>Opens an SSE stream and parses it with the platform's <see cref="SseParser"/>.</summary>
    public static async Task<(HttpResponseMessage Response, IAsyncEnumerator<SseItem<string>> Items)> OpenSseAsync(
        this HttpClient client, string path, CancellationToken cancellationToken, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return (response, SseParser.Create(stream).EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken));
    }

    /// <summary>Reads SSE items until <paramref name="count"/> events (default event type) have arrived; other items are returned too.</summary>
    public static async Task<List<SseItem<string>>> ReadSseAsync(this IAsyncEnumerator<SseItem<string>> items, int count)
    {
        var read = new List<SseItem<string>>();
        var events = 0;
        while (events < count && await items.MoveNextAsync())
        {
            read.Add(items.Current);
            if (items.Current.EventType == SseParser.EventTypeDefault)
            {
                events++;
            }
        }

        Assert.Equal(count, events);
        return read;
    }

    public static WireEvent ToEvent(this SseItem<string> item) => JsonSerializer.Deserialize<WireEvent>(item.Data, Json)!;

    /// <summary>Receives one whole text message; null when the server closed instead.</summary>
    public static async Task<JsonElement?> ReceiveJsonAsync(this WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var length = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            length += result.Count;
        }
        while (!result.EndOfMessage);

        if (result.MessageType == WebSocketMessageType.Close)
        {
            return null;
        }

        return JsonDocument.Parse(buffer.AsMemory(0, length)).RootElement.Clone();
    }

    /// <summary>Receives messages until <paramref name="count"/> events (messages with <c>type</c>) have arrived; control messages are skipped.</summary>
    public static async Task<List<WireEvent>> ReceiveEventsAsync(this WebSocket socket, int count, CancellationToken cancellationToken)
    {
        var events = new List<WireEvent>(count);
        while (events.Count < count)
        {
            var message = await socket.ReceiveJsonAsync(cancellationToken) ?? throw new InvalidOperationException("The server closed the socket.");
            if (message.TryGetProperty("seq", out _))
            {
                events.Add(message.Deserialize<WireEvent>(Json)!);
            }
        }

        return events;
    }

    public static Task SendJsonAsync(this WebSocket socket, object message, CancellationToken cancellationToken) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(message, Json)), WebSocketMessageType.Text, true, cancellationToken);
}
