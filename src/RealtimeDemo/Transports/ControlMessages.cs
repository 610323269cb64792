using System.Buffers;
using System.Text.Json;
using RealtimeDemo.Events;

namespace RealtimeDemo.Transports;

/// <summary>
/// The messages a stream sends besides events, told apart from them by a <c>control</c> field
/// (events have <c>type</c>): <c>welcome</c>, <c>gap</c> and <c>error</c>.
/// </summary>
internal static class ControlMessages
{
    /// <summary>The first WebSocket message: where the stream starts, and the server's clock for offset estimates.</summary>
    public static byte[] Welcome(EventCursor cursor, DateTimeOffset serverTime) => Write(json =>
    {
        json.WriteString("control"u8, "welcome"u8);
        json.WriteString("cursor"u8, cursor.ToString());
        json.WriteString("epoch"u8, cursor.Epoch);
        json.WriteString("time"u8, StoredEvent.FormatTime(serverTime));
    });

    /// <summary>Events between the client's cursor and the next event sent are lost to it.</summary>
    public static byte[] Gap(GapReason reason, string epoch) => Write(json =>
    {
        json.WriteString("control"u8, "gap"u8);
        json.WriteString("reason"u8, reason == GapReason.EpochChanged ? "epoch-changed"u8 : "expired"u8);
        json.WriteString("epoch"u8, epoch);
    });

    /// <summary>A client message was refused; the connection stays open.</summary>
    public static byte[] Error(string field, string message) => Write(json =>
    {
        json.WriteString("control"u8, "error"u8);
        json.WriteString("field"u8, field);
        json.WriteString("message"u8, message);
    });

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
