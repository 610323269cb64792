using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Security;

/// <summary>The host of <see cref="BadHttpInputTests"/>: the ticker adjustable, so bad <c>PUT /api/ticker</c> bodies reach its checks.</summary>
public sealed class BadHttpInputHost() : BadInputHost(new Dictionary<string, string?> { ["Realtime:TickerAdjustable"] = "true" });

/// <summary>
/// Malformed requests to every endpoint over real Kestrel, each answered with its exact status — never a 5xx — and a
/// problem-details body wherever the app writes one; after each, the host still takes a publish and a poll from the
/// cursor before the bad request sees exactly that publish. Kestrel's own limits (request line, headers, body size,
/// from <c>Kestrel:Limits</c> in appsettings.json) are rows of the same table, at sizes between the configured limit
/// and Kestrel's default, so they pass only if the configuration is applied.
/// </summary>
[TestCaseOrderer(typeof(LastTestsLastOrderer))]
public sealed class BadHttpInputTests(BadHttpInputHost host) : IClassFixture<BadHttpInputHost>
{
    private const int MaxPublishBodyBytes = 16_384;
    private const int MaxRequestBodySize = 65_536;

    /// <summary>One malformed request and what the host must answer.</summary>
    /// <param name="Target">Path and query; <c>{epoch}</c> is replaced by the host's epoch, <c>{ahead}</c> by a cursor one past its head.</param>
    public sealed record BadRequest(string Name, string Method, string Target, int Status)
    {
        public string? ContentType { get; init; }

        public byte[]? Body { get; init; }

        /// <summary>Sent chunked, without Content-Length: the host must find the size by reading.</summary>
        public bool Chunked { get; init; }

        public (string Name, string Value)[] Headers { get; init; } = [];

        /// <summary>The field a <c>400</c> validation problem must name, where the app names one.</summary>
        public string? Field { get; init; }

        /// <summary>Refused by Kestrel before the app sees it: a status line and no body.</summary>
        public bool Bare { get; init; }

        /// <summary>Not refused but accepted and held (a long poll): the next publish must answer it with <c>200</c>.</summary>
        public bool Held { get; init; }
    }

    private static readonly (string Name, string Value)[] Upgrade = [.. TestClients.UpgradeHeaders];

    // Far above Realtime:LongPollMaxTimeout, and beyond long and double.
    private static readonly string[] HugeTimeouts = ["1000000", new string('9', 300), "1" + new string('0', 400)];

    private static readonly string[] MalformedCursors =
    [
        "abc",
        "-1",
        "1-2-3",
        "-5", // empty epoch
        "{epoch}-", // empty seq
        "{epoch}-01", // leading zero
        "{epoch}-1.5",
        "{epoch}-99999999999999999999", // 20 digits: more than a seq has
        "99999999999999999999",
        "ABC-1",
        "%20{epoch}-0", // a leading space
        "%FF", // not UTF-8 once decoded
        "{epoch}-%D9%A1", // an Arabic-Indic digit one
        new string('a', 4000),
    ];

    // Well-formed, of this epoch, and past its newest event: no client can hold one.
    private static readonly string[] AheadCursors = ["{ahead}", "{epoch}-999999999999999999"];

    // 40 publish bodies and content types, 68 cursors (17 on each of poll, long poll, SSE and the WebSocket upgrade),
    // 7 Last-Event-ID headers, 13 long-poll timeouts, 15 ticker bodies, 10 wrong methods, 7 unknown paths, 5 refused
    // WebSocket upgrades, 6 foreign origins (3 on the WebSocket upgrade; defined with the other origin rules in
    // OriginTests) and 3 of Kestrel's request-line and header limits: 174 bad inputs, one row each
    // (RowNamesAreDistinct prints the count).
    public static readonly IReadOnlyList<BadRequest> Table =
    [
        .. PublishRows(),
        .. CursorRows(),
        .. LastEventIdRows(),
        .. TimeoutRows(),
        .. TickerRows(),
        .. MethodAndPathRows(),
        .. UpgradeRows(),
        .. OriginTests.BadInputRows(),
        .. KestrelLimitRows(),
    ];

    public static TheoryData<string> Rows => new(Table.Select(row => row.Name));

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task BadInputGetsItsExactStatusAndTheStreamStillFlows(string name)
    {
        var row = Table.Single(candidate => candidate.Name == name);
        var cancellationToken = TestClients.Deadline(Deadlines.Slow);
        using var client = host.App.CreateSocketClient();
        var before = await client.PublishAsync("before", new { row = name }, cancellationToken);

        // Its own client: Kestrel closes the connection after refusing a request it could not parse.
        using var badClient = host.App.CreateSocketClient();
        using var request = Build(row, before);
        var answering = badClient.SendAsync(request, cancellationToken);
        if (row.Held)
        {
            var held = client.WaitForOpenConnectionsAsync("long-poll", 1, cancellationToken);
            if (await Task.WhenAny(held, answering) == answering)
            {
                using var early = await answering;
                Assert.Fail($"{row.Name}: expected the poll to be held, got {(int)early.StatusCode}: {await early.Content.ReadAsStringAsync(cancellationToken)}");
            }

            await held;
        }
        else
        {
            using var refused = await answering;
            await AssertRefusedAsync(row, refused, cancellationToken);
        }

        // The host still serves and the stream still flows: the next publish takes the very next seq, reaches a reader
        // polling from before the bad request without a gap, and answers a held request.
        var next = await client.PublishAsync("after", new { row = name }, cancellationToken);
        Assert.Equal(before.Seq + 1, next.Seq);
        var polled = await client.PollAsync($"/api/poll?after={before.Id}", cancellationToken);
        Assert.False(polled.Gap);
        Assert.Equal(next.Id, Assert.Single(polled.Events).Id);

        if (row.Held)
        {
            using var answered = await answering;
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
            var body = await answered.Content.ReadAsStringAsync(cancellationToken);
            var events = JsonSerializer.Deserialize<PollBody>(body, TestClients.Json)!.Events;
            Assert.Equal(next.Id, Assert.Single(events).Id);
        }
    }

    [Fact]
    public void RowNamesAreDistinct()
    {
        Assert.Equal(Table.Count, Table.Select(row => row.Name).Distinct().Count());
        TestContext.Current.TestOutputHelper?.WriteLine($"{Table.Count} bad inputs");
    }

    [Fact]
    [Trait("Order", "Last")]
    public async Task AfterEveryBadInputTheHostIsHealthyAndOpenStreamsStillFlow() =>
        await host.AssertStillServesAndStreamsFlowAsync(TestClients.Deadline(Deadlines.Slow));

    private static async Task AssertRefusedAsync(BadRequest row, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!row.Bare)
        {
            await response.AssertProblemAsync(row.Status, row.Field, cancellationToken);
            return;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(row.Status == (int)response.StatusCode, $"{row.Name}: expected {row.Status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("", body);
    }

    private HttpRequestMessage Build(BadRequest row, WireEvent head)
    {
        var epoch = head.Id[..head.Id.LastIndexOf('-')];
        string Fill(string text) => text.Replace("{epoch}", epoch).Replace("{ahead}", $"{epoch}-{head.Seq + 1}");

        var request = new HttpRequestMessage(new HttpMethod(row.Method), Fill(row.Target));
        foreach (var (name, value) in row.Headers)
        {
            Assert.True(request.Headers.TryAddWithoutValidation(name, Fill(value)), $"{row.Name}: cannot send header {name}");
        }

        if (row.Body is not null || row.ContentType is not null)
        {
            var bytes = row.Body ?? [];
            request.Content = row.Chunked ? new ChunkedContent(bytes, chunkBytes: 4_096) : new ByteArrayContent(bytes);
            if (row.ContentType is not null)
            {
                Assert.True(request.Content.Headers.TryAddWithoutValidation("Content-Type", row.ContentType));
            }
        }

        return request;
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string Shown(string timeout) => timeout.Length > 10 ? $"of {timeout.Length} digits" : $"'{timeout}'";

    private static BadRequest Publish(string name, string body, int status = 400, string? field = null, string contentType = "application/json") =>
        new($"POST /api/events: {name}", "POST", "/api/events", status) { ContentType = contentType, Body = Utf8(body), Field = field };

    private static BadRequest PublishBytes(string name, byte[] body, string field) =>
        new($"POST /api/events: {name}", "POST", "/api/events", 400) { ContentType = "application/json", Body = body, Field = field };

    private static IEnumerable<BadRequest> PublishRows()
    {
        const string Valid = """{"type":"a","data":{}}""";
        var deep = new string('[', 33) + new string(']', 33);
        var padded = Valid[..^1] + new string(' ', MaxPublishBodyBytes + 1 - Valid.Length) + "}";

        // Bad JSON.
        yield return Publish("unterminated object", "{", field: "body");
        yield return Publish("not JSON", "not json", field: "body");
        yield return Publish("empty body", "", field: "body");
        yield return Publish("trailing garbage", Valid + " trailing", field: "body");
        yield return Publish("a comment", "/* c */" + Valid, field: "body");
        yield return Publish("duplicate property", """{"type":"a","type":"b","data":{}}""", field: "body");

        // Wrong shapes.
        yield return Publish("an array", "[]", field: "body");
        yield return Publish("a string", "\"text\"", field: "body");
        yield return Publish("a number", "42", field: "body");
        yield return Publish("null", "null", field: "body");

        // The type.
        yield return Publish("type missing", """{"data":{}}""", field: "type");
        yield return Publish("type a number", """{"type":42,"data":{}}""", field: "type");
        yield return Publish("type null", """{"type":null,"data":{}}""", field: "type");
        yield return Publish("type an object", """{"type":{},"data":{}}""", field: "type");
        yield return Publish("type empty", """{"type":"","data":{}}""", field: "type");
        yield return Publish("type of 65 characters", $$$"""{"type":"{{{new string('t', 65)}}}","data":{}}""", field: "type");
        yield return Publish("type with a space", """{"type":"has space","data":{}}""", field: "type");
        yield return Publish("type with markup", """{"type":"<script>","data":{}}""", field: "type");
        yield return Publish("type with a non-ASCII letter", """{"type":"caf\u00e9","data":{}}""", field: "type");
        yield return Publish("type with a newline", """{"type":"a\nb","data":{}}""", field: "type");

        // The data.
        yield return Publish("data missing", """{"type":"a"}""", field: "data");
        yield return Publish("data an array", """{"type":"a","data":[]}""", field: "data");
        yield return Publish("data a string", """{"type":"a","data":"text"}""", field: "data");
        yield return Publish("data a number", """{"type":"a","data":1}""", field: "data");
        yield return Publish("data null", """{"type":"a","data":null}""", field: "data");
        yield return Publish("data nested 33 deep", $$$"""{"type":"a","data":{"d":{{{deep}}}}}""", field: "body");
        yield return Publish("data of 4097 bytes encoded", $$$"""{"type":"a","data":{"s":"{{{new string('x', 4089)}}}"}}""", status: 413);
        yield return Publish("an extra field", """{"type":"a","data":{},"extra":true}""", field: "extra");

        // Invalid Unicode: lone surrogate escapes, and bytes that are not UTF-8.
        yield return Publish("lone high surrogate in type", """{"type":"\ud800","data":{}}""", field: "type");
        yield return Publish("lone low surrogate in data", """{"type":"a","data":{"s":"\udc00"}}""", field: "data");
        yield return Publish("lone surrogate in a data key", """{"type":"a","data":{"\ud800":1}}""", field: "body");
        // Invalid UTF-8 anywhere refuses the whole body: nothing is stored with replacement characters.
        yield return PublishBytes("invalid UTF-8 in the type", [.. """{"type":"a"""u8, 0xC3, .. "\",\"data\":{}}"u8], "body");
        yield return PublishBytes("invalid UTF-8 in a data string", [.. """{"type":"a","data":{"s":"ok """u8, 0xFF, 0xC3, 0x28, .. "\"}}"u8], "body");
        yield return PublishBytes("invalid UTF-8 outside strings", [0xFF, .. Valid.Select(c => (byte)c)], "body");

        // Wrong content types, each with a valid body.
        yield return Publish("text/plain", Valid, status: 415, contentType: "text/plain");
        yield return Publish("a form", Valid, status: 415, contentType: "application/x-www-form-urlencoded");
        yield return Publish("multipart", Valid, status: 415, contentType: "multipart/form-data; boundary=x");
        yield return new BadRequest("POST /api/events: no content type", "POST", "/api/events", 415) { Body = Utf8(Valid) };

        // Over Realtime:MaxPublishBodyBytes, declared and undeclared.
        yield return Publish("body over 16 KiB", padded, status: 413);
        yield return Publish("body over 16 KiB chunked", padded, status: 413) with { Name = "POST /api/events: body over 16 KiB, chunked", Chunked = true };
    }

    private static IEnumerable<BadRequest> CursorRows()
    {
        foreach (var cursor in MalformedCursors.Concat(AheadCursors))
        {
            var query = "?after=" + cursor;
            var shown = cursor.Length > 40 ? $"{cursor.Length}-character cursor" : $"cursor '{cursor}'";
            yield return new BadRequest($"GET /api/poll: {shown}", "GET", "/api/poll" + query, 400) { Field = "after" };
            yield return new BadRequest($"GET /api/longpoll: {shown}", "GET", "/api/longpoll" + query, 400) { Field = "after" };
            yield return new BadRequest($"GET /api/sse: {shown}", "GET", "/api/sse" + query, 400) { Field = "after" };
            yield return new BadRequest($"GET /ws (upgrade): {shown}", "GET", "/ws" + query, 400) { Field = "after", Headers = Upgrade };
        }

        // A cursor longer than a request line may be: Kestrel refuses the line itself.
        var huge = "?after=" + new string('a', 10_000);
        yield return new BadRequest("GET /api/poll: 10000-character cursor", "GET", "/api/poll" + huge, 414) { Bare = true };
        yield return new BadRequest("GET /api/longpoll: 10000-character cursor", "GET", "/api/longpoll" + huge, 414) { Bare = true };
        yield return new BadRequest("GET /api/sse: 10000-character cursor", "GET", "/api/sse" + huge, 414) { Bare = true };
        yield return new BadRequest("GET /ws (upgrade): 10000-character cursor", "GET", "/ws" + huge, 414) { Bare = true, Headers = Upgrade };
    }

    private static IEnumerable<BadRequest> LastEventIdRows()
    {
        // The header wins over a valid after, so it alone is at fault.
        foreach (var value in new[] { "garbage", "-1", "1-2-3", "{epoch}-01", "{ahead}", new string('a', 10_000), "{epoch}-1 2" })
        {
            var shown = value.Length > 40 ? $"{value.Length} characters" : $"'{value}'";
            yield return new BadRequest($"GET /api/sse: Last-Event-ID {shown}", "GET", "/api/sse?after={epoch}-0", 400)
            {
                Headers = [("Last-Event-ID", value)],
                Field = "Last-Event-ID",
            };
        }
    }

    private static IEnumerable<BadRequest> TimeoutRows()
    {
        foreach (var timeout in new[] { "-1", "NaN", "Infinity", "-Infinity", "1e309", "1e3", "abc", "0x10", "5s", "%205" })
        {
            yield return new BadRequest($"GET /api/longpoll: timeout '{timeout}'", "GET", $"/api/longpoll?timeout={timeout}", 400) { Field = "timeout" };
        }

        // Above the cap: accepted and held, whatever the number (that the hold ends at the cap is TimeoutAboveTheCapIsCutToTheCap).
        foreach (var timeout in HugeTimeouts)
        {
            yield return new BadRequest($"GET /api/longpoll: timeout {Shown(timeout)} is accepted", "GET", $"/api/longpoll?timeout={timeout}", 200) { Held = true };
        }
    }

    private static IEnumerable<BadRequest> TickerRows()
    {
        BadRequest Put(string name, string body, int status = 400, string? field = null, string? contentType = "application/json") =>
            new($"PUT /api/ticker: {name}", "PUT", "/api/ticker", status) { ContentType = contentType, Body = Utf8(body), Field = field };

        var large = """{"eventsPerSecond":1""" + new string(' ', MaxRequestBodySize + 1) + "}";
        yield return Put("not JSON", "not json");
        yield return Put("empty body", "");
        yield return Put("an array", "[]");
        yield return Put("a string", "\"fast\"");
        yield return Put("null", "null");
        yield return Put("rate a string", """{"eventsPerSecond":"fast"}""");
        yield return Put("rate overflowing a double", """{"eventsPerSecond":1e400}""");
        yield return Put("rate missing", "{}", field: "eventsPerSecond");
        yield return Put("rate negative", """{"eventsPerSecond":-1}""", field: "eventsPerSecond");
        yield return Put("rate above 10000", """{"eventsPerSecond":10001}""", field: "eventsPerSecond");
        yield return Put("rate below 0.01", """{"eventsPerSecond":0.001}""", field: "eventsPerSecond");
        yield return Put("text/plain", """{"eventsPerSecond":1}""", status: 415, contentType: "text/plain");
        yield return Put("no content type", """{"eventsPerSecond":1}""", status: 415, contentType: null);

        // Over Kestrel:Limits:MaxRequestBodySize (64 KiB; Kestrel's own default is 30 MB).
        yield return Put("body over 64 KiB", large, status: 413);
        yield return Put("body over 64 KiB chunked", large, status: 413) with { Name = "PUT /api/ticker: body over 64 KiB, chunked", Chunked = true };
    }

    private static IEnumerable<BadRequest> MethodAndPathRows()
    {
        foreach (var (method, path) in new[]
        {
            ("GET", "/api/events"), ("PUT", "/api/events"), ("DELETE", "/api/events"), ("POST", "/api/poll"), ("PATCH", "/api/poll"),
            ("POST", "/api/longpoll"), ("POST", "/api/sse"), ("POST", "/api/ticker"), ("DELETE", "/api/ticker"), ("POST", "/api/stats"),
        })
        {
            yield return new BadRequest($"{method} {path}: wrong method", method, path, 405);
        }

        foreach (var path in new[] { "/api/nope", "/api", "/api/events/1", "/api/poll/extra", "/ws/extra", "/healthz/extra", "/metrics/extra" })
        {
            yield return new BadRequest($"GET {path}: unknown path", "GET", path, 404);
        }
    }

    private static IEnumerable<BadRequest> UpgradeRows()
    {
        yield return new BadRequest("GET /ws: no upgrade", "GET", "/ws", 400) { Field = "upgrade" };
        yield return new BadRequest("POST /ws: no upgrade", "POST", "/ws", 400) { Field = "upgrade" };
        yield return new BadRequest("GET /ws: upgrade of WebSocket version 12", "GET", "/ws", 400)
        {
            Headers = [.. Upgrade.Where(header => header.Item1 != "Sec-WebSocket-Version"), ("Sec-WebSocket-Version", "12")],
            Field = "upgrade",
        };
        yield return new BadRequest("GET /ws: upgrade without a key", "GET", "/ws", 400)
        {
            Headers = [.. Upgrade.Where(header => header.Item1 != "Sec-WebSocket-Key")],
            Field = "upgrade",
        };
        yield return new BadRequest("GET /ws: upgrade to another protocol", "GET", "/ws", 400)
        {
            Headers = [("Connection", "Upgrade"), ("Upgrade", "h2c")],
            Field = "upgrade",
        };
    }

    private static IEnumerable<BadRequest> KestrelLimitRows()
    {
        // Kestrel:Limits from appsettings.json, each exceeded but within Kestrel's default (8 KiB line, 100 headers,
        // 32 KiB of headers): only the configured limits refuse these.
        yield return new BadRequest("GET /api/poll: request line over 4096 bytes", "GET", "/api/poll?pad=" + new string('p', 5_000), 414) { Bare = true };
        yield return new BadRequest("GET /api/poll: 60 headers", "GET", "/api/poll", 431)
        {
            Headers = [.. Enumerable.Range(0, 60).Select(i => ($"X-Pad-{i}", "1"))],
            Bare = true,
        };
        yield return new BadRequest("GET /api/poll: headers over 16 KiB", "GET", "/api/poll", 431)
        {
            Headers = [("X-Pad", new string('p', 17_000))],
            Bare = true,
        };
    }
}
