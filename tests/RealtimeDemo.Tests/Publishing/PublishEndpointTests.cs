using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Publishing;

/// <summary>POST /api/events: the stored event on success, a problem naming the field on refusal, and a host that keeps flowing.</summary>
public sealed class PublishEndpointTests : IAsyncDisposable
{
    private const int DefaultMaxDataBytes = 4096;
    private const int DefaultMaxBodyBytes = 16_384;

    private readonly RealtimeDemoApplication _app = new();

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task PublishAnswers201WithTheStoredEvent()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var start = await client.HeadCursorAsync(cancellationToken);
        var before = TruncateToMilliseconds(DateTimeOffset.UtcNow);

        using var response = await PostAsync(client, """{ "type": "chat.message", "data": { "text": "hi", "n": 1, "tags": ["a"] } }""", cancellationToken);
        var after = DateTimeOffset.UtcNow;

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.Equal(new[] { "id", "seq", "type", "data", "time" }, root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1, root.GetProperty("seq").GetInt64());
        Assert.True(EventCursor.TryParse(root.GetProperty("id").GetString(), out var id));
        Assert.Equal(1, id.Seq);
        Assert.Equal("chat.message", root.GetProperty("type").GetString());
        Assert.Equal("""{"text":"hi","n":1,"tags":["a"]}""", root.GetProperty("data").GetRawText());
        var time = root.GetProperty("time").GetString()!;
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", time);
        Assert.InRange(DateTimeOffset.Parse(time), before, after);

        // The 201 body is the event exactly as readers receive it.
        var polled = await client.PollAsync($"/api/poll?after={start}", cancellationToken);
        var delivered = Assert.Single(polled.Events);
        Assert.Equal(root.GetProperty("id").GetString(), delivered.Id);
        Assert.Equal(root.GetProperty("data").GetRawText(), delivered.Data.GetRawText());
        Assert.Equal(DateTimeOffset.Parse(time), delivered.Time);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    public async Task PublishAcceptsJsonContentTypes(string contentType)
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();

        using var response = await PostAsync(client, """{"type":"a","data":{}}""", cancellationToken, contentType);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { """{"data":{}}""", "type" },
        { """{"type":"","data":{}}""", "type" },
        { """{"type":"has space","data":{}}""", "type" },
        { $$$"""{"type":"{{{new string('x', PublishRequest.MaxTypeLength + 1)}}}","data":{}}""", "type" },
        { """{"type":42,"data":{}}""", "type" },
        { """{"type":"a"}""", "data" },
        { """{"type":"a","data":[]}""", "data" },
        { """{"type":"a","data":"text"}""", "data" },
        { """{"type":"a","data":null}""", "data" },
        { """{"type":"a","data":1}""", "data" },
        { """{"type":"a","data":{},"extra":true}""", "extra" },
        { """{"type":"a","type":"b","data":{}}""", "body" },
        { "[]", "body" },
        { "\"text\"", "body" },
        { "null", "body" },
        { "", "body" },
        { "{", "body" },
        { "not json", "body" },
        { """{"type":"a","data":{}} trailing""", "body" },
        { $$"""{"type":"a","data":{{new string('[', PublishRequest.MaxDepth)}}{{new string(']', PublishRequest.MaxDepth)}}}""", "body" },

        // Lone surrogates are grammatical JSON that cannot be decoded: still the client's fault, not a 500.
        { """{"type":"\uD800","data":{}}""", "type" },
        { """{"type":"a","data":{"s":"\uD800"}}""", "data" },
        { """{"type":"a","data":{},"\uD800":1}""", "body" },
        { """{"type":"a","data":{"\uD800":1}}""", "body" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task BadBodyAnswers400ProblemNamingTheFieldAndTheHostKeepsFlowing(string body, string field)
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var start = await client.PublishAsync("before", new { }, cancellationToken);

        using var response = await PostAsync(client, body, cancellationToken);

        var problem = await response.AssertProblemAsync(400, field, cancellationToken);
        var errors = problem.GetProperty("errors");
        Assert.Equal(field, Assert.Single(errors.EnumerateObject()).Name);
        Assert.StartsWith(field + " ", errors.GetProperty(field)[0].GetString());
        await AssertStillFlowsAsync(client, start, cancellationToken);
    }

    [Fact]
    public async Task InvalidUtf8IsRefusedAndNeverReachesReaders()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var start = await client.PublishAsync("before", new { }, cancellationToken);
        byte[] body = [.. "{\"type\":\"a\",\"data\":{\"s\":\"ok "u8, 0xFF, 0xC3, 0x28, .. "\"}}"u8];

        using var response = await client.PostAsync("/api/events", new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } }, cancellationToken);

        // Not stored with replacement characters either: what a client sent is stored exactly or refused.
        await response.AssertInvalidAsync("body", cancellationToken);
        await AssertStillFlowsAsync(client, start, cancellationToken);
    }

    [Fact]
    public async Task DataOverTheLimitEncodedAnswers413Problem()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var start = await client.PublishAsync("before", new { }, cancellationToken);

        using var response = await PostAsync(client, BodyWithDataOf(DefaultMaxDataBytes + 1), cancellationToken);

        var problem = await response.AssertProblemAsync(413, null, cancellationToken);
        Assert.StartsWith("data ", problem.GetProperty("detail").GetString());
        await AssertStillFlowsAsync(client, start, cancellationToken);
    }

    [Fact]
    public async Task DataOfExactlyTheLimitEncodedIsAcceptedWhateverItsWhitespace()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();

        // Whitespace takes the body well past the data limit, but only the compact encoding counts.
        var padding = new string(' ', DefaultMaxDataBytes);
        var body = BodyWithDataOf(DefaultMaxDataBytes).Replace("\"data\":{", $"\"data\":{padding}{{{padding}");
        Assert.True(Encoding.UTF8.GetByteCount(body) is > 2 * DefaultMaxDataBytes and <= DefaultMaxBodyBytes);

        using var response = await PostAsync(client, body, cancellationToken);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var stored = (await response.Content.ReadFromJsonAsync<WireEvent>(TestClients.Json, cancellationToken))!;
        Assert.Equal(DefaultMaxDataBytes, Encoding.UTF8.GetByteCount(stored.Data.GetRawText()));
    }

    public static TheoryData<int?, bool> BodyLimits => new()
    {
        // limit (null: the default), whether the client declares Content-Length
        { null, true },
        { null, false },
        { 8_192, true },
        { 8_192, false },
    };

    [Theory]
    [MemberData(nameof(BodyLimits))]
    public async Task BodyOverMaxPublishBodyBytesAnswers413Problem(int? configured, bool declaredLength)
    {
        var cancellationToken = TestClients.Deadline();
        await using var app = NewApp(configured);
        var client = app.CreateClient();
        var limit = configured ?? DefaultMaxBodyBytes;
        var start = await client.PublishAsync("before", new { }, cancellationToken);

        using var response = await client.PostAsync("/api/events", JsonContent(PaddedBody(limit + 1), declaredLength), cancellationToken);

        var problem = await response.AssertProblemAsync(413, null, cancellationToken);
        Assert.StartsWith("body ", problem.GetProperty("detail").GetString());
        await AssertStillFlowsAsync(client, start, cancellationToken);
    }

    [Theory]
    [MemberData(nameof(BodyLimits))]
    public async Task BodyOfExactlyMaxPublishBodyBytesIsAccepted(int? configured, bool declaredLength)
    {
        var cancellationToken = TestClients.Deadline();
        await using var app = NewApp(configured);
        var client = app.CreateClient();

        using var response = await client.PostAsync("/api/events", JsonContent(PaddedBody(configured ?? DefaultMaxBodyBytes), declaredLength), cancellationToken);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData(null)]
    public async Task NonJsonContentTypeAnswers415Problem(string? contentType)
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var start = await client.PublishAsync("before", new { }, cancellationToken);

        // A valid body: only the declared media type is wrong.
        using var response = await PostAsync(client, """{"type":"a","data":{}}""", cancellationToken, contentType);

        await response.AssertProblemAsync(415, null, cancellationToken);
        await AssertStillFlowsAsync(client, start, cancellationToken);
    }

    [Fact]
    public async Task RefusedPublishesInARowConsumeNoSeq()
    {
        var cancellationToken = TestClients.Deadline();
        var client = _app.CreateClient();
        var start = await client.PublishAsync("before", new { }, cancellationToken);

        foreach (var (body, contentType) in new[]
        {
            ("""{"type":"a"}""", "application/json"),
            (BodyWithDataOf(DefaultMaxDataBytes + 1), "application/json"),
            (PaddedBody(DefaultMaxBodyBytes + 1), "application/json"),
            ("""{"type":"a","data":{}}""", "text/plain"),
        })
        {
            using var refused = await PostAsync(client, body, cancellationToken, contentType);
            Assert.False(refused.IsSuccessStatusCode);
        }

        await AssertStillFlowsAsync(client, start, cancellationToken);
    }

    // The stream still delivers: a valid publish after the refusal gets the very next seq and reaches a reader without a gap.
    private static async Task AssertStillFlowsAsync(HttpClient client, WireEvent before, CancellationToken cancellationToken)
    {
        var next = await client.PublishAsync("after", new { ok = true }, cancellationToken);
        Assert.Equal(before.Seq + 1, next.Seq);

        var polled = await client.PollAsync($"/api/poll?after={before.Id}", cancellationToken);
        Assert.False(polled.Gap);
        Assert.Equal(next.Id, Assert.Single(polled.Events).Id);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string body, CancellationToken cancellationToken, string? contentType = "application/json")
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (contentType is not null)
        {
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        return client.PostAsync("/api/events", content, cancellationToken);
    }

    [Fact]
    public async Task PublishTheLogCannotTakeAnswers503WithRetryAfterOfTwoSeconds()
    {
        // A log whose store is out of reach (as a Redis log is with Redis down): reading works, appending throws.
        var log = new UnavailableEventLog(new InMemoryEventLog(16, TimeProvider.System));
        await using var app = new RealtimeDemoApplication(services: services => services.AddSingleton<IEventLog>(log));
        var cancellationToken = TestClients.Deadline();
        var client = app.CreateClient();
        var start = await client.HeadCursorAsync(cancellationToken);

        using var response = await PostAsync(client, """{"type":"chat","data":{"text":"hi"}}""", cancellationToken);

        var problem = await response.AssertProblemAsync(503, null, cancellationToken);
        Assert.Equal("2", Assert.Single(response.Headers.GetValues("Retry-After")));
        Assert.EndsWith("retry after 2 s.", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var polled = await client.PollAsync($"/api/poll?after={start}", cancellationToken);
        Assert.Empty(polled.Events);
        Assert.False(polled.Gap);
    }

    private static HttpContent JsonContent(string body, bool declaredLength)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        HttpContent content = declaredLength ? new ByteArrayContent(bytes) : new ChunkedContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static RealtimeDemoApplication NewApp(int? maxPublishBodyBytes) =>
        new(maxPublishBodyBytes is { } limit
            ? new Dictionary<string, string?> { ["Realtime:MaxPublishBodyBytes"] = limit.ToString() }
            : null);

    // {"s":"xxx…"} is 8 bytes plus the x's.
    private static string BodyWithDataOf(int encodedBytes) =>
        $$$"""{"type":"a","data":{"s":"{{{new string('x', encodedBytes - 8)}}}"}}""";

    // A valid, tiny publish padded with whitespace to exactly totalBytes: only its size can be wrong.
    private static string PaddedBody(int totalBytes)
    {
        const string Body = """{"type":"padded","data":{}}""";
        return Body[..^1] + new string(' ', totalBytes - Body.Length) + "}";
    }

    private static DateTimeOffset TruncateToMilliseconds(DateTimeOffset time) =>
        new(time.UtcTicks - time.UtcTicks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);

    /// <summary>Reads from <paramref name="log"/>; every append fails as a log whose store cannot be reached does.</summary>
    private sealed class UnavailableEventLog(IEventLog log) : IEventLog
    {
        public string Epoch => log.Epoch;

        public EventCursor Head => log.Head;

        public AppendSignal Appended => log.Appended;

        public ValueTask<StoredEvent> AppendAsync(string type, JsonElement data, CancellationToken cancellationToken = default, string? by = null) =>
            throw new EventLogUnavailableException("The event log cannot be reached", new TimeoutException("No answer."));

        public LogRead Read(EventCursor after, Span<StoredEvent> destination) => log.Read(after, destination);
    }
}
