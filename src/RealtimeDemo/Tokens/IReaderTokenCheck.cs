namespace RealtimeDemo.Tokens;

/// <summary>
/// Validates a reader token a client presents on an open connection (a WebSocket's in-place refresh) by the same rules
/// as one presented on a request. The host's is <see cref="ReaderTokenValidator"/>; tests put their own in its place.
/// </summary>
public interface IReaderTokenCheck
{
    /// <summary>The token's reader name and expiry when it is valid now; otherwise the sentence that says why not.</summary>
    Task<ReaderTokenCheck> ValidateAsync(string token, CancellationToken cancellationToken = default);
}
