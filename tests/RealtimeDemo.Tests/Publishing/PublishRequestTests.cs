using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;

using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Publishing;

/// <summary>The one set of publish rules POST /api/events and the WebSocket "publish" message share.</summary>
public sealed class PublishRequestTests
{
    private const int MaxDataBytes = 4096;
    private const string TypeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

    public static TheoryData<string> ValidTypes => new()
    {
        "a", "Z", "7", ".", "_", "-",
        "tick", "chat.message", "user_joined", "v2-update",
        TypeAlphabet[..64],
        TypeAlphabet[^64..],
        new string('x', PublishRequest.MaxTypeLength),
    };

    [Theory]
    [MemberData(nameof(ValidTypes))]
    public void AcceptsATypeOfOneToSixtyFourAllowedCharacters(string type)
    {
        var accepted = TryParse($$$"""{"type":"{{{type}}}","data":{"n":1}}""", out var request, out var error);

        Assert.True(accepted, error?.ToString());
        Assert.Equal(type, request!.Type);
        Assert.Equal("""{"n":1}""", request.Data.GetRawText());
    }

    [Theory]
    [InlineData("""{"type":"a","data":{}}""", "{}")]
    [InlineData("""{"data":{"list":[1,"two",null,{"x":false}]},"type":"a"}""", """{"list":[1,"two",null,{"x":false}]}""")]
    [InlineData(""" { "type" : "a" , "data" : { "k" : "v" } } """, """{ "k" : "v" }""")]
    public void AcceptsAnyObjectAsData(string body, string data)
    {
        Assert.True(TryParse(body, out var request, out var error), error?.ToString());

        Assert.Equal(JsonValueKind.Object, request.Data.ValueKind);
        Assert.Equal(data, request.Data.GetRawText());
    }

    [Fact]
    public void DataOutlivesTheParsedBytes()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"type":"a","data":{"kept":"yes"}}""");

        Assert.True(PublishRequest.TryParse(new ReadOnlySequence<byte>(bytes), MaxDataBytes, out var request, out _));
        Array.Clear(bytes);

        Assert.Equal("yes", request.Data.GetProperty("kept").GetString());
    }

    [Fact]
    public void AcceptsABodySplitAcrossSegments()
    {
        // A request body arrives from the pipe in several segments.
        var bytes = Encoding.UTF8.GetBytes("""{"type":"split","data":{"text":"across segments"}}""");

        Assert.True(PublishRequest.TryParse(Sequences.Segmented(bytes, 5), MaxDataBytes, out var request, out var error), error?.ToString());
        Assert.Equal("split", request.Type);
        Assert.Equal("across segments", request.Data.GetProperty("text").GetString());
    }

    public static TheoryData<string, string> InvalidBodies => new()
    {
        // type
        { """{"data":{}}""", "type" },
        { """{"type":"","data":{}}""", "type" },
        { $$$"""{"type":"{{{new string('x', PublishRequest.MaxTypeLength + 1)}}}","data":{}}""", "type" },
        { """{"type":"has space","data":{}}""", "type" },
        { """{"type":"a/b","data":{}}""", "type" },
        { """{"type":"a:b","data":{}}""", "type" },
        { """{"type":"caf\u00e9","data":{}}""", "type" },
        { """{"type":"é","data":{}}""", "type" },
        { """{"type":"a\nb","data":{}}""", "type" },
        { """{"type":"a\u0000","data":{}}""", "type" },
        { """{"type":5,"data":{}}""", "type" },
        { """{"type":true,"data":{}}""", "type" },
        { """{"type":null,"data":{}}""", "type" },
        { """{"type":["a"],"data":{}}""", "type" },
        { """{"type":{"a":1},"data":{}}""", "type" },

        // data
        { """{"type":"a"}""", "data" },
        { """{"type":"a","data":[]}""", "data" },
        { """{"type":"a","data":[{}]}""", "data" },
        { """{"type":"a","data":"text"}""", "data" },
        { """{"type":"a","data":null}""", "data" },
        { """{"type":"a","data":42}""", "data" },
        { """{"type":"a","data":false}""", "data" },

        // unknown fields are named, so a misspelling is obvious
        { """{"type":"a","data":{},"extra":1}""", "extra" },
        { """{"Type":"a","data":{}}""", "Type" },
        { """{"event":{"type":"a","data":{}}}""", "event" },

        // duplicates are refused by the parser, wherever they are
        { """{"type":"a","type":"b","data":{}}""", "body" },
        { """{"type":"a","data":{},"data":{}}""", "body" },
        { """{"type":"a","data":{"x":1,"x":2}}""", "body" },

        // not an object
        { "[]", "body" },
        { """[{"type":"a","data":{}}]""", "body" },
        { "\"text\"", "body" },
        { "null", "body" },
        { "1", "body" },

        // not JSON
        { "", "body" },
        { "   ", "body" },
        { "{", "body" },
        { """{"type":"a","data":{}""", "body" },
        { """{"type":"a","data":{}}x""", "body" },
        { """{"type":"a","data":{}}{}""", "body" },
        { """{"type":"a","data":{},}""", "body" },
        { """{'type':'a','data':{}}""", "body" },
        { """/* comment */ {"type":"a","data":{}}""", "body" },
        { """{"type":"a","data":{"n":NaN}}""", "body" },
        { "type=a&data=1", "body" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public void RefusesAnInvalidBodyNamingTheField(string body, string field)
    {
        Assert.False(TryParse(body, out var request, out var error));

        Assert.Null(request);
        Assert.Equal(field, error.Field);
        Assert.False(error.IsTooLarge);
        Assert.StartsWith(field + " ", error.ToString());
    }

    [Fact]
    public void AcceptsNestingUpToMaxDepth()
    {
        Assert.True(TryParse(NestedBody(PublishRequest.MaxDepth), out _, out var error), error?.ToString());
    }

    [Theory]
    [InlineData(PublishRequest.MaxDepth + 1)]
    [InlineData(PublishRequest.MaxDepth * 10)]
    public void RefusesNestingBeyondMaxDepth(int depth)
    {
        Assert.False(TryParse(NestedBody(depth), out _, out var error));

        Assert.Equal("body", error.Field);
        Assert.False(error.IsTooLarge);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(MaxDataBytes)]
    public void AcceptsDataOfExactlyTheLimitEncoded(int limit)
    {
        Assert.True(TryParse(BodyWithDataOf(limit), limit, out var request, out var error), error?.ToString());
        Assert.Equal(limit, Encoding.UTF8.GetByteCount(request.Data.GetRawText()));
    }

    [Theory]
    [InlineData(64)]
    [InlineData(MaxDataBytes)]
    public void RefusesDataOneByteOverTheLimitAsTooLarge(int limit)
    {
        Assert.False(TryParse(BodyWithDataOf(limit + 1), limit, out _, out var error));

        Assert.Equal("data", error.Field);
        Assert.True(error.IsTooLarge);
        Assert.Contains((limit + 1).ToString(), error.Message);
    }

    [Fact]
    public void MeasuresDataCompactlySoWhitespaceDoesNotCount()
    {
        // The same data as BodyWithDataOf(limit), padded with far more whitespace than the limit.
        const int Limit = 64;
        var padding = new string(' ', 10 * Limit);
        var body = $$$"""{"type":"a","data":{{{{padding}}}"s"{{{padding}}}:{{{padding}}}"{{{new string('x', Limit - 8)}}}"{{{padding}}}}}""";
        var bodyLines = body.Replace(padding, "\n\t \r\n");

        Assert.True(TryParse(body, Limit, out _, out var error), error?.ToString());
        Assert.True(TryParse(bodyLines, Limit, out _, out error), error?.ToString());
    }

    public static TheoryData<string, string> InvalidUnicodeEscapes => new()
    {
        // Grammatical JSON whose strings cannot be decoded: a lone surrogate must be refused, not thrown.
        { """{"type":"\uD800","data":{}}""", "type" },
        { """{"type":"a\uDC00","data":{}}""", "type" },
        { """{"type":"a","data":{"s":"\uD800"}}""", "data" },
        { """{"type":"a","data":{"s":"\uDFFF\uD800"}}""", "data" },
    };

    [Theory]
    [MemberData(nameof(InvalidUnicodeEscapes))]
    public void RefusesLoneSurrogateEscapesInsteadOfThrowing(string body, string field)
    {
        PublishError? error = null;
        var accepted = true;
        var exception = Record.Exception(() => accepted = TryParse(body, out _, out error));

        Assert.Null(exception);
        Assert.False(accepted);
        Assert.Equal(field, error!.Field);
        Assert.False(error.IsTooLarge);
    }

    [Theory]
    [InlineData("""{"data":{}}""", "event.type")]
    [InlineData("""{"type":"a","data":[]}""", "event.data")]
    [InlineData("""{"type":"a","data":{},"x":1}""", "event.x")]
    [InlineData("[]", "event")]
    [InlineData("null", "event")]
    public void TryCreatePrefixesFieldNamesForANestedBody(string body, string field)
    {
        using var document = JsonDocument.Parse(body, PublishRequest.DocumentOptions);

        Assert.False(PublishRequest.TryCreate(document.RootElement, MaxDataBytes, out _, out var error, field: "event."));
        Assert.Equal(field, error.Field);
    }

    [Fact]
    public void TryCreateAcceptsAValidNestedBody()
    {
        using var document = JsonDocument.Parse("""{"type":"chat","data":{"text":"hi"}}""", PublishRequest.DocumentOptions);

        Assert.True(PublishRequest.TryCreate(document.RootElement, MaxDataBytes, out var request, out var error, field: "event."), error?.ToString());
        Assert.Equal("chat", request.Type);
    }

    private static bool TryParse(string body, [NotNullWhen(true)] out PublishRequest? request, [NotNullWhen(false)] out PublishError? error) =>
        TryParse(body, MaxDataBytes, out request, out error);

    private static bool TryParse(string body, int maxDataBytes, [NotNullWhen(true)] out PublishRequest? request, [NotNullWhen(false)] out PublishError? error)
    {
        var accepted = PublishRequest.TryParse(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(body)), maxDataBytes, out var parsed, out var refused);
        (request, error) = (parsed, refused);
        return accepted;
    }

    // {"s":"xxx…"} is 8 bytes plus the x's.
    private static string BodyWithDataOf(int encodedBytes) =>
        $$$"""{"type":"a","data":{"s":"{{{new string('x', encodedBytes - 8)}}}"}}""";

    // The body object is depth 1 and data depth 2; each further level nests one more object.
    private static string NestedBody(int depth)
    {
        var data = new StringBuilder("{}");
        for (var level = 3; level <= depth; level++)
        {
            data.Insert(0, "{\"a\":").Append('}');
        }

        return $$"""{"type":"a","data":{{data}}}""";
    }
}
