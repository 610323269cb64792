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

        while (!cancellationToken.IsCancellationRequested)
        {
            var started = DateTime.UtcNow;
            var body = await Context.Http.GetByteArrayAsync(WithQuery(path, "after", _cursor), cancellationToken);
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

            _cursor = json.RootElement.GetProperty("cursor").GetString();
            var wait = interval - (DateTime.UtcNow - started);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }
        }
    }
}
