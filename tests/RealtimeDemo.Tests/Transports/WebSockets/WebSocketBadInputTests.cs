using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Transports.WebSockets;

/// <summary>
/// The host of <see cref="WebSocketBadInputTests"/>. <c>Realtime:MaxPublishBodyBytes</c>, which is also the WebSocket
/// message limit, is cut from its default 16 KiB to 4 KiB, the size the issue names; <c>Realtime:MaxEventDataBytes</c>
/// to 1 KiB, so that data too large for an event still fits in a message and earns an error frame rather than a close.
/// </summary>
public sealed class WebSocketBadInputHost() : BadInputHost(new Dictionary<string, string?>
{
    ["Realtime:MaxPublishBodyBytes"] = WebSocketBadInputTests.MaxMessageBytes.ToString(),
    ["Realtime:MaxEventDataBytes"] = WebSocketBadInputTests.MaxDataBytes.ToString(),
});

/// <summary>
/// Bad client messages on <c>/ws</c> over real Kestrel, each with its exact outcome: a protocol breach closes the
/// socket with the close code that names it; a message that is well-formed WebSocket but not an acceptable publish
/// earns an error frame naming the field, and that same socket still receives the next event. After each, the host still
/// serves and the stream flows. (Upgrades that must be refused: <see cref="BadHttpInputTests"/>.)
/// </summary>
[TestCaseOrderer(typeof(LastTestsLastOrderer))]
public sealed class WebSocketBadInputTests(WebSocketBadInputHost host) : IClassFixture<WebSocketBadInputHost>
{
    public const int MaxMessageBytes = 4_096;
    public const int MaxDataBytes = 1_024;

    /// <summary>One bad client message and what the server must do about it: close with a code, or answer with an error frame.</summary>
    public sealed record BadMessage(string Name)
    {
        public WebSocketMessageType Type { get; init; } = WebSocketMessageType.Text;

        public byte[] Payload { get; init; } = [];

        /// <summary>Sent as this many frames of one message.</summary>
        public int Fragments { get; init; } = 1;

        /// <summary>A frame sent as raw bytes after the handshake, where <see cref="ClientWebSocket"/> cannot produce it.</summary>
        public byte[]? RawFrame { get; init; }

        public WebSocketCloseStatus? Close { get; init; }

        /// <summary>The <c>field</c> of the expected <c>{"control": "error"}</c> frame.</summary>
        public string? ErrorField { get; init; }
    }

    // 32 messages answered with an error frame, 10 closed by the server over ClientWebSocket, 5 raw frames that break the
    // protocol: 47 bad messages. (Refused upgrades are rows of BadHttpInputTests.)
    public static readonly IReadOnlyList<BadMessage> Table = [.. ErrorRows(), .. CloseRows(), .. RawFrameRows()];

    public static TheoryData<string> Rows => new(Table.Select(row => row.Name));

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task BadMessageGetsItsExactOutcomeAndTheStreamStillFlows(string name)
    {
        var row = Table.Single(candidate => candidate.Name == name);
        var cancellationToken = TestClients.Deadline();
        using var client = host.App.CreateSocketClient();
        var before = await client.PublishAsync("before", new { row = name }, cancellationToken);

        if (row.RawFrame is { } frame)
        {
            Assert.Equal(row.Close, await SendRawFrameAsync(before.Id, frame, cancellationToken));
            await AssertNewSocketReceivesTheNextEventAsync(client, before, cancellationToken);
            return;
        }

        using var socket = await host.App.ConnectWebSocketAsync($"/ws?after={before.Id}", cancellationToken);
        await SendAsync(socket, row, cancellationToken);

        if (row.Close is { } status)
        {
            Assert.Null(await ReceiveOrFailAsync(socket, $"{name}: expected close {(int)status}", cancellationToken));
            Assert.Equal(status, socket.CloseStatus);
            await AssertNewSocketReceivesTheNextEventAsync(client, before, cancellationToken);
            return;
        }

        var error = await ReceiveOrFailAsync(socket, $"{name}: expected an error frame naming '{row.ErrorField}'", cancellationToken) ?? throw new InvalidOperationException($"{name}: closed ({socket.CloseStatus}) instead of an error frame.");
        Assert.Equal("error", error.GetProperty("control").GetString());
        Assert.Equal(row.ErrorField, error.GetProperty("field").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));

        // The same socket still flows: the next message it receives is the next event, which took the very next seq.
        var next = await client.PublishAsync("after", new { row = name }, cancellationToken);
        Assert.Equal(before.Seq + 1, next.Seq);
        var received = await socket.ReceiveJsonAsync(cancellationToken) ?? throw new InvalidOperationException($"{name}: closed ({socket.CloseStatus}) after the error frame.");
        Assert.Equal(next.Id, received.GetProperty("id").GetString());
    }

    [Fact]
    public async Task MessageOfExactlyTheLimitIsPublished()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = host.App.CreateSocketClient();
        var before = await client.PublishAsync("before", new { }, cancellationToken);
        using var socket = await host.App.ConnectWebSocketAsync($"/ws?after={before.Id}", cancellationToken);

        var message = Padded("""{"type":"publish","event":{"type":"edge","data":{"s":""" + $"\"{new string('x', MaxDataBytes - 8)}\"" + "}}}", MaxMessageBytes);
        await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

        var published = Assert.Single(await socket.ReceiveEventsAsync(1, cancellationToken));
        Assert.Equal(before.Seq + 1, published.Seq);
        Assert.Equal("edge", published.Type);
    }

    [Fact]
    public void RowNamesAreDistinct()
    {
        Assert.Equal(Table.Count, Table.Select(row => row.Name).Distinct().Count());
        TestContext.Current.TestOutputHelper?.WriteLine($"{Table.Count} bad messages");
    }

    [Fact]
    [Trait("Order", "Last")]
    public async Task AfterEveryBadMessageTheHostIsHealthyAndOpenStreamsStillFlow() =>
        await host.AssertStillServesAndStreamsFlowAsync(TestClients.Deadline(Deadlines.Slow));

    // The host still serves WebSockets and the stream flows: a new socket from before the bad message receives the
    // next event, which took the very next seq (nothing was published by the bad message).
    private async Task AssertNewSocketReceivesTheNextEventAsync(HttpClient client, WireEvent before, CancellationToken cancellationToken)
    {
        using var socket = await host.App.ConnectWebSocketAsync($"/ws?after={before.Id}", cancellationToken);
        var next = await client.PublishAsync("after", new { }, cancellationToken);
        Assert.Equal(before.Seq + 1, next.Seq);
        var received = await socket.ReceiveJsonAsync(cancellationToken) ?? throw new InvalidOperationException($"Closed ({socket.CloseStatus}) instead of delivering.");
        Assert.Equal(next.Id, received.GetProperty("id").GetString());
    }

    // A server that ignores the message answers nothing at all: say so, rather than only that the deadline passed.
    private static async Task<JsonElement?> ReceiveOrFailAsync(WebSocket socket, string expected, CancellationToken cancellationToken)
    {
        try
        {
            return await socket.ReceiveJsonAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"{expected}, but the server sent nothing before the deadline; the socket is {socket.State}.");
        }
    }

    private static async Task SendAsync(WebSocket socket, BadMessage row, CancellationToken cancellationToken)
    {
        var size = Math.Max(1, (row.Payload.Length + row.Fragments - 1) / row.Fragments);
        for (var sent = 0; sent < row.Fragments; sent++)
        {
            var start = Math.Min(sent * size, row.Payload.Length);
            var part = row.Payload.AsMemory(start, Math.Min(size, row.Payload.Length - start));
            await socket.SendAsync(part, row.Type, endOfMessage: sent == row.Fragments - 1, cancellationToken);
        }
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    // A message padded with whitespace to exactly totalBytes: only its size can be wrong.
    private static byte[] Padded(string message, int totalBytes) =>
        Utf8(message[..^1] + new string(' ', totalBytes - Encoding.UTF8.GetByteCount(message)) + "}");

    private static BadMessage Error(string name, string message, string field) => new(name) { Payload = Utf8(message), ErrorField = field };

    private static BadMessage Event(string name, string @event, string field) =>
        Error(name, """{"type":"publish","event":""" + @event + "}", field);

    private static IEnumerable<BadMessage> ErrorRows()
    {
        // Not JSON.
        yield return Error("unterminated object", "{not json", "message");
        yield return Error("empty message", "", "message");
        yield return Error("whitespace only", "   ", "message");
        yield return Error("trailing garbage", """{"type":"publish","event":{"type":"a","data":{}}} x""", "message");
        yield return Error("a comment", """/* c */{"type":"publish","event":{"type":"a","data":{}}}""", "message");
        yield return Error("duplicate property", """{"type":"publish","type":"publish","event":{"type":"a","data":{}}}""", "message");
        yield return Error("nested 34 deep", """{"type":"publish","event":{"type":"a","data":{"d":""" + new string('[', 31) + new string(']', 31) + "}}}", "message");
        yield return Error("lone surrogate in a data key", """{"type":"publish","event":{"type":"a","data":{"\ud800":1}}}""", "message");

        // Not a message of a known type.
        yield return Error("an array", "[]", "type");
        yield return Error("a string", "\"publish\"", "type");
        yield return Error("null", "null", "type");
        yield return Error("type missing", "{}", "type");
        yield return Error("type a number", """{"type":42}""", "type");
        yield return Error("unknown type", """{"type":"subscribe"}""", "type");
        yield return Error("type in capitals", """{"type":"PUBLISH","event":{"type":"a","data":{}}}""", "type");
        yield return Error("event missing", """{"type":"publish"}""", "event");
        yield return Error("an extra field", """{"type":"publish","event":{"type":"a","data":{}},"extra":1}""", "extra");

        // A publish breaking each publish rule.
        yield return Event("event null", "null", "event");
        yield return Event("event an array", "[]", "event");
        yield return Event("event.type missing", """{"data":{}}""", "event.type");
        yield return Event("event.type a number", """{"type":42,"data":{}}""", "event.type");
        yield return Event("event.type empty", """{"type":"","data":{}}""", "event.type");
        yield return Event("event.type of 65 characters", $$$"""{"type":"{{{new string('t', 65)}}}","data":{}}""", "event.type");
        yield return Event("event.type with bad characters", """{"type":"not a type!","data":{}}""", "event.type");
        yield return Event("event.type a lone surrogate", """{"type":"\udc00","data":{}}""", "event.type");
        yield return Event("event.data missing", """{"type":"a"}""", "event.data");
        yield return Event("event.data an array", """{"type":"a","data":[1]}""", "event.data");
        yield return Event("event.data a string", """{"type":"a","data":"hi"}""", "event.data");
        yield return Event("event.data null", """{"type":"a","data":null}""", "event.data");
        yield return Event("event.data a lone surrogate", """{"type":"a","data":{"s":"\ud800"}}""", "event.data");
        yield return Event("event.data over 1 KiB encoded", $$$"""{"type":"a","data":{"s":"{{{new string('x', MaxDataBytes - 7)}}}"}}""", "event.data");
        yield return Event("event with an extra field", """{"type":"a","data":{},"x":1}""", "event.x");
    }

    private static IEnumerable<BadMessage> CloseRows()
    {
        var valid = """{"type":"publish","event":{"type":"a","data":{}}}""";
        yield return new("binary frame") { Type = WebSocketMessageType.Binary, Payload = Utf8(valid), Close = WebSocketCloseStatus.InvalidMessageType };
        yield return new("empty binary frame") { Type = WebSocketMessageType.Binary, Close = WebSocketCloseStatus.InvalidMessageType };
        yield return new("4097 bytes") { Payload = Padded(valid, MaxMessageBytes + 1), Close = WebSocketCloseStatus.MessageTooBig };
        yield return new("4097 bytes in 3 fragments") { Payload = Padded(valid, MaxMessageBytes + 1), Fragments = 3, Close = WebSocketCloseStatus.MessageTooBig };
        yield return new("64 KiB") { Payload = Padded(valid, 65_536), Close = WebSocketCloseStatus.MessageTooBig };

        // Kestrel's socket checks UTF-8 in text messages itself.
        yield return new("invalid UTF-8: a broken two-byte sequence") { Payload = [(byte)'{', 0xC3, (byte)'(', (byte)'}'], Close = WebSocketCloseStatus.InvalidPayloadData };
        yield return new("invalid UTF-8: a lone continuation byte") { Payload = [(byte)'"', 0x80, (byte)'"'], Close = WebSocketCloseStatus.InvalidPayloadData };
        yield return new("invalid UTF-8: an overlong '/'") { Payload = [(byte)'"', 0xC0, 0xAF, (byte)'"'], Close = WebSocketCloseStatus.InvalidPayloadData };
        yield return new("invalid UTF-8: an encoded surrogate") { Payload = [(byte)'"', 0xED, 0xA0, 0x80, (byte)'"'], Close = WebSocketCloseStatus.InvalidPayloadData };
        yield return new("invalid UTF-8 inside a valid publish")
        {
            Payload = [.. """{"type":"publish","event":{"type":"a","data":{"s":"""u8, (byte)'"', 0xFF, (byte)'"', .. "}}}"u8],
            Close = WebSocketCloseStatus.InvalidPayloadData,
        };
    }

    private static IEnumerable<BadMessage> RawFrameRows()
    {
        // Frames no conforming client sends, so ClientWebSocket cannot: each is a protocol error (1002). (An unmasked
        // frame is left out: the platform's server socket neither answers nor closes on it, it waits for the keep-alive.)
        var payload = Utf8("{}");
        yield return new("raw: reserved opcode 0x3") { RawFrame = Frame(0x83, payload), Close = WebSocketCloseStatus.ProtocolError };
        yield return new("raw: RSV1 set without an extension") { RawFrame = Frame(0xC1, payload), Close = WebSocketCloseStatus.ProtocolError };
        yield return new("raw: continuation with nothing to continue") { RawFrame = Frame(0x80, payload), Close = WebSocketCloseStatus.ProtocolError };
        yield return new("raw: ping of 126 bytes") { RawFrame = Frame(0x89, new byte[126]), Close = WebSocketCloseStatus.ProtocolError };
        yield return new("raw: fragmented ping") { RawFrame = Frame(0x09, payload), Close = WebSocketCloseStatus.ProtocolError };
    }

    /// <summary>One frame: the first byte (FIN, RSV, opcode) as given, the payload masked as a client must.</summary>
    private static byte[] Frame(byte first, byte[] payload)
    {
        byte[] mask = [0x12, 0x34, 0x56, 0x78];
        var frame = new List<byte> { first };
        const byte MaskBit = 0x80;
        if (payload.Length < 126)
        {
            frame.Add((byte)(MaskBit | payload.Length));
        }
        else
        {
            frame.AddRange([(byte)(MaskBit | 126), (byte)(payload.Length >> 8), (byte)payload.Length]);
        }

        frame.AddRange(mask);
        frame.AddRange(payload.Select((b, i) => (byte)(b ^ mask[i % 4])));
        return [.. frame];
    }

    /// <summary>Upgrades over a plain socket, takes the welcome, sends <paramref name="frame"/> and returns the code of the server's close frame.</summary>
    private async Task<WebSocketCloseStatus> SendRawFrameAsync(string after, byte[] frame, CancellationToken cancellationToken)
    {
        var (tcp, status, head) = await RawWebSocket.HandshakeAsync(host.App.BaseAddress, $"/ws?after={after}", cancellationToken);
        using var _ = tcp;
        Assert.True(status == 101, head);
        var stream = tcp.GetStream();
        await RawWebSocket.AssertWelcomeAsync(stream, cancellationToken);

        await stream.WriteAsync(frame, cancellationToken);
        var received = new List<string>();
        try
        {
            while (true)
            {
                var (code, payload) = await RawWebSocket.ReadFrameAsync(stream, cancellationToken);
                if (code == 0x8)
                {
                    Assert.True(payload.Length >= 2, "A close frame without a status code.");
                    return (WebSocketCloseStatus)(payload[0] << 8 | payload[1]);
                }

                received.Add($"opcode {code}: {Encoding.UTF8.GetString(payload)}");
            }
        }
        catch (IOException exception)
        {
            throw new InvalidOperationException($"The connection ended without a close frame ({exception.Message}); received before: [{string.Join(", ", received)}]", exception);
        }
    }
}
