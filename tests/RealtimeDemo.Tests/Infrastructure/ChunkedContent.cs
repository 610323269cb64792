namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// A body sent chunked, with no Content-Length, in small flushed writes: the server must find a size limit by reading,
/// not from a header.
/// </summary>
public sealed class ChunkedContent(byte[] bytes, int chunkBytes = 1_000) : HttpContent
{
    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
    {
        for (var start = 0; start < bytes.Length; start += chunkBytes)
        {
            await stream.WriteAsync(bytes.AsMemory(start, Math.Min(chunkBytes, bytes.Length - start)), cancellationToken);
            await stream.FlushAsync(cancellationToken);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
