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
    /// <summary>
    /// Runs <paramref name="connect"/> on <paramref name="socket"/>: a handshake the server answers with an error status
    /// throws <see cref="HttpRequestException"/> carrying that status, and a socket that fails to connect is disposed.
    /// </summary>
    public static async Task<ClientWebSocket> HandshakeAsync(this ClientWebSocket socket, Func<ClientWebSocket, Task> connect)
    {
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await connect(socket);
            return socket;
        }
        catch (WebSocketException exception) when ((int)socket.HttpStatusCode >= 400)
        {
            var status = socket.HttpStatusCode;
            socket.Dispose();
            throw new HttpRequestException($"The WebSocket handshake was answered {(int)status}.", exception, status);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A well-formed cursor from another epoch: 'z' never appears in the hex epochs a host draws.</summary>
    public const string ForeignCursor = "zzzzzzzzzzzz-3";

    /// <summary>
    /// The test's cancellation token: xunit's own (cancelled when the run is), also cancelled after
    /// <paramref name="seconds"/>, so that a hung test fails instead of hanging the run.
    /// </summary>
    public static CancellationToken Deadline(int seconds = Deadlines.Default)
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
    public static Task AssertInvalidAsync(this HttpResponseMessage response, string field, CancellationToken cancellationToken) =>
        response.AssertProblemAsync(400, field, cancellationToken);

    /// <summary>The same check for a response read without <see cref="HttpClient"/> (a refused WebSocket upgrade).</summary>
    public static Task AssertInvalidAsync(int statusCode, string? mediaType, Stream body, string field, CancellationToken cancellationToken) =>
        AssertProblemAsync(statusCode, mediaType, body, 400, field, cancellationToken);

    /// <summary>
    /// Asserts a problem-details answer of <paramref name="status"/> with a title; where <paramref name="field"/> is
    /// given, its <c>errors</c> must name it. Returns the problem, for checks of its own.
    /// </summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, int status, string? field, CancellationToken cancellationToken) =>
        AssertProblem(
            (int)response.StatusCode,
            response.Content.Headers.ContentType?.MediaType,
            await response.Content.ReadAsStringAsync(cancellationToken),
            status,
            field);

    /// <summary>The same check for a response read without <see cref="HttpClient"/>.</summary>
    public static async Task<JsonElement> AssertProblemAsync(int statusCode, string? mediaType, Stream body, int status, string? field, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(body, Encoding.UTF8, leaveOpen: true);
        return AssertProblem(statusCode, mediaType, await reader.ReadToEndAsync(cancellationToken), status, field);
    }

    private static JsonElement AssertProblem(int statusCode, string? mediaType, string body, int status, string? field)
    {
        Assert.True(status == statusCode, $"Expected {status}, got {statusCode}: {body}");
        Assert.Equal("application/problem+json", mediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.RootElement.GetProperty("title").GetString()), $"A problem without a title: {body}");
        if (field is not null)
        {
            var errors = problem.RootElement.GetProperty("errors");
            Assert.True(errors.TryGetProperty(field, out _), $"Expected the problem to name '{field}', but its errors are {errors.GetRawText()}.");
        }

        return problem.RootElement.Clone();
    }

    /// <summary>
    /// Asks <paramref name="condition"/> again, a poll interval apart, until it holds: for state that has no change
    /// notification (a counter, a health check, a lease). The token's deadline fails the test otherwise.
    /// </summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, CancellationToken cancellationToken)
    {
        while (!await condition())
        {
            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    // Short next to any deadline, long enough not to spin a core while a host does the work being waited for.
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(15);

    /// <summary>The counters <c>GET /api/stats</c> shows for <paramref name="transport"/> (e.g. <c>long-poll</c>): <c>open</c>, <c>dropped</c>, …</summary>
    public static async Task<JsonElement> TransportStatsAsync(this HttpClient client, string transport, CancellationToken cancellationToken)
    {
        using var stats = JsonDocument.Parse(await client.GetStringAsync("/api/stats", cancellationToken));
        return stats.RootElement.GetProperty("transports").GetProperty(transport).Clone();
    }

    /// <summary>Waits until <c>GET /api/stats</c> shows <paramref name="open"/> open connections of <paramref name="transport"/> (e.g. <c>long-poll</c>).</summary>
    public static Task WaitForOpenConnectionsAsync(this HttpClient client, string transport, long open, CancellationToken cancellationToken) =>
        WaitUntilAsync(async () => (await client.TransportStatsAsync(transport, cancellationToken)).GetProperty("open").GetInt64() == open, cancellationToken);

    /// <summary>
    /// Polls <paramref name="path"/> (short or long, with or without a query) from <paramref name="cursor"/>, following
    /// each answer's cursor, until <paramref name="count"/> events have arrived; a gap fails the test. With
    /// <paramref name="interval"/>, a short-poll client's pause between polls.
    /// </summary>
    public static async Task<List<WireEvent>> PollUntilAsync(this HttpClient client, string path, string cursor, int count, CancellationToken cancellationToken, TimeSpan? interval = null)
    {
        var events = new List<WireEvent>(count);
        while (events.Count < count)
        {
            if (interval is { } pause)
            {
                await Task.Delay(pause, cancellationToken);
            }

            var body = await client.PollAsync($"{path}{(path.Contains('?') ? '&' : '?')}after={cursor}", cancellationToken);
            Assert.False(body.Gap, $"A gap after {cursor}.");
            events.AddRange(body.Events);
            cursor = body.Cursor;
        }

        return events;
    }

    /// <summary>The headers of a WebSocket upgrade request (RFC 6455 4.1), with the RFC's sample key.</summary>
    public static IReadOnlyList<(string Name, string Value)> UpgradeHeaders { get; } =
    [
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    /// <summary>A WebSocket upgrade as a plain request, to see how the server answers it (<see cref="HttpClient"/> cannot go on to use the socket).</summary>
    public static HttpRequestMessage UpgradeRequest(string pathAndQuery)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        foreach (var (name, value) in UpgradeHeaders)
        {
            request.Headers.Add(name, value);
        }

        return request;
    }

    /// <summary>The cursor at the head of the stream now ("from now").</summary>
    public static async Task<string> HeadCursorAsync(this HttpClient client, CancellationToken cancellationToken) =>
        (await client.PollAsync("/api/poll", cancellationToken)).Cursor;

    /// <summary>Opens an SSE stream and parses it with the platform's <see cref="SseParser"/>.</summary>
    public static async Task<(HttpResponseMessage Response, IAsyncEnumerator<SseItem<string>> Items)> OpenSseAsync(
        this HttpClient client, string path, CancellationToken cancellationToken, string? lastEventId = null)
    {
        // The client's HTTP version, as its own GetAsync would use (HTTP/2 for an HTTP/2 client).
        var request = new HttpRequestMessage(HttpMethod.Get, path) { Version = client.DefaultRequestVersion, VersionPolicy = client.DefaultVersionPolicy };
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return (response, SseParser.Create(stream).EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken));
    }

    /// <summary>
    /// Reads SSE items until <paramref name="count"/> events (default event type) have arrived; gaps are returned too.
    /// The <c>welcome</c> and <c>heartbeat</c> events are skipped, as a client takes them apart from the stream's
    /// events, unless <paramref name="welcomeAndHeartbeats"/> asks for them: with the tests' 0.5 s heartbeat one may
    /// come between any two items.
    /// </summary>
    public static async Task<List<SseItem<string>>> ReadSseAsync(
        this IAsyncEnumerator<SseItem<string>> items, int count, bool welcomeAndHeartbeats = false)
    {
        var read = new List<SseItem<string>>();
        var events = 0;
        while (events < count && await items.MoveNextAsync())
        {
            if (!welcomeAndHeartbeats && items.Current.EventType is "welcome" or "heartbeat")
            {
                continue;
            }

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

    /// <summary>
    /// Receives one whole text message; null when the server closed instead. Heartbeat messages are skipped, as a
    /// client takes them apart from the stream (with the tests' 0.5 s heartbeat one may come between any two
    /// messages), unless <paramref name="heartbeats"/> asks for them.
    /// </summary>
    public static async Task<JsonElement?> ReceiveJsonAsync(this WebSocket socket, CancellationToken cancellationToken, bool heartbeats = false)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
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

            var message = JsonDocument.Parse(buffer.AsMemory(0, length)).RootElement.Clone();
            if (heartbeats || !IsHeartbeat(message))
            {
                return message;
            }
        }
    }

    private static bool IsHeartbeat(JsonElement message) =>
        message.ValueKind == JsonValueKind.Object && message.TryGetProperty("control", out var control) && control.ValueEquals("heartbeat");

    /// <summary>Receives one whole text message (heartbeats skipped unless asked for); the server closing instead fails the test.</summary>
    public static async Task<JsonElement> ReceiveNextAsync(this WebSocket socket, CancellationToken cancellationToken, bool heartbeats = false) =>
        await socket.ReceiveJsonAsync(cancellationToken, heartbeats) ?? throw new InvalidOperationException("The server closed the socket.");

    /// <summary>Connects to the in-memory host's <c>/ws</c> and takes the welcome, which must come first.</summary>
    public static async Task<(WebSocket Socket, JsonElement Welcome)> ConnectWelcomedAsync(
        this RealtimeDemoApplication app, string query, CancellationToken cancellationToken)
    {
        var socket = await app.Server.CreateWebSocketClient().ConnectAsync(new Uri(app.Server.BaseAddress, "ws" + query), cancellationToken);
        var welcome = await socket.ReceiveNextAsync(cancellationToken);
        Assert.Equal("welcome", welcome.GetProperty("control").GetString());
        Assert.True(welcome.TryGetProperty("cursor", out _), $"The welcome has no cursor: {welcome}");
        return (socket, welcome);
    }

    /// <summary>
    /// Receives until the server's close frame and returns its status. Whatever the server sent before it is skipped,
    /// but each message must still be whole JSON.
    /// </summary>
    public static async Task<WebSocketCloseStatus?> ReceiveUntilCloseAsync(this WebSocket socket, CancellationToken cancellationToken)
    {
        while (await socket.ReceiveJsonAsync(cancellationToken) is not null)
        {
        }

        return socket.CloseStatus;
    }

    /// <summary>Receives messages until <paramref name="count"/> events (messages with <c>type</c>) have arrived; control messages are skipped.</summary>
    public static async Task<List<WireEvent>> ReceiveEventsAsync(this WebSocket socket, int count, CancellationToken cancellationToken)
    {
        var events = new List<WireEvent>(count);
        while (events.Count < count)
        {
            var message = await socket.ReceiveNextAsync(cancellationToken);
            if (message.TryGetProperty("seq", out _))
            {
                events.Add(message.Deserialize<WireEvent>(Json)!);
            }
        }

        return events;
    }

    /// <summary>
    /// Receives <paramref name="count"/> events where nothing may be lost: any control message but the welcome (a gap,
    /// an error) fails the test.
    /// </summary>
    public static async Task<List<WireEvent>> ReceiveEventsWithoutGapAsync(this WebSocket socket, int count, CancellationToken cancellationToken)
    {
        var events = new List<WireEvent>(count);
        while (events.Count < count)
        {
            var message = await socket.ReceiveNextAsync(cancellationToken);
            if (message.TryGetProperty("control", out var control))
            {
                Assert.True(control.GetString() == "welcome", $"Expected only events, received {message.GetRawText()}.");
                continue;
            }

            events.Add(message.Deserialize<WireEvent>(Json)!);
        }

        return events;
    }

    /// <summary>
    /// Expects the server's close for an expired reader token (4401) with nothing sent before it: in particular not the
    /// event <paramref name="publishedAfter"/>, published after the expiry.
    /// </summary>
    public static async Task ExpectClosedAtExpiryAsync(this WebSocket socket, string publishedAfter, CancellationToken cancellationToken)
    {
        var rest = new List<JsonElement>();
        while (await socket.ReceiveJsonAsync(cancellationToken) is { } message)
        {
            rest.Add(message);
        }

        Assert.True(rest.Count == 0, $"Sent past the expiry (the event published after it is {publishedAfter}): {string.Join(", ", rest)}");
        Assert.Equal(4401, (int?)socket.CloseStatus);
        Assert.Equal("token expired", socket.CloseStatusDescription);
    }

    public static Task SendJsonAsync(this WebSocket socket, object message, CancellationToken cancellationToken) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(message, Json)), WebSocketMessageType.Text, true, cancellationToken);
}
