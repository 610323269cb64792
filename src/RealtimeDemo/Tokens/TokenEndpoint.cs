using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Microsoft.Extensions.Options;
using RealtimeDemo.Http;
using RealtimeDemo.Log;
using RealtimeDemo.Publishing;

namespace RealtimeDemo.Tokens;

/// <summary>
/// <c>POST /api/token</c> with <c>{"name": "ada"}</c>: the demo's sign-in. A name and no password: it shows how each
/// technique carries a token, and proves nothing about who the reader is.
/// </summary>
internal static class TokenEndpoint
{
    public const int MaxNameLength = 64;

    /// <summary>A sign-in body is one short name: anything longer is not one.</summary>
    private const int MaxBodyBytes = 1024;

    private static readonly SearchValues<char> NameCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ._-");

    public static IEndpointRouteBuilder MapTokens(this IEndpointRouteBuilder api)
    {
        api.MapPost("/token", IssueAsync);
        return api;
    }

    private static async Task<IResult> IssueAsync(
        HttpContext context, IOptions<ReaderTokenOptions> options, ReaderTokenIssuer issuer, CancellationToken cancellationToken)
    {
        if (!options.Value.RequireReaderToken)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "No tokens here",
                detail: "This host issues no tokens: it requires none (Realtime:RequireReaderToken is false).");
        }

        var request = context.Request;
        if (!request.HasJsonContentType())
        {
            return Problems.UnsupportedMediaType(request.ContentType);
        }

        var read = await request.BodyReader.ReadAtLeastAsync(MaxBodyBytes + 1, cancellationToken);
        try
        {
            if (read.Buffer.Length > MaxBodyBytes)
            {
                return Problems.TooLarge("body", $"exceeds {MaxBodyBytes} bytes");
            }

            if (!PublishRequest.TryParseJson(read.Buffer, out var document, out var invalid))
            {
                return Problems.Invalid("body", invalid);
            }

            using (document)
            {
                if (!TryReadName(document.RootElement, out var name, out var field, out var problem))
                {
                    return Problems.Invalid(field, problem);
                }

                var issued = issuer.Issue(name);
                return TypedResults.Ok(new TokenResponse(issued.Token, StoredEvent.FormatTime(issued.ExpiresAt)));
            }
        }
        finally
        {
            request.BodyReader.AdvanceTo(read.Buffer.End);
        }
    }

    /// <summary>Whether <paramref name="name"/> is one a reader may sign in with.</summary>
    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= MaxNameLength && !name.AsSpan().ContainsAnyExcept(NameCharacters) && name[0] != ' ' && name[^1] != ' ';

    private static bool TryReadName(
        JsonElement body, [NotNullWhen(true)] out string? name, out string field, [NotNullWhen(false)] out string? problem)
    {
        (name, field, problem) = (null, "body", null);
        if (body.ValueKind != JsonValueKind.Object)
        {
            problem = "must be a JSON object with \"name\"";
            return false;
        }

        JsonElement? value = null;
        foreach (var property in body.EnumerateObject())
        {
            if (!property.NameEquals("name"u8))
            {
                (field, problem) = (PublishRequest.NameOf(property), "is not a known field; a sign-in has only \"name\"");
                return false;
            }

            value = property.Value;
        }

        field = "name";
        string? text = null;
        try
        {
            text = value is { ValueKind: JsonValueKind.String } given ? given.GetString() : null;
        }
        catch (InvalidOperationException)
        {
            // A lone surrogate escape: valid JSON, not text; refused below like any other bad name.
            text = "";
        }

        if (text is null)
        {
            problem = "is required and must be a string";
            return false;
        }

        if (!IsValidName(text))
        {
            problem = $"must be 1-{MaxNameLength} characters of letters, digits, space, '.', '_' or '-', "
                + "not starting or ending with a space";
            return false;
        }

        name = text;
        return true;
    }

    private sealed record TokenResponse(string Token, string ExpiresAt);
}
