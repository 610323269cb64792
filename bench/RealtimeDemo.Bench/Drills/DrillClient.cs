using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace RealtimeDemo.Bench.Drills;

/// <summary>
/// What drill clients share: the address they connect to (nginx's in a drill, a host's own in the fleet mode), one HTTP
/// stack, the tally.
/// </summary>
public sealed class DrillContext : IDisposable
{
    private const int SourceAddresses = 50;
    private readonly SocketsHttpHandler _handler;
    private int _next;

    public DrillContext(Uri address, DrillTally tally, bool jitter, string? startCursor, long firstSeq, TimeSpan pollInterval)
    {
        (Address, Tally, Jitter, StartCursor, FirstSeq, PollInterval) = (address, tally, jitter, startCursor, firstSeq, pollInterval);
        _handler = new SocketsHttpHandler
        {
            ConnectCallback = ConnectAsync,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = int.MaxValue,
            AutomaticDecompression = DecompressionMethods.None,
        };
        Http = new HttpClient(_handler, disposeHandler: false) { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan };
        Invoker = new HttpMessageInvoker(_handler, disposeHandler: false);
    }

    public Uri Address { get; }

    public DrillTally Tally { get; }

    /// <summary>
    /// Whether reconnect delays are drawn at random between half the backoff and all of it (as the browser client's are)
    /// or are the backoff itself.
    /// </summary>
    public bool Jitter { get; }

    public string? StartCursor { get; }

    /// <summary>The first seq published in the drill: every client expects every event from it on.</summary>
    public long FirstSeq { get; }

    public TimeSpan PollInterval { get; }

    public HttpClient Http { get; }

    public HttpMessageInvoker Invoker { get; }

    public void Dispose()
    {
        Http.Dispose();
        Invoker.Dispose();
        _handler.Dispose();
    }

    // Every TCP connection accepted is counted (an attempt refused while nginx is down costs the hosts nothing: it is a
    // refusal); spread over 127.0.0.x sources, so thousands of connections to one address do not run out of ephemeral
    // ports.
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(new IPAddress([127, 0, 0, (byte)((Interlocked.Increment(ref _next) % SourceAddresses) + 2)]), 0));
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            Tally.Connect();
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>
/// A drill's client: it keeps its cursor and, after any drop or refusal, resumes from it after an exponential backoff
/// (250 ms doubling to 8 s; with jitter, a random delay between half that and all of it). It checks every seq from the drill's first: a
/// seq skipped with no gap signal before it is lost, one seen again duplicated. After a cut, the time until it
/// receives again is its resume time, if the cut dropped it.
/// </summary>
public abstract class DrillClient(DrillContext context)
{
    private static readonly TimeSpan BackoffBase = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan BackoffCap = TimeSpan.FromSeconds(8);

    private readonly Lock _cutLock = new();
    private long _next = context.FirstSeq;
    private bool _gapPending;
    private bool _opened;
    private bool _retrying;
    private long _cutAt = -1;
    private bool _dropped;
    private bool _armed;
    private volatile bool _connected;

    protected DrillContext Context { get; } = context;

    protected DrillTally Tally => Context.Tally;

    /// <summary>Where it resumes from: the last event's (or gap's) cursor.</summary>
    protected string? Cursor { get; set; } = context.StartCursor;

    /// <summary>Whether its connection is up (for polls: its last request succeeded).</summary>
    public bool Connected => _connected;

    /// <summary>The highest seq it has received.</summary>
    public long Last => Volatile.Read(ref _next) - 1;

    /// <summary>Receives until stopped, resuming after every drop.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await SessionAsync(stop);
            }
            catch (Exception) when (!stop.IsCancellationRequested)
            {
                // A drop or a refusal, told apart below.
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (stop.IsCancellationRequested)
            {
                break;
            }

            if (!_opened)
            {
                Tally.Refuse();
            }
            else
            {
                failures = 0;
            }

            _connected = false;
            _retrying = true;
            Dropped();
            var ceiling = Math.Min(BackoffCap.TotalMilliseconds, BackoffBase.TotalMilliseconds * Math.Pow(2, failures++));
            // Half fixed, half random, as wwwroot/js/realtime-client.js backs off: spread enough to break a wave, and never
            // so short that a client retries at once into an outage.
            var delay = Context.Jitter ? (ceiling / 2) + (Random.Shared.NextDouble() * ceiling / 2) : ceiling;
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(delay), stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        _connected = false;
    }

    /// <summary>One connection (for polls: requests until one fails); returns or throws when it ends.</summary>
    protected abstract Task SessionAsync(CancellationToken stop);

    /// <summary>Called before each connect (for polls: each request).</summary>
    protected void Attempt() => _opened = false;

    /// <summary>Called when a connect (for polls: a request) succeeded.</summary>
    protected void Opened()
    {
        _opened = true;
        _connected = true;
        if (_retrying)
        {
            _retrying = false;
            Tally.Reconnect();
        }
    }

    /// <summary>An event: checked against the seqs before it, and taken as the cursor.</summary>
    protected void Receive(long seq, string? id)
    {
        if (seq < _next && !_gapPending)
        {
            Tally.Duplicate();
            return;
        }

        if (seq > _next && !_gapPending)
        {
            Tally.Lose(seq - _next);
        }

        _gapPending = false;
        Volatile.Write(ref _next, seq + 1);
        Cursor = id ?? Cursor;
        Tally.Deliver();
        if (Volatile.Read(ref _cutAt) >= 0)
        {
            Resolve();
        }
    }

    /// <summary>A gap signal: the events it skips are not lost to the client's fault, but told.</summary>
    protected void Gap(string? cursor)
    {
        Tally.Gap();
        _gapPending = true;
        Cursor = cursor ?? Cursor;
    }

    /// <summary>
    /// A cut at <paramref name="timestamp"/>: if it drops this client, its resume is timed from then. Until
    /// <see cref="ArmCut"/>, an event received does not yet show the client came through it unharmed.
    /// </summary>
    public void MarkCut(long timestamp)
    {
        lock (_cutLock)
        {
            (_cutAt, _dropped, _armed) = (timestamp, false, false);
        }
    }

    /// <summary>The cut has happened (the host is dead, or drained; nginx is down): the next event settles it.</summary>
    public void ArmCut()
    {
        lock (_cutLock)
        {
            _armed = true;
        }
    }

    /// <summary>At the end: every seq up to <paramref name="lastSeq"/> not received is lost.</summary>
    public void Finish(long lastSeq)
    {
        if (lastSeq >= _next)
        {
            Tally.Lose(lastSeq - _next + 1);
            _next = lastSeq + 1;
        }
    }

    private void Dropped()
    {
        lock (_cutLock)
        {
            if (_cutAt >= 0 && !_dropped)
            {
                _dropped = true;
                Tally.CutOne();
            }
        }
    }

    private void Resolve()
    {
        lock (_cutLock)
        {
            if (_dropped)
            {
                Tally.Resume(Stopwatch.GetElapsedTime(_cutAt).TotalMilliseconds);
            }
            else if (!_armed)
            {
                return;
            }

            (_cutAt, _dropped) = (-1, false);
        }
    }

    public static DrillClient Create(string transport, DrillContext context) => transport switch
    {
        "short-poll" => new DrillPollClient(context, longPoll: false),
        "long-poll" => new DrillPollClient(context, longPoll: true),
        "sse" => new DrillSseClient(context),
        "websocket" => new DrillWebSocketClient(context),
        _ => throw new ArgumentException($"No drill client for {transport}.", nameof(transport)),
    };

    protected static string WithCursor(string path, string? cursor) =>
        cursor is null ? path : $"{path}{(path.Contains('?', StringComparison.Ordinal) ? '&' : '?')}after={Uri.EscapeDataString(cursor)}";
}
