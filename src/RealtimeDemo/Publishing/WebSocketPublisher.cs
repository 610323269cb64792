using System.Buffers;
using System.Text.Json;
using RealtimeDemo.Http;
using RealtimeDemo.Log;

namespace RealtimeDemo.Publishing;

/// <summary>
/// Publishing on a WebSocket: a message <c>{"type": "publish", "event": {"type", "data"}}</c> carries the body a
/// <c>POST /api/events</c> would, read by the same rules, and is held to the same key and rate limit. One per socket.
/// </summary>
/// <param name="keyPresented">Whether the upgrade presented the publish key (or none is needed).</param>
/// <param name="publisher">The signed-in reader's name from the upgrade's token, stamped on each publish; null without one.</param>
internal sealed class WebSocketPublisher(
    IEventLog log, PublishingOptions settings, bool keyPresented, string? publisher, PublishRateLimiter rateLimit, HttpContext context)
{
    /// <summary>The largest message the socket may take: a publish body, with the same limit as a POST's.</summary>
    public int MaxMessageBytes => settings.MaxPublishBodyBytes;

    /// <summary>Reads one text message and appends the publish it asks for.</summary>
    public async Task<WebSocketPublishResult> PublishAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        if (!PublishRequest.TryParseJson(new ReadOnlySequence<byte>(message), out var document, out var invalid))
        {
            return WebSocketPublishResult.Refused("message", $"message {invalid}");
        }

        using (document)
        {
            if (Read(document.RootElement, out var publish) is { } refused)
            {
                return refused;
            }

            if (!keyPresented)
            {
                return WebSocketPublishResult.KeyMissing;
            }

            return rateLimit.TryAcquire(context, out var retryAfter)
                ? await AppendAsync(publish, cancellationToken)
                : WebSocketPublishResult.Refused(
                    "rate", $"{PublishRateLimiter.RuleText(settings)}; retry after {Problems.RetryAfterSeconds(retryAfter)} s");
        }
    }

    /// <summary>Appends a publish; refused when the log cannot take it now (a shared log out of reach).</summary>
    private async Task<WebSocketPublishResult> AppendAsync(PublishRequest publish, CancellationToken cancellationToken)
    {
        try
        {
            await log.AppendAsync(publish.Type, publish.Data, cancellationToken, publisher);
            return WebSocketPublishResult.Published;
        }
        catch (EventLogUnavailableException exception)
        {
            // The store's own words (a timeout says the event may have been published after all), and the retry time a
            // POST gets in its Retry-After.
            return WebSocketPublishResult.Refused(
                "event", $"{exception.Message.TrimEnd('.')}; retry after {Problems.RetryAfterSeconds(EventLogUnavailableHandler.RetryAfter)} s");
        }
    }

    /// <summary>The publish a message asks for, or the refusal that says why it is not one.</summary>
    private WebSocketPublishResult? Read(JsonElement message, out PublishRequest publish)
    {
        publish = null!;
        if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("type"u8, out var type) || type.ValueKind != JsonValueKind.String)
        {
            return WebSocketPublishResult.Refused("type", "type is required: a message is {\"type\": \"publish\", \"event\": {\"type\", \"data\"}}");
        }

        if (!type.ValueEquals("publish"u8))
        {
            return WebSocketPublishResult.Refused("type", "type is not a known message type; the only one is \"publish\"");
        }

        foreach (var property in message.EnumerateObject())
        {
            if (!property.NameEquals("type"u8) && !property.NameEquals("event"u8))
            {
                var name = PublishRequest.NameOf(property);
                return WebSocketPublishResult.Refused(name, $"{name} is not a known field; a publish message has only \"type\" and \"event\"");
            }
        }

        if (!message.TryGetProperty("event"u8, out var body))
        {
            return WebSocketPublishResult.Refused("event", "event is required: the event to publish, {\"type\", \"data\"}");
        }

        if (!PublishRequest.TryCreate(body, settings.MaxEventDataBytes, out var request, out var error, field: "event."))
        {
            return WebSocketPublishResult.Refused(error.Field, error.ToString());
        }

        publish = request;
        return null;
    }
}

/// <summary>
/// What became of a WebSocket publish: appended; refused, with the field at fault and why (the socket stays open); or
/// refused for want of the publish key (the socket is closed: a client without it should not be publishing).
/// </summary>
internal readonly record struct WebSocketPublishResult(string? Field, string? Message, bool IsKeyMissing)
{
    public static WebSocketPublishResult Published => default;

    public static WebSocketPublishResult KeyMissing => new(null, null, IsKeyMissing: true);

    public static WebSocketPublishResult Refused(string field, string message) => new(field, message, IsKeyMissing: false);
}
