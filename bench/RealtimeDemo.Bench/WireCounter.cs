using System.Net;
using System.Net.Sockets;

namespace RealtimeDemo.Bench;

/// <summary>
/// Counts every byte a run's clients put on and took off the wire (headers, framing, TLS records and all), by wrapping
/// the sockets that HttpClient and ClientWebSocket open; and counts HTTP requests. Connections to an IPv4 loopback
/// host are spread over several 127.0.0.x source addresses, so tens of thousands fit in the ephemeral port range;
/// to any other host the OS picks the source.
/// </summary>
public sealed class WireCounter
{
    private const int SourceAddresses = 50;
    private long _bytes;
    private long _requests;
    private long _emptyResponses;
    private int _next;

    public long Bytes => Interlocked.Read(ref _bytes);

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Responses that carried no event (counted by the clients that can tell, or by the handler for 204s).</summary>
    public long EmptyResponses => Interlocked.Read(ref _emptyResponses);

    public void CountEmpty() => Interlocked.Increment(ref _emptyResponses);

    /// <summary>
    /// A handler whose connections are counted, into this counter (a run's clients may share one or make their own).
    /// Over TLS the count is of the TCP bytes beneath it: TLS records, their headers and tags, and the handshakes.
    /// With <paramref name="trusted"/>, TLS accepts that certificate alone. HTTP/2 requests share one connection per
    /// handler (none opened beside it when its streams run out).
    /// </summary>
    public HttpMessageHandler CreateHandler(BenchCertificate? trusted = null)
    {
        var sockets = new SocketsHttpHandler
        {
            ConnectCallback = ConnectAsync,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = int.MaxValue,
            AutomaticDecompression = DecompressionMethods.None,
            EnableMultipleHttp2Connections = false,
        };
        if (trusted is not null)
        {
            sockets.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) => trusted.IsThis(presented);
        }

        return new RequestCounter(this) { InnerHandler = sockets };
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var loopback = IsIPv4Loopback(context.DnsEndPoint.Host);
        var socket = loopback
            ? new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }
            : new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }; // dual mode: IPv4 or IPv6
        try
        {
            if (loopback)
            {
                var source = (Interlocked.Increment(ref _next) % SourceAddresses) + 2;
                socket.Bind(new IPEndPoint(new IPAddress([127, 0, 0, (byte)source]), 0));
            }

            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new CountingStream(new NetworkStream(socket, ownsSocket: true), this);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static bool IsIPv4Loopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host, out var address) && address.AddressFamily == AddressFamily.InterNetwork && IPAddress.IsLoopback(address));

    private sealed class RequestCounter(WireCounter counter) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref counter._requests);
            var response = await base.SendAsync(request, cancellationToken);
            // A poll answered with no body at all (a 204, or SignalR's empty long poll, a 200 of length 0) brought nothing.
            // Only GETs: a client's own sends (SignalR's pings are POSTs) are answered empty by design.
            if (request.Method == HttpMethod.Get
                && (response.StatusCode == HttpStatusCode.NoContent || response.Content.Headers.ContentLength == 0))
            {
                counter.CountEmpty();
            }

            return response;
        }
    }

    private sealed class CountingStream(Stream inner, WireCounter counter) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            Interlocked.Add(ref counter._bytes, read);
            return read;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Add(ref counter._bytes, buffer.Length);
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            Interlocked.Add(ref counter._bytes, read);
            return read;
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Interlocked.Add(ref counter._bytes, count);
            inner.Write(buffer, offset, count);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override void Flush() => inner.Flush();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
