using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RealtimeDemo.Events;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Hardening;

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
        var cancellationToken = TestClients.Deadline(60);
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
        Assert.Equal(1, (await client.GetFromJsonAsync<JsonElement>("/api/stats", cancellationToken)).GetProperty("transports").GetProperty(transport).GetProperty("open").GetInt64());
    }

    [Theory]
    [InlineData("sse")]
    [InlineData("websocket")]
    public async Task AReaderThatNeverReadsIsDroppedOnceAWriteIsBlockedForTheSendTimeout(string transport)
    {
        var cancellationToken = TestClients.Deadline(60);
        var sendTimeout = TimeSpan.FromSeconds(1);
        var logs = new LogCapture();
        await using var app = new KestrelApplication(Settings(sendTimeout: sendTimeout.ToString()), services: logs.Register);
        var log = app.Services.GetRequiredService<IEventLog>();
        using var client = app.CreateSocketClient();
        using var reader = await OpenAndNeverReadAsync(app, transport, cancellationToken);
        await client.WaitForOpenConnectionsAsync(transport, 1, cancellationToken);

        // The flood fills the socket buffers on both sides, so the host's write blocks before it ends.
        await AppendAsync(log, FloodEvents, cancellationToken);
        var floodEnded = TimeProvider.System.GetTimestamp();
        var dropped = await logs.WaitForAsync(e => e.MessageTemplate.Text.StartsWith("Dropped a", StringComparison.Ordinal), cancellationToken);
        var dropAfter = TimeProvider.System.GetElapsedTime(floodEnded);

        TestContext.Current.TestOutputHelper?.WriteLine($"{transport}: dropped {dropAfter.TotalMilliseconds:0} ms after the flood ended (send timeout {sendTimeout.TotalMilliseconds:0} ms)");
        Assert.Equal($"\"{transport}\"", dropped.Properties["Transport"].ToString());
        // Found by the watchdog within a quarter timeout of the timeout passing; the rest is slack for a busy machine.
        Assert.True(dropAfter < sendTimeout * 1.25 + TimeSpan.FromSeconds(2), $"dropped only {dropAfter} after the flood");
        await client.WaitForOpenConnectionsAsync(transport, 0, cancellationToken);
        var stats = (await client.GetFromJsonAsync<JsonElement>("/api/stats", cancellationToken)).GetProperty("transports").GetProperty(transport);
        Assert.Equal(1, stats.GetProperty("dropped").GetInt64());

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
        var socket = new TcpClient { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(app.BaseAddress.Host, app.BaseAddress.Port, cancellationToken);
        var stream = socket.GetStream();
        var request = transport == "sse"
            ? "GET /api/sse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            : "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
              + $"Sec-WebSocket-Key: {Convert.ToBase64String(new byte[16])}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);

        // One byte at a time up to the end of the head, so nothing of the body is taken.
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            Assert.Equal(1, await stream.ReadAsync(one, cancellationToken));
            head.Append((char)one[0]);
        }

        Assert.StartsWith(transport == "sse" ? "HTTP/1.1 200" : "HTTP/1.1 101", head.ToString(), StringComparison.Ordinal);
        return socket;
    }
}
