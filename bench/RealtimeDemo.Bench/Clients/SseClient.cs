using System.Net.ServerSentEvents;

namespace RealtimeDemo.Bench.Clients;

/// <summary>
/// An SSE subscriber, parsed with the platform's SseParser straight from the bytes: the data is never made a string
/// (the parser still makes one of each <c>id:</c> line). Over <paramref name="http"/>: the run's shared client, or
/// one HTTP/2 connection's.
/// </summary>
public sealed class SseClient(ClientContext context, HttpClient http, string path, bool withCursor) : BenchClient(context)
{
    private Stream? _stream;
    private HttpResponseMessage? _response;

    public override async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var url = withCursor ? WithQuery(path, "after", Context.StartCursor) : path;
        _response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        _response.EnsureSuccessStatusCode();
        _stream = await _response.Content.ReadAsStreamAsync(cancellationToken);
    }

    public override async Task ReceiveAsync(CancellationToken cancellationToken)
    {
        var parser = SseParser.Create(_stream!, (type, data) =>
            type == SseParser.EventTypeDefault && Recorder.TryReadSeqAndTime(data, out var seq, out var time) ? (seq, time) : (-1L, default(DateTime)));
        await foreach (var item in parser.EnumerateAsync(cancellationToken))
        {
            if (item.Data.Item1 >= 0)
            {
                Context.Recorder.Record(Progress, item.Data.Item1, item.Data.Item2);
            }
        }
    }

    public override ValueTask DisposeAsync()
    {
        _response?.Dispose();
        return ValueTask.CompletedTask;
    }
}
