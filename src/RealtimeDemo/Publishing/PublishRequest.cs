using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Unicode;

namespace RealtimeDemo.Publishing;

/// <summary>
/// The body of a publish, <c>{"type": "...", "data": {...}}</c>, checked by the one set of rules that
/// <c>POST /api/events</c> and a WebSocket <c>publish</c> message share.
/// </summary>
public sealed record PublishRequest(string Type, JsonElement Data)
{
    public const int MaxTypeLength = 64;

    private const string InvalidText = "is not valid Unicode text (invalid UTF-8, or an escaped lone surrogate)";

    /// <summary>The deepest nesting accepted in a publish body, so a hostile body cannot exhaust the parser.</summary>
    public const int MaxDepth = 32;

    private static readonly SearchValues<char> TypeCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

    /// <summary>Parser settings for publish bodies: bounded depth, no comments, no duplicate properties.</summary>
    public static JsonDocumentOptions DocumentOptions { get; } = new() { MaxDepth = MaxDepth, AllowDuplicateProperties = false };

    /// <summary>Validates an already parsed body. <paramref name="field"/> prefixes the field names in errors (e.g. <c>event.</c>).</summary>
    public static bool TryCreate(
        JsonElement body,
        int maxDataBytes,
        [NotNullWhen(true)] out PublishRequest? request,
        [NotNullWhen(false)] out PublishError? error,
        string field = "")
    {
        request = null;
        if (body.ValueKind != JsonValueKind.Object)
        {
            error = PublishError.Invalid(field.TrimEnd('.') is { Length: > 0 } name ? name : "body", "must be a JSON object with \"type\" and \"data\"");
            return false;
        }

        JsonElement? type = null, data = null;
        foreach (var property in body.EnumerateObject())
        {
            // Compared as UTF-8: a name that is not valid text must be refused, not fail to transcode.
            if (property.NameEquals("type"u8))
            {
                type = property.Value;
            }
            else if (property.NameEquals("data"u8))
            {
                data = property.Value;
            }
            else
            {
                error = PublishError.Invalid(field + NameOf(property), "is not a known field; a publish has only \"type\" and \"data\"");
                return false;
            }
        }

        if (type is not { ValueKind: JsonValueKind.String } typeValue)
        {
            error = PublishError.Invalid(field + "type", "is required and must be a string");
            return false;
        }

        if (!TryGetText(typeValue, out var typeText))
        {
            error = PublishError.Invalid(field + "type", InvalidText);
            return false;
        }

        if (typeText.Length is 0 or > MaxTypeLength || typeText.AsSpan().ContainsAnyExcept(TypeCharacters))
        {
            error = PublishError.Invalid(field + "type", $"must be 1-{MaxTypeLength} characters of letters, digits, '.', '_' or '-'");
            return false;
        }

        if (data is not { ValueKind: JsonValueKind.Object } dataValue)
        {
            error = PublishError.Invalid(field + "data", "is required and must be a JSON object");
            return false;
        }

        if (EncodedSize(dataValue) is not { } encodedSize)
        {
            error = PublishError.Invalid(field + "data", InvalidText);
            return false;
        }

        if (encodedSize > maxDataBytes)
        {
            error = PublishError.TooLarge(field + "data", $"is {encodedSize} bytes encoded; at most {maxDataBytes} are allowed");
            return false;
        }

        request = new PublishRequest(typeText, dataValue);
        error = null;
        return true;
    }

    /// <summary>Parses and validates UTF-8 JSON bytes.</summary>
    public static bool TryParse(
        ReadOnlySequence<byte> utf8Json,
        int maxDataBytes,
        [NotNullWhen(true)] out PublishRequest? request,
        [NotNullWhen(false)] out PublishError? error)
    {
        request = null;
        if (!TryParseJson(utf8Json, out var document, out var invalid))
        {
            error = PublishError.Invalid("body", invalid);
            return false;
        }

        using (document)
        {
            if (!TryCreate(document.RootElement, maxDataBytes, out request, out error))
            {
                return false;
            }

            // The request keeps only a cloned, self-contained copy of the data.
            request = request with { Data = request.Data.Clone() };
            return true;
        }
    }

    /// <summary>
    /// Parses a publish body or message with <see cref="DocumentOptions"/>; on failure <paramref name="problem"/>
    /// says why ("is not valid JSON: …"), ready to follow the field's name.
    /// </summary>
    public static bool TryParseJson(ReadOnlySequence<byte> utf8Json, [NotNullWhen(true)] out JsonDocument? document, [NotNullWhen(false)] out string? problem)
    {
        // The parser leaves invalid UTF-8 inside strings to be replaced when they are read: refuse it instead, so what a
        // client sent is either stored exactly or refused.
        if (!IsValidUtf8(utf8Json))
        {
            (document, problem) = (null, "is not valid UTF-8");
            return false;
        }

        try
        {
            document = JsonDocument.Parse(utf8Json, DocumentOptions);
            problem = null;
            return true;
        }
        catch (JsonException exception)
        {
            (document, problem) = (null, $"is not valid JSON: {FirstSentence(exception.Message)}");
            return false;
        }
        catch (InvalidOperationException)
        {
            // The duplicate-property check decodes every property name, and a lone surrogate escape cannot be decoded.
            (document, problem) = (null, $"is not valid JSON: {InvalidText}");
            return false;
        }
    }

    private static bool IsValidUtf8(ReadOnlySequence<byte> bytes)
    {
        if (bytes.IsSingleSegment)
        {
            return Utf8.IsValid(bytes.FirstSpan);
        }

        // A body in several segments (over a few KB) is checked in one pooled copy: a character may span two segments.
        var copy = ArrayPool<byte>.Shared.Rent((int)bytes.Length);
        try
        {
            bytes.CopyTo(copy);
            return Utf8.IsValid(copy.AsSpan(0, (int)bytes.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    /// <summary>A field's name for an error message, or a description of it when it is not valid text.</summary>
    public static string NameOf(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            return "(a field name that is not valid UTF-8 or Unicode)";
        }
    }

    /// <summary>
    /// Reads a JSON string; false for one that is valid JSON but not valid Unicode, such as a lone surrogate
    /// escape (<c>"\uD800"</c>), which the parser accepts and only decoding refuses.
    /// </summary>
    private static bool TryGetText(JsonElement value, [NotNullWhen(true)] out string? text)
    {
        try
        {
            text = value.GetString();
            return text is not null;
        }
        catch (InvalidOperationException)
        {
            text = null;
            return false;
        }
    }

    // The size the event's data has once the log re-encodes it compactly, whatever whitespace the client sent;
    // null when it cannot be re-encoded (a lone surrogate escape in a string).
    private static long? EncodedSize(JsonElement data)
    {
        var counter = new ArrayBufferWriter<byte>(256);
        try
        {
            using var writer = new Utf8JsonWriter(counter);
            data.WriteTo(writer);
        }
        catch (InvalidOperationException)
        {
            return null;
        }

        return counter.WrittenCount;
    }

    private static string FirstSentence(string message) =>
        message.IndexOf(". ", StringComparison.Ordinal) is var end and > 0 ? message[..end] : message.TrimEnd('.');
}

/// <summary>Why a publish was refused: the field at fault, and whether it was only too large.</summary>
public sealed record PublishError(string Field, string Message, bool IsTooLarge)
{
    public static PublishError Invalid(string field, string message) => new(field, message, IsTooLarge: false);

    public static PublishError TooLarge(string field, string message) => new(field, message, IsTooLarge: true);

    public override string ToString() => $"{Field} {Message}";
}
