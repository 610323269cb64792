using System.Net;
using System.Net.Sockets;

namespace RealtimeDemo.Tests.Infrastructure;

public static class LoopbackPort
{
    /// <summary>A port free on 127.0.0.1 now, for a server a test starts (nginx, redis-server).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
