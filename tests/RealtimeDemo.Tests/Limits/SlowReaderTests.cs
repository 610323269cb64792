using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Limits;

/// <summary>Runs alone: it measures the managed heap, which other tests running alongside would disturb.</summary>
[CollectionDefinition(nameof(SlowReaderTests), DisableParallelization = true)]
public sealed class SlowReaderCollection;

/// <summary>
/// A client that opens a stream and never reads: the host keeps its memory while events flood past, and drops the
/// connection once a write has been blocked for <c>Realtime:SendTimeout</c>.
/// </summary>
[Collection(nameof(SlowReaderTests))]
public sealed class SlowReaderTests
{
    private const int Retention = 1000;
    private const int FloodEvents = 20_000;

    // ~2 KB per event: the flood is ~40 MB of JSON (and as much again of SSE frames) through a reader that takes none.
    private static readonly JsonElement Payload = JsonSerializer.SerializeToElement(new { text = new string('x', 2000) });

    [Theory]
    [InlineData("sse")]
    [InlineData("websocket")]
    public async Task MemoryStaysBoundedWhileAReaderThatNeverReadsIsFlooded(string transport)
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        await using var app = new KestrelApplication(Settings(sendTimeout: "00:10:00"));
        var log = app.Services.GetRequiredService<IEventLog>();
        using var client = app.CreateSocketClient();

        // The ring full before measuring, so the log's own share of the heap is the same before and after.
        await AppendAsync(log, Retention, cancellationToken);
        var before = GC.GetTotalMemory(forceFullCollection: true);

        using var reader = await OpenAndNeverReadAsync(app, transport, cancellationToken);
        await client.WaitForOpenConnectionsAsync(transport, 1, cancellationToken);
        await AppendAsync(log, FloodEvents, cancellationToken);
        var after = GC.GetTotalMemory(forceFullCollection: true);

        var flooded = (long)FloodEvents * Payload.GetRawText().Length;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{transport}: managed heap {before / 1024.0 / 1024:0.0} MB before, {after / 1024.0 / 1024:0.0} MB after {flooded / 1024.0 / 1024:0} MB of events flooded past a reader that never reads");
        // Were the reader's backlog held for it, the heap would grow by at least the flood (~40 MB).
        Assert.True(after - before < 8 * 1024 * 1024, $"the heap grew by {(after - before) / 1024} KB");
        Assert.Equal(1, (await client.TransportStatsAsync(transport, cancellationToken)).GetProperty("open").GetInt64());
    }

    [Theory]
    [InlineData("sse")]
    [InlineData("websocket")]
    public async Task AReaderThatNeverReadsIsDroppedOnceAWriteIsBlockedForTheSendTimeout(string transport)
    {
        var cancellationToken = TestClients.Deadline(Deadlines.Load);
        var sendTimeout = TimeSpan.FromSeconds(1);
        var checkPeriod = sendTimeout / 4; // the watchdog's, for this timeout
        var logs = new LogCapture();

        // The watchdog's clock moves only when the test moves it: the drop is placed against the timeout exactly. (The
        // host's other users of TimeProvider here are event times and heartbeats, which a blocked stream never sends.)
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = new KestrelApplication(Settings(sendTimeout: sendTimeout.ToString()), services: services =>
        {
            logs.Register(services);
            services.AddSingleton<TimeProvider>(time);
        });
        var log = app.Services.GetRequiredService<IEventLog>();
        using var client = app.CreateSocketClient();
        using var reader = await OpenAndNeverReadAsync(app, transport, cancellationToken);
        await client.WaitForOpenConnectionsAsync(transport, 1, cancellationToken);

        // The flood fills the socket buffers on both sides, so the host's write blocks before it ends, with the clock still.
        await AppendAsync(log, FloodEvents, cancellationToken);
        Assert.DoesNotContain(logs.Lines, IsDropLine);

        // Up to the timeout, the watchdog checks (within each Advance) and leaves the connection be.
        for (var advanced = checkPeriod; advanced <= sendTimeout; advanced += checkPeriod)
        {
            time.Advance(checkPeriod);
            Assert.DoesNotContain(logs.Lines, IsDropLine);
            var stats = await client.TransportStatsAsync(transport, cancellationToken);
            Assert.True(stats.GetProperty("open").GetInt64() == 1 && stats.GetProperty("dropped").GetInt64() == 0, $"Dropped {advanced} into a {sendTimeout} timeout: {stats}");
        }

        // The first check after the write has been blocked for longer than the timeout drops it: no later than one
        // check period past it.
        time.Advance(checkPeriod);
        var drop = await logs.WaitForAsync(e => IsDropLine(e.MessageTemplate.Text), TestClients.Deadline());

        Assert.Equal($"\"{transport}\"", drop.Properties["Transport"].ToString());
        await client.WaitForOpenConnectionsAsync(transport, 0, cancellationToken);
        Assert.Equal(1, (await client.TransportStatsAsync(transport, cancellationToken)).GetProperty("dropped").GetInt64());

        // The client, reading at last, finds its stream ended after what was buffered for it.
        var stream = reader.GetStream();
        var buffer = new byte[64 * 1024];
        try
        {
            while (await stream.ReadAsync(buffer, cancellationToken) > 0)
            {
            }
        }
        catch (IOException)
        {
            // Reset rather than closed: also an end.
        }
    }

    private static Dictionary<string, string?> Settings(string sendTimeout) => new()
    {
        ["Realtime:Retention"] = Retention.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Realtime:SendTimeout"] = sendTimeout,
        ["Realtime:MaxEventDataBytes"] = "4096",
    };

    private static bool IsDropLine(string text) => text.StartsWith("Dropped a", StringComparison.Ordinal);

    private static async Task AppendAsync(IEventLog log, int count, CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            await log.AppendAsync("flood", Payload, cancellationToken);
        }
    }

    /// <summary>Opens the stream over a raw socket with a small receive buffer, reads the response head, and stops.</summary>
    private static async Task<TcpClient> OpenAndNeverReadAsync(KestrelApplication app, string transport, CancellationToken cancellationToken)
    {
        const int ReceiveBufferSize = 4096;
        var (socket, status, head) = transport == "sse"
            ? await RawWebSocket.RequestAsync(app.BaseAddress, $"GET /api/sse HTTP/1.1\r\nHost: {app.BaseAddress.Authority}\r\n\r\n", cancellationToken, ReceiveBufferSize)
            : await RawWebSocket.HandshakeAsync(app.BaseAddress, "/ws", cancellationToken, receiveBufferSize: ReceiveBufferSize);
        Assert.True(status == (transport == "sse" ? 200 : 101), head);
        return socket;
    }
}
