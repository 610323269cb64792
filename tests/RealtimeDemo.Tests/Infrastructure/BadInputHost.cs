using System.Net;
using System.Net.ServerSentEvents;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Xunit.Sdk;
using Xunit.v3;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// One real Kestrel host for a whole class of bad inputs, with an SSE stream and a WebSocket opened at the start
/// of the stream and kept open throughout: whatever the bad inputs do, both must still deliver every event, in order.
/// </summary>
/// <remarks>
/// Each row of the class publishes events of its own; the rate limit is raised so that hundreds of rows from one
/// address are never refused with 429, which would hide the status under test.
/// </remarks>
public abstract class BadInputHost(IReadOnlyDictionary<string, string?> settings) : IAsyncLifetime
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<JsonElement> _sseMessages = Channel.CreateUnbounded<JsonElement>();
    private readonly Channel<JsonElement> _webSocketMessages = Channel.CreateUnbounded<JsonElement>();
    private Task _sseReading = Task.CompletedTask;
    private Task _webSocketReading = Task.CompletedTask;
    private long _lastSeenSeq;

    public KestrelApplication App { get; } = new(new Dictionary<string, string?>(settings)
    {
        ["Realtime:PublishPermitsPerSecond"] = "100000",
        ["Realtime:PublishBurst"] = "100000",
    });

    public async ValueTask InitializeAsync()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = App.CreateSocketClient();
        var start = await client.HeadCursorAsync(cancellationToken);
        Assert.EndsWith("-0", start);

        var sseClient = App.CreateSocketClient();
        var (response, items) = await sseClient.OpenSseAsync($"/api/sse?after={start}", _stop.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        _sseReading = ReadSseAsync(sseClient, response, items);

        var socket = await App.ConnectWebSocketAsync($"/ws?after={start}", cancellationToken);

        // Read all along, not only at the end: the client answers the server's keep-alive pings only while it reads.
        _webSocketReading = ReadWebSocketAsync(socket);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_sseReading, _webSocketReading).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await App.DisposeAsync();
        _stop.Dispose();
    }

    /// <summary>
    /// The host still answers <c>/healthz</c>, takes a publish, and the SSE stream and WebSocket opened at the start
    /// have received every event since, seq 1, 2, 3 … with no gap, no duplicate and no control message in between,
    /// up to and including events published now.
    /// </summary>
    public async Task AssertStillServesAndStreamsFlowAsync(CancellationToken cancellationToken)
    {
        using var client = App.CreateSocketClient();
        using var health = await client.GetAsync("/healthz", cancellationToken);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("Healthy", await health.Content.ReadAsStringAsync(cancellationToken));

        var published = await client.PublishManyAsync(3, cancellationToken);
        var last = published[^1].Seq;
        Assert.True(last > _lastSeenSeq, $"The newest seq {last} is not past the last one checked ({_lastSeenSeq}).");

        await AssertContiguousAsync("SSE", _sseMessages.Reader, _lastSeenSeq, last, cancellationToken);
        await AssertContiguousAsync("WebSocket", _webSocketMessages.Reader, _lastSeenSeq, last, cancellationToken);
        _lastSeenSeq = last;
    }

    private static async Task AssertContiguousAsync(string transport, ChannelReader<JsonElement> messages, long after, long until, CancellationToken cancellationToken)
    {
        for (var expected = after + 1; expected <= until; expected++)
        {
            var message = await messages.ReadAsync(cancellationToken);
            Assert.True(message.TryGetProperty("seq", out var seq), $"{transport} received {message} where seq {expected} was due.");
            Assert.Equal(expected, seq.GetInt64());
        }
    }

    private async Task ReadSseAsync(HttpClient client, HttpResponseMessage response, IAsyncEnumerator<SseItem<string>> items)
    {
        try
        {
            while (await items.MoveNextAsync())
            {
                // The welcome and heartbeats are no part of the stream being checked.
                if (items.Current.EventType is "welcome" or "heartbeat")
                {
                    continue;
                }

                // A gap frame is passed on as it is: it has no seq, so the check above names it.
                await _sseMessages.Writer.WriteAsync(JsonDocument.Parse(items.Current.Data).RootElement.Clone(), _stop.Token);
            }

            _sseMessages.Writer.TryComplete(new InvalidOperationException("The SSE stream ended."));
        }
        catch (Exception exception)
        {
            _sseMessages.Writer.TryComplete(exception);
        }
        finally
        {
            await items.DisposeAsync();
            response.Dispose();
            client.Dispose();
        }
    }

    private async Task ReadWebSocketAsync(ClientWebSocket socket)
    {
        try
        {
            while (await socket.ReceiveJsonAsync(_stop.Token) is { } message)
            {
                await _webSocketMessages.Writer.WriteAsync(message, _stop.Token);
            }

            _webSocketMessages.Writer.TryComplete(new InvalidOperationException($"The server closed the WebSocket ({socket.CloseStatus}: {socket.CloseStatusDescription})."));
        }
        catch (Exception exception)
        {
            _webSocketMessages.Writer.TryComplete(exception);
        }
        finally
        {
            socket.Dispose();
        }
    }
}

/// <summary>Runs the test cases carrying the trait <c>Order=Last</c> after all the others of their class.</summary>
public sealed class LastTestsLastOrderer : ITestCaseOrderer
{
    public IReadOnlyCollection<TTestCase> OrderTestCases<TTestCase>(IReadOnlyCollection<TTestCase> testCases)
        where TTestCase : notnull, ITestCase =>
        testCases
            .OrderBy(testCase => testCase.Traits.TryGetValue("Order", out var order) && order.Contains("Last"))
            .ThenBy(testCase => testCase.UniqueID, StringComparer.Ordinal)
            .ToList();
}
