using System.Buffers;
using System.Text.Json;
using RealtimeDemo.Http;
using RealtimeDemo.Log;

namespace RealtimeDemo.Publishing;

/// <summary>
/// The messages a WebSocket client sends, read here and nowhere else. A publish,
/// <c>{"type": "publish", "event": {"type", "data"}}</c>, carries the body a <c>POST /api/events</c> would, read by the
/// same rules, and is held to the same key and rate limit. A refresh, <c>{"type": "refresh", "token": "…"}</c>, is known
/// only on a connection opened with a reader token, and handed back for the transport to apply. One per socket.
/// </summary>
/// <param name="keyPresented">Whether the upgrade presented the publish key (or none is needed).</param>
/// <param name="publisher">The signed-in reader's name from the upgrade's token, stamped on each publish; null without one.</param>
/// <param name="acceptsRefresh">Whether the connection has a reader token to refresh.</param>
internal sealed class WebSocketPublisher(
    IEventLog log, PublishingOptions settings, bool keyPresented, string? publisher, PublishRateLimiter rateLimit, HttpContext context,
    bool acceptsRefresh)
{
    /// <summary>The largest message the socket may take: a publish body, with the same limit as a POST's.</summary>
    public int MaxMessageBytes => settings.MaxPublishBodyBytes;

    /// <summary>Reads one text message: appends the publish it asks for, or hands back the token of a refresh.</summary>
    public async Task<WebSocketMessageResult> TakeAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        if (!PublishRequest.TryParseJson(new ReadOnlySequence<byte>(message), out var document, out var invalid))
        {
            return WebSocketMessageResult.Refused("message", $"message {invalid}");
        }

        using (document)
        {
            if (Read(document.RootElement, out var publish) is { } refusedOrRefresh)
            {
                return refusedOrRefresh;
            }

            if (!keyPresented)
            {
                return WebSocketMessageResult.KeyMissing;
            }

            return rateLimit.TryAcquire(context, out var retryAfter)
                ? await AppendAsync(publish, cancellationToken)
                : WebSocketMessageResult.Refused(
                    "rate", $"{PublishRateLimiter.RuleText(settings)}; retry after {Problems.RetryAfterSeconds(retryAfter)} s");
        }
    }

    /// <summary>Appends a publish; refused when the log cannot take it now (a shared log out of reach).</summary>
    private async Task<WebSocketMessageResult> AppendAsync(PublishRequest publish, CancellationToken cancellationToken)
    {
        try
        {
            await log.AppendAsync(publish.Type, publish.Data, cancellationToken, publisher);
            return WebSocketMessageResult.Published;
        }
        catch (EventLogUnavailableException exception)
        {
            // The store's own words (a timeout says the event may have been published after all), and the retry time a
            // POST gets in its Retry-After.
            return WebSocketMessageResult.Refused(
                "event", $"{exception.Message.TrimEnd('.')}; retry after {Problems.RetryAfterSeconds(EventLogUnavailableHandler.RetryAfter)} s");
        }
    }

    /// <summary>The publish a message asks for; otherwise a refresh's token, or the refusal that says why it is neither.</summary>
    private WebSocketMessageResult? Read(JsonElement message, out PublishRequest publish)
    {
        publish = null!;
        if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("type"u8, out var type) || type.ValueKind != JsonValueKind.String)
        {
            return WebSocketMessageResult.Refused("type", "type is required: a message is {\"type\": \"publish\", \"event\": {\"type\", \"data\"}}");
        }

        if (acceptsRefresh && type.ValueEquals("refresh"u8))
        {
            return ReadRefresh(message);
        }

        if (!type.ValueEquals("publish"u8))
        {
            return WebSocketMessageResult.Refused("type", acceptsRefresh
                ? "type is not a known message type; the known ones are \"publish\" and \"refresh\""
                : "type is not a known message type; the only one is \"publish\"");
        }

        foreach (var property in message.EnumerateObject())
        {
            if (!property.NameEquals("type"u8) && !property.NameEquals("event"u8))
            {
                var name = PublishRequest.NameOf(property);
                return WebSocketMessageResult.Refused(name, $"{name} is not a known field; a publish message has only \"type\" and \"event\"");
            }
        }

        if (!message.TryGetProperty("event"u8, out var body))
        {
            return WebSocketMessageResult.Refused("event", "event is required: the event to publish, {\"type\", \"data\"}");
        }

        if (!PublishRequest.TryCreate(body, settings.MaxEventDataBytes, out var request, out var error, field: "event."))
        {
            return WebSocketMessageResult.Refused(error.Field, error.ToString());
        }

        publish = request;
        return null;
    }

    /// <summary>A refresh's new reader token, or the refusal that says why the message is not a refresh.</summary>
    private static WebSocketMessageResult ReadRefresh(JsonElement message)
    {
        foreach (var property in message.EnumerateObject())
        {
            if (!property.NameEquals("type"u8) && !property.NameEquals("token"u8))
            {
                var name = PublishRequest.NameOf(property);
                return WebSocketMessageResult.Refused(name, $"{name} is not a known field; a refresh message has only \"type\" and \"token\"");
            }
        }

        return message.TryGetProperty("token"u8, out var token) && token.ValueKind == JsonValueKind.String && token.GetString() is { Length: > 0 } text
            ? WebSocketMessageResult.Refresh(text)
            : WebSocketMessageResult.Refused("token", "token is required: the new reader token, a string");
    }
}

/// <summary>
/// What became of a WebSocket client's message: a publish appended; refused, with the field at fault and why (the
/// socket stays open); a publish refused for want of the publish key (the socket is closed: a client without it should
/// not be publishing); or a refresh, with its new token, for the transport to check and apply.
/// </summary>
internal readonly record struct WebSocketMessageResult(string? Field, string? Message, bool IsKeyMissing, string? RefreshToken = null)
{
    public static WebSocketMessageResult Published => default;

    public static WebSocketMessageResult KeyMissing => new(null, null, IsKeyMissing: true);

    public static WebSocketMessageResult Refused(string field, string message) => new(field, message, IsKeyMissing: false);

    public static WebSocketMessageResult Refresh(string token) => new(null, null, IsKeyMissing: false, token);
}
