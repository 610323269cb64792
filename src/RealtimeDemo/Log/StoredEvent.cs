using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RealtimeDemo.Log;

/// <summary>
/// An event as the log stored it: its place in the stream and its bytes, encoded once when appended
/// so that every transport writes the same shared memory to every reader.
/// </summary>
public sealed class StoredEvent
{
    private static ReadOnlySpan<byte> IdField => "id: "u8;
    private static ReadOnlySpan<byte> DataField => "\ndata: "u8;
    private static ReadOnlySpan<byte> FrameEnd => "\n\n"u8;

    private readonly byte[] _frame;
    private readonly int _jsonStart;
    private readonly int _jsonLength;

    private StoredEvent(EventCursor cursor, string type, DateTimeOffset time, byte[] frame, int jsonStart, int jsonLength)
    {
        Cursor = cursor;
        Type = type;
        Time = time;
        _frame = frame;
        _jsonStart = jsonStart;
        _jsonLength = jsonLength;
    }

    /// <summary>The event's position; <c>Cursor.ToString()</c> is its <c>id</c>.</summary>
    public EventCursor Cursor { get; }

    /// <summary>The event's position in its epoch: 1, 2, 3 …</summary>
    public long Seq => Cursor.Seq;

    public string Type { get; }

    /// <summary>The server's publish time, UTC, truncated to milliseconds.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>
    /// The event as compact UTF-8 JSON, <c>{"id","seq","type","data","time"}</c>, with <c>"by"</c> after
    /// <c>time</c> when a signed-in reader published it: a poll body entry, a WebSocket text frame, an SSE data line.
    /// </summary>
    public ReadOnlyMemory<byte> Json => _frame.AsMemory(_jsonStart, _jsonLength);

    /// <summary>The whole Server-Sent Events frame: <c>id: …</c>, <c>data: {json}</c> and the blank line.</summary>
    /// <remarks>
    /// Compact JSON holds no raw CR or LF (the encoder escapes them inside strings), so one <c>data:</c>
    /// line carries it whole, which is what <see cref="System.Net.ServerSentEvents.SseFormatter"/> would write.
    /// </remarks>
    public ReadOnlyMemory<byte> SseFrame => _frame;

    /// <summary>The wire form of a server time: UTC with milliseconds, <c>2026-11-23T18:00:00.123Z</c>.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Encodes an event once: JSON and SSE frame share one array.</summary>
    /// <param name="by">The name of the signed-in reader who published it; null (no field) otherwise.</param>
    public static StoredEvent Create(EventCursor cursor, string type, JsonElement data, DateTimeOffset time, string? by = null)
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("Event data must be a JSON object.", nameof(data));
        }

        time = new DateTimeOffset(time.UtcTicks - time.UtcTicks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
        var id = cursor.ToString();

        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write(IdField);
        Encoding.UTF8.GetBytes(id, buffer);
        buffer.Write(DataField);
        var jsonStart = buffer.WrittenCount;
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("id"u8, id);
            json.WriteNumber("seq"u8, cursor.Seq);
            json.WriteString("type"u8, type);
            json.WritePropertyName("data"u8);
            data.WriteTo(json);
            json.WriteString("time"u8, FormatTime(time));
            if (by is not null)
            {
                json.WriteString("by"u8, by);
            }

            json.WriteEndObject();
        }

        var jsonLength = buffer.WrittenCount - jsonStart;
        buffer.Write(FrameEnd);
        return new StoredEvent(cursor, type, time, buffer.WrittenSpan.ToArray(), jsonStart, jsonLength);
    }
}
