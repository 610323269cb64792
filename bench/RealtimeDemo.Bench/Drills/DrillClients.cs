using System.Net.ServerSentEvents;
using System.Net.WebSockets;
using System.Text.Json;

namespace RealtimeDemo.Bench.Drills;

/// <summary>
/// Short or long polling: GET with the cursor, take the events (or the gap), ask again (after the
/// interval, for short polls). A request that fails or answers an error is refused, and the client backs off.
/// </summary>
public sealed class DrillPollClient(DrillContext context, bool longPoll) : DrillClient(context)
{
    // A long poll is held up to 25 s; either is given up on after that and the 15 s heartbeat, as the protocol says.
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(25);
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(15);
    private bool _started;

    protected override async Task SessionAsync(CancellationToken stop)
    {
        // Short polls start at a random point of their interval, as independent clients would.
        if (!longPoll && !_started)
        {
            _started = true;
            await Task.Delay(Random.Shared.NextDouble() * Context.PollInterval, stop);
        }

        // A long poll's first request of each session is answered at once (timeout=0): the client knows it is
        // through before it settles into 25 s holds.
        for (var first = true; ; first = false)
        {
            Attempt();
            var started = DateTime.UtcNow;
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                deadline.CancelAfter(longPoll ? Hold + GiveUp : GiveUp);
                var path = WithCursor(!longPoll ? "api/poll" : first ? "api/longpoll?timeout=0" : "api/longpoll?timeout=25", Cursor);
                using var response = await Context.Http.GetAsync(path, HttpCompletionOption.ResponseContentRead, deadline.Token);
                response.EnsureSuccessStatusCode();
                Take(await response.Content.ReadAsByteArrayAsync(deadline.Token));
            }

            if (!longPoll)
            {
                var wait = Context.PollInterval - (DateTime.UtcNow - started);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, stop);
                }
            }
        }
    }

    private void Take(byte[] body)
    {
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        var cursor = root.GetProperty("cursor").GetString();
        Opened();
        if (root.GetProperty("gap").GetBoolean())
        {
            Gap(cursor);
        }

        foreach (var item in root.GetProperty("events").EnumerateArray())
        {
            Receive(item.GetProperty("seq").GetInt64(), item.GetProperty("id").GetString());
        }

        Cursor = cursor;
    }
}

/// <summary>An SSE stream, reopened from its last id after it ends or breaks.</summary>
public sealed class DrillSseClient(DrillContext context) : DrillClient(context)
{
    protected override async Task SessionAsync(CancellationToken stop)
    {
        Attempt();
        using var response = await Context.Http.GetAsync(WithCursor("api/sse", Cursor), HttpCompletionOption.ResponseHeadersRead, stop);
        response.EnsureSuccessStatusCode();
        await using var stream = await response.Content.ReadAsStreamAsync(stop);
        Opened();
        var parser = SseParser.Create(stream);
        await foreach (var item in parser.EnumerateAsync(stop))
        {
            if (item.EventType == SseParser.EventTypeDefault)
            {
                using var json = JsonDocument.Parse(item.Data);
                Receive(json.RootElement.GetProperty("seq").GetInt64(), item.EventId);
            }
            else if (item.EventType == "gap")
            {
                Gap(item.EventId);
            }
        }
    }
}

/// <summary>A WebSocket, opened again from its cursor after a close or a break.</summary>
public sealed class DrillWebSocketClient(DrillContext context) : DrillClient(context)
{
    protected override async Task SessionAsync(CancellationToken stop)
    {
        Attempt();
        using var socket = new ClientWebSocket { Options = { KeepAliveInterval = TimeSpan.Zero } };
        var uri = new UriBuilder(new Uri(Context.Address, WithCursor("ws", Cursor))) { Scheme = "ws" }.Uri;
        await socket.ConnectAsync(uri, Context.Invoker, stop);
        Opened();
        var buffer = new byte[16 * 1024];
        var length = 0;
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer.AsMemory(length), stop);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            length += received.Count;
            if (received.EndOfMessage)
            {
                Take(buffer.AsSpan(0, length));
                length = 0;
            }
            else if (length == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }
        }
    }

    // An event has a seq and an id; a gap's control names the cursor to continue after; the rest (welcome,
    // heartbeat) only say the socket is alive.
    private void Take(ReadOnlySpan<byte> message)
    {
        var reader = new Utf8JsonReader(message);
        string? control = null, id = null, cursor = null;
        long seq = -1;
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "control": control = reader.GetString(); break;
                case "id": id = reader.GetString(); break;
                case "cursor": cursor = reader.GetString(); break;
                case "seq": seq = reader.GetInt64(); break;
                default: reader.Skip(); break;
            }
        }

        if (control == "gap")
        {
            Gap(cursor);
        }
        else if (control is null && seq >= 0)
        {
            Receive(seq, id);
        }
    }
}
