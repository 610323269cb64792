using System.Buffers;
using System.Text.Json;
using RealtimeDemo.Log;

namespace RealtimeDemo.Transports;

/// <summary>
/// The messages a stream sends besides events, told apart from them by a <c>control</c> field
/// (events have <c>type</c>): <c>welcome</c>, <c>heartbeat</c>, <c>gap</c>, <c>error</c>, and for signed-in readers
/// <c>expired</c> and <c>refreshed</c>.
/// </summary>
internal static class ControlMessages
{
    /// <summary>
    /// The first message of a stream: the cursor it starts after, the stream's epoch, the server's clock (for clients
    /// that estimate their offset from it), and the heartbeat interval (for clients that judge silence by it).
    /// </summary>
    public static byte[] Welcome(EventCursor cursor, string epoch, DateTimeOffset serverTime, TimeSpan heartbeat) => Write(json =>
    {
        json.WriteString("control"u8, "welcome"u8);
        json.WriteString("cursor"u8, cursor.ToString());
        json.WriteString("epoch"u8, epoch);
        json.WriteString("time"u8, StoredEvent.FormatTime(serverTime));
        json.WriteNumber("heartbeatMs"u8, (long)heartbeat.TotalMilliseconds);
    });

    /// <summary>
    /// Sent after a heartbeat interval with nothing else to send: the stream is alive, and the log's head is
    /// <paramref name="head"/> (a client whose cursor stays behind it while nothing arrives has fallen behind).
    /// </summary>
    public static byte[] Heartbeat(EventCursor head) => Write(json =>
    {
        json.WriteString("control"u8, "heartbeat"u8);
        json.WriteString("head"u8, head.ToString());
    });

    /// <summary>
    /// Events between the client's cursor and the next event sent are lost to it. <paramref name="resumedFrom"/>
    /// is the position the stream continues after: a client that must reconnect before the next event resumes there.
    /// </summary>
    public static byte[] Gap(GapReason reason, EventCursor resumedFrom) => Write(json =>
    {
        json.WriteString("control"u8, "gap"u8);
        json.WriteString("reason"u8, reason switch
        {
            GapReason.EpochChanged => "epoch-changed"u8,
            GapReason.Expired => "expired"u8,
            _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "Only a lost stretch of events is a gap."),
        });
        json.WriteString("epoch"u8, resumedFrom.Epoch);
        json.WriteString("cursor"u8, resumedFrom.ToString());
    });

    /// <summary>A client message was refused; the connection stays open.</summary>
    public static byte[] Error(string field, string message) => Write(json =>
    {
        json.WriteString("control"u8, "error"u8);
        json.WriteString("field"u8, field);
        json.WriteString("message"u8, message);
    });

    /// <summary>The reader token the stream was opened with expired at <paramref name="expiresAt"/>: the stream ends here.</summary>
    public static byte[] Expired(DateTimeOffset expiresAt) => Write(json =>
    {
        json.WriteString("control"u8, "expired"u8);
        json.WriteString("expiresAt"u8, StoredEvent.FormatTime(expiresAt));
    });

    /// <summary>A WebSocket's refresh was accepted: the connection now lasts until <paramref name="expiresAt"/>.</summary>
    public static byte[] Refreshed(DateTimeOffset expiresAt) => Write(json =>
    {
        json.WriteString("control"u8, "refreshed"u8);
        json.WriteString("expiresAt"u8, StoredEvent.FormatTime(expiresAt));
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
