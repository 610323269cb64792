using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RealtimeDemo.Bench.Baselines.Events;

/// <summary>
/// An event encoded once, when published: every raw client is sent these same arrays, so the per-client
/// cost is a queue write and a socket write, never a serialisation.
/// </summary>
public sealed class EncodedEvent
{
    private EncodedEvent(BaselineEvent value, byte[] json, byte[] sseFrame)
    {
        Value = value;
        Json = json;
        SseFrame = sseFrame;
    }

    public BaselineEvent Value { get; }

    /// <summary>Compact UTF-8 JSON, the WebSocket text frame's payload.</summary>
    public byte[] Json { get; }

    /// <summary>The whole Server-Sent Events frame: <c>id: {id}\ndata: {json}\n\n</c>.</summary>
    public byte[] SseFrame { get; }

    /// <summary>The wire form of a time: UTC with milliseconds, as RealtimeDemo writes it.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static EncodedEvent Create(BaselineEvent value)
    {
        // Written field by field, in RealtimeDemo's order, so both servers put the same bytes on the wire.
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("id"u8, value.Id);
            json.WriteNumber("seq"u8, value.Seq);
            json.WriteString("type"u8, value.Type);
            json.WriteStartObject("data"u8);
            json.WriteString("symbol"u8, value.Data.Symbol);
            json.WriteNumber("price"u8, value.Data.Price);
            json.WriteNumber("change"u8, value.Data.Change);
            json.WriteEndObject();
            json.WriteString("time"u8, value.Time);
            json.WriteEndObject();
        }

        var jsonBytes = buffer.WrittenSpan.ToArray();

        // Compact JSON holds no raw CR or LF, so one data: line carries it whole.
        var frame = new ArrayBufferWriter<byte>(jsonBytes.Length + value.Id.Length + 16);
        frame.Write("id: "u8);
        Encoding.UTF8.GetBytes(value.Id, frame);
        frame.Write("\ndata: "u8);
        frame.Write(jsonBytes);
        frame.Write("\n\n"u8);

        return new EncodedEvent(value, jsonBytes, frame.WrittenSpan.ToArray());
    }
}
