using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// A WebSocket client written by hand over TCP, for what <see cref="System.Net.WebSockets.ClientWebSocket"/> will not
/// do: send any Host or Origin, send frames no conforming client sends, or stop reading after the handshake.
/// </summary>
public static class RawWebSocket
{
    /// <summary>Sends a WebSocket upgrade: the connection (left open), the status code and the head of the answer.</summary>
    /// <param name="host">The Host header; the server's own authority when null.</param>
    /// <param name="origin">The Origin header; none when null, as from a client that is not a browser.</param>
    /// <param name="receiveBufferSize">The client's socket receive buffer, small for a client that will not read.</param>
    public static Task<(TcpClient Connection, int Status, string Head)> HandshakeAsync(
        Uri server, string pathAndQuery, CancellationToken cancellationToken, string? host = null, string? origin = null, int? receiveBufferSize = null) =>
        RequestAsync(
            server,
            $"GET {pathAndQuery} HTTP/1.1\r\nHost: {host ?? server.Authority}\r\n"
                + string.Concat(TestClients.UpgradeHeaders.Select(header => $"{header.Name}: {header.Value}\r\n"))
                + (origin is null ? "" : $"Origin: {origin}\r\n") + "\r\n",
            cancellationToken,
            receiveBufferSize);

    /// <summary>
    /// Sends a request head as given and reads the head of the answer one byte at a time, so nothing after it is taken
    /// from the connection: the connection (left open), the status code and the head.
    /// </summary>
    public static async Task<(TcpClient Connection, int Status, string Head)> RequestAsync(
        Uri server, string requestHead, CancellationToken cancellationToken, int? receiveBufferSize = null)
    {
        var tcp = new TcpClient();
        try
        {
            if (receiveBufferSize is { } size)
            {
                tcp.ReceiveBufferSize = size;
            }

            await tcp.ConnectAsync(IPAddress.Loopback, server.Port, cancellationToken);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(requestHead), cancellationToken);

            var head = new StringBuilder();
            var one = new byte[1];
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                if (await stream.ReadAsync(one, cancellationToken) == 0)
                {
                    throw new InvalidOperationException($"The server closed the connection after: {head}");
                }

                head.Append((char)one[0]);
            }

            var text = head.ToString();
            return (tcp, int.Parse(text.Split(' ')[1], CultureInfo.InvariantCulture), text);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Reads one server frame (never masked): its opcode and payload.</summary>
    public static async Task<(int Opcode, byte[] Payload)> ReadFrameAsync(Stream stream, CancellationToken cancellationToken)
    {
        var header = new byte[2];
        await stream.ReadExactlyAsync(header, cancellationToken);
        long length = header[1] & 0x7F;
        if (length >= 126)
        {
            var extended = new byte[length == 126 ? 2 : 8];
            await stream.ReadExactlyAsync(extended, cancellationToken);
            length = extended.Aggregate(0L, (value, b) => value << 8 | b);
        }

        var payload = new byte[length];
        await stream.ReadExactlyAsync(payload, cancellationToken);
        return (header[0] & 0x0F, payload);
    }

    /// <summary>Reads the first frame after the handshake and asserts it is the welcome, as text.</summary>
    public static async Task AssertWelcomeAsync(Stream stream, CancellationToken cancellationToken)
    {
        var (opcode, welcome) = await ReadFrameAsync(stream, cancellationToken);
        Assert.Equal(0x1, opcode);
        using var message = JsonDocument.Parse(welcome);
        Assert.Equal("welcome", message.RootElement.GetProperty("control").GetString());
    }
}
