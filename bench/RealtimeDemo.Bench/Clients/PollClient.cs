using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace RealtimeDemo.Bench.Clients;

/// <summary>Short or long polling: GET with the cursor, take the events, ask again (after the interval, for short polls).</summary>
public sealed class PollClient(ClientContext context, string path, TimeSpan interval) : BenchClient(context)
{
    private string? _cursor = context.StartCursor;

    public override Task ConnectAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override async Task ReceiveAsync(CancellationToken cancellationToken)
    {
        // Short polls start at a random point of their interval, as independent clients would.
        if (interval > TimeSpan.Zero)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * interval.TotalMilliseconds), cancellationToken);
        }

        var url = WithQuery(path, "after", _cursor);
        while (!cancellationToken.IsCancellationRequested)
        {
            var started = DateTime.UtcNow;
            using (var response = await Context.Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken))
            {
                response.EnsureSuccessStatusCode();

                // The body goes into a pooled buffer, only for as long as it is read (not while a long poll is held).
                var body = ArrayPool<byte>.Shared.Rent(16 * 1024);
                try
                {
                    var length = 0;
                    await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                    int read;
                    while ((read = await stream.ReadAsync(body.AsMemory(length), cancellationToken)) > 0)
                    {
                        length += read;
                        if (length == body.Length)
                        {
                            var larger = ArrayPool<byte>.Shared.Rent(body.Length * 2);
                            body.AsSpan(0, length).CopyTo(larger);
                            ArrayPool<byte>.Shared.Return(body);
                            body = larger;
                        }
                    }

                    if (Take(body.AsMemory(0, length)))
                    {
                        url = WithQuery(path, "after", _cursor);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(body);
                }
            }

            var wait = interval - (DateTime.UtcNow - started);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }
        }
    }

    /// <summary>Records the events of one response and takes its cursor; true when the cursor moved.</summary>
    private bool Take(ReadOnlyMemory<byte> body)
    {
        using var json = JsonDocument.Parse(body);
        var events = json.RootElement.GetProperty("events");
        if (events.GetArrayLength() == 0)
        {
            Context.Wire.CountEmpty();
        }

        foreach (var item in events.EnumerateArray())
        {
            Record(JsonMarshal.GetRawUtf8Value(item));
        }

        // Compared in place: an unchanged cursor (an empty poll) costs no string.
        var cursor = json.RootElement.GetProperty("cursor");
        if (_cursor is not null && cursor.ValueEquals(_cursor))
        {
            return false;
        }

        _cursor = cursor.GetString();
        return true;
    }
}
