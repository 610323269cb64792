using System.Text.Json;
using RealtimeDemo.Log;

namespace RealtimeDemo.Transports;

/// <summary>
/// The body both polling transports answer with, <c>{"events": [...], "cursor": "...", "gap": false}</c>,
/// written from the events' shared bytes.
/// </summary>
internal sealed class PollResult(ReadOnlyMemory<StoredEvent> events, EventCursor cursor, bool gap) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        using (var json = new Utf8JsonWriter(response.BodyWriter))
        {
            json.WriteStartObject();
            json.WriteStartArray("events"u8);
            foreach (var stored in events.Span)
            {
                json.WriteRawValue(stored.Json.Span, skipInputValidation: true);
            }

            json.WriteEndArray();
            json.WriteString("cursor"u8, cursor.ToString());
            json.WriteBoolean("gap"u8, gap);
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(httpContext.RequestAborted);
    }
}
