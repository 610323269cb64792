using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// A TCP proxy on 127.0.0.1 in front of a test host, for network paths nginx cannot play: one that goes silent
/// (<see cref="Silence"/>: the connections open at that moment stop passing bytes but stay open, as after a NAT or
/// Wi-Fi change, while new connections work) and one whose upgrades can be refused and allowed again
/// (<see cref="RefuseWebSocketUpgrades"/>). Bytes pass unchanged otherwise.
/// </summary>
public sealed class PathProxy : IAsyncDisposable
{
    // A request head longer than this is passed on without a look: no upgrade a browser sends comes near it.
    private const int MaxHeadBytes = 16 * 1024;

    private static readonly byte[] EndOfHead = "\r\n\r\n"u8.ToArray();
    private static readonly byte[] Forbidden = "HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"u8.ToArray();

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _upstream;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Connection, Task> _connections = new();
    private readonly Task _accepting;
    private int _accepted;
    private int _silenced;
    private int _refused;

    /// <param name="upstream">The host to pass connections to: a loopback address such as a <see cref="KestrelApplication.BaseAddress"/>.</param>
    public PathProxy(Uri upstream)
    {
        _upstream = new IPEndPoint(IPAddress.Parse(upstream.Host), upstream.Port);
        if (!IPAddress.IsLoopback(_upstream.Address))
        {
            throw new ArgumentException("The proxy passes connections to loopback only.", nameof(upstream));
        }

        _listener.Start();
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    /// <summary>Where the proxy listens: <c>http://127.0.0.1:port/</c>.</summary>
    public Uri Address { get; }

    /// <summary>
    /// While true, a new connection whose first request asks for a WebSocket upgrade is answered
    /// <c>403 Forbidden</c> and closed, as by a proxy that refuses upgrades; other requests pass. Settable at any time;
    /// connections already upgraded are left alone.
    /// </summary>
    public bool RefuseWebSocketUpgrades { get; set; }

    /// <summary>Connections accepted so far.</summary>
    public int ConnectionsAccepted => Volatile.Read(ref _accepted);

    /// <summary>Connections made silent by <see cref="Silence"/> so far.</summary>
    public int ConnectionsSilenced => Volatile.Read(ref _silenced);

    /// <summary>Upgrades answered 403 so far.</summary>
    public int UpgradesRefused => Volatile.Read(ref _refused);

    /// <summary>
    /// Makes every connection open now stop passing bytes either way, its sockets left open: neither end hears a
    /// close or anything else. Connections made afterwards pass bytes as before. Returns how many went silent.
    /// </summary>
    public int Silence()
    {
        var count = 0;
        foreach (var connection in _connections.Keys)
        {
            if (connection.Silence())
            {
                count++;
            }
        }

        Interlocked.Add(ref _silenced, count);
        return count;
    }

    /// <summary>A one-line summary for diagnostics.</summary>
    public override string ToString() =>
        $"{ConnectionsAccepted} connections accepted, {ConnectionsSilenced} silenced, {UpgradesRefused} upgrades refused";

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        foreach (var connection in _connections.Keys)
        {
            connection.Dispose();
        }

        // Every task ends once its sockets are closed; the bound is for a proxy that would hang a test run otherwise.
        await Task.WhenAll(_connections.Values.Append(_accepting)).WaitAsync(TimeSpan.FromSeconds(5));
        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptSocketAsync(_stopping.Token);
                client.NoDelay = true;
                Interlocked.Increment(ref _accepted);
                var connection = new Connection(client, _stopping.Token);
                var task = new TaskCompletionSource();
                _connections[connection] = task.Task;
                _ = RunAsync(connection).ContinueWith(_ => task.SetResult(), TaskScheduler.Default);
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
        catch (SocketException) when (_stopping.IsCancellationRequested)
        {
            // The listener was stopped under a pending accept.
        }
    }

    private async Task RunAsync(Connection connection)
    {
        try
        {
            var head = await ReadHeadAsync(connection);
            if (head.Length == 0)
            {
                return; // closed, or silenced, before it asked for anything
            }

            if (RefuseWebSocketUpgrades && AsksForWebSocket(head.Span))
            {
                Interlocked.Increment(ref _refused);
                await connection.Client.SendAsync(Forbidden, connection.Token);
                connection.Client.Shutdown(SocketShutdown.Send); // the answer, then a clean close
                return;
            }

            await connection.Upstream.ConnectAsync(_upstream, connection.Token);
            connection.Upstream.NoDelay = true;
            await connection.Upstream.SendAsync(head, connection.Token);
            await Task.WhenAny(
                PumpAsync(connection.Client, connection.Upstream, connection.Token),
                PumpAsync(connection.Upstream, connection.Client, connection.Token));
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // A reset, a close, the proxy disposed, or the connection silenced.
        }
        finally
        {
            // A silent connection keeps its sockets until the proxy is disposed: nobody hears it end.
            if (!connection.IsSilent)
            {
                _connections.TryRemove(connection, out _);
                connection.Dispose();
            }
        }
    }

    // The first request's head, up to its blank line (and whatever came with it), or all that arrived before the limit.
    private static async Task<ReadOnlyMemory<byte>> ReadHeadAsync(Connection connection)
    {
        var buffer = new byte[MaxHeadBytes];
        var length = 0;
        while (length < buffer.Length && buffer.AsSpan(0, length).IndexOf(EndOfHead) < 0)
        {
            var read = await connection.Client.ReceiveAsync(buffer.AsMemory(length), connection.Token);
            if (read == 0)
            {
                return ReadOnlyMemory<byte>.Empty;
            }

            length += read;
        }

        return buffer.AsMemory(0, length);
    }

    private static bool AsksForWebSocket(ReadOnlySpan<byte> head)
    {
        foreach (var line in Encoding.ASCII.GetString(head).Split("\r\n"))
        {
            if (line.Length == 0)
            {
                break;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0
                && line.AsSpan(0, colon).Trim().Equals("Upgrade", StringComparison.OrdinalIgnoreCase)
                && line.AsSpan(colon + 1).Contains("websocket", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    // Copies one direction until its end closes or the connection is silenced (the token cancels the pending read).
    private static async Task PumpAsync(Socket from, Socket to, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The other direction, the caller, decides what becomes of the sockets.
        }
    }

    private sealed class Connection : IDisposable
    {
        private readonly CancellationTokenSource _silence;
        private readonly Lock _gate = new();
        private bool _silent;
        private bool _disposed;

        public Connection(Socket client, CancellationToken stopping)
        {
            Client = client;
            _silence = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            Token = _silence.Token;
        }

        public Socket Client { get; }

        public Socket Upstream { get; } = new(SocketType.Stream, ProtocolType.Tcp);

        /// <summary>Cancelled when the connection is silenced or the proxy disposed: every read and write stops.</summary>
        public CancellationToken Token { get; }

        public bool IsSilent
        {
            get
            {
                lock (_gate)
                {
                    return _silent;
                }
            }
        }

        /// <summary>Stops the connection passing bytes; false when it was silent already or is gone.</summary>
        public bool Silence()
        {
            lock (_gate)
            {
                if (_silent || _disposed)
                {
                    return false;
                }

                _silent = true;

                // Under the gate, so that a connection ending at this moment cannot dispose the source under it.
                _silence.Cancel();
            }

            return true;
        }

        public void Dispose()
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
            }

            Client.Dispose();
            Upstream.Dispose();
            _silence.Dispose();
        }
    }
}
