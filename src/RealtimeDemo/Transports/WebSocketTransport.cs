using System.Buffers;
using System.Net.WebSockets;
using System.Text.Unicode;
using Microsoft.Extensions.Options;
using RealtimeDemo.Diagnostics;
using RealtimeDemo.Http;
using RealtimeDemo.Limits;
using RealtimeDemo.Log;
using RealtimeDemo.Publishing;
using RealtimeDemo.Tokens;

namespace RealtimeDemo.Transports;

/// <summary>
/// Raw WebSockets, <c>/ws?after=…</c>: one JSON event per text frame, control messages (<c>welcome</c>,
/// <c>heartbeat</c>, <c>gap</c>, <c>error</c>, <c>refreshed</c>) told apart by a <c>control</c> field, and the client
/// may publish on the same socket. A connection opened with a reader token closes at its expiry (4401), unless the
/// client refreshes it in place first.
/// </summary>
internal static partial class WebSocketTransport
{
    /// <summary>The close code of a connection whose reader token expired: 4000-4999 are the application's, and 401 says why.</summary>
    private const WebSocketCloseStatus TokenExpired = (WebSocketCloseStatus)4401;

    /// <summary>How long a closing server waits for the client to answer its close frame before dropping it.</summary>
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    public static IEndpointRouteBuilder MapWebSocket(this IEndpointRouteBuilder app)
    {
        // Map, not MapGet: WebSockets over HTTP/2 arrive as CONNECT requests.
        app.Map("/ws", AcceptAsync).RequireConnectionCap(Transport.WebSocket).RequireReaderToken(fromQuery: true);
        return app;
    }

    private static async Task AcceptAsync(
        string? after,
        HttpContext context,
        IEventLog log,
        IOptions<TransportOptions> options,
        IOptions<PublishingOptions> publishingOptions,
        IOptions<ReaderTokenOptions> tokenOptions,
        TransportStats stats,
        TimeProvider time,
        PublishRateLimiter publishLimit,
        SlowReaderWatchdog watchdog,
        IHostApplicationLifetime lifetime,
        ILogger<Session> logger)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Problems.Invalid("upgrade", "is required: /ws speaks the WebSocket protocol only").ExecuteAsync(context);
            return;
        }

        stats.CountRequest(Transport.WebSocket);

        // A bad cursor is refused before the upgrade, as a plain 400 a client can read.
        if (!CursorQuery.TryResolve(after, "after", log, out var cursor, out var problem))
        {
            await problem.ExecuteAsync(context);
            return;
        }

        // Reading needs no key; a wrong key is refused before the upgrade, a missing one only when the client publishes.
        var settings = options.Value;
        var access = PublishKey.Verify(context.Request, publishingOptions.Value, allowQueryToken: true, tokenOptions.Value.RequireReaderToken);
        if (access == PublishKey.Check.Wrong)
        {
            await PublishKey.Unauthorized(context, access).ExecuteAsync(context);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            // Pings with a deadline for the pong: without one a dead peer is never noticed.
            KeepAliveInterval = settings.WebSocketKeepAliveInterval,
            KeepAliveTimeout = settings.WebSocketKeepAliveTimeout,
        });
        using var connection = stats.Open(Transport.WebSocket);
        using var watch = watchdog.Start(Transport.WebSocket, connection, context);
        using var reader = new CursorReader(log, cursor, settings.ReadBatchSize, time, longLived: true);
        using var expiry = ConnectionExpiry.Start(ReaderToken.ExpiresAt(context), time);

        // Only a connection opened with a reader token can refresh it; elsewhere a refresh is an unknown message.
        var tokenCheck = expiry.ExpiresAt is null ? null : context.RequestServices.GetService<IReaderTokenCheck>();
        var name = ReaderToken.Name(context);
        var publisher = new WebSocketPublisher(
            log, publishingOptions.Value, access == PublishKey.Check.Granted, name, publishLimit, context, acceptsRefresh: tokenCheck is not null);
        var session = new Session(
            socket, log, reader, settings.HeartbeatInterval, connection, watch, publisher, expiry, tokenCheck, name, logger, context.RequestAborted);
        await session.RunAsync(ControlMessages.Welcome(cursor, log.Epoch, time.GetUtcNow(), settings.HeartbeatInterval), lifetime.ApplicationStopping);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "WebSocket receive loop failed; the connection is closed with 1011")]
    private static partial void LogReceiveFailed(ILogger logger, Exception exception);

    /// <summary>One connection: a send loop that follows the log, and a receive loop that takes the client's messages.</summary>
    /// <remarks>
    /// Its logger is the one <c>ILogger&lt;Session&gt;</c> every connection shares (category
    /// <c>…WebSocketTransport.Session</c>): Serilog's logger factory makes a new logger, with caches of its own, on every
    /// <c>CreateLogger</c> call.
    /// <para>
    /// Frames are sent without a cancellation token. With a cancellable one the platform's socket takes its slow path
    /// for every frame (an async state machine and a token registration each), and cancelling a send in flight aborts
    /// the whole socket, which would lose the close handshake. Stopping is checked between frames instead; a send
    /// stuck on a client that stopped reading ends when the connection is aborted (the watchdog, or the client leaving).
    /// </para>
    /// </remarks>
    private sealed class Session(
        WebSocket socket,
        IEventLog log,
        CursorReader reader,
        TimeSpan heartbeat,
        TransportStats.OpenConnection connection,
        SlowReaderWatchdog.Watch watch,
        WebSocketPublisher publisher,
        ConnectionExpiry expiry,
        IReaderTokenCheck? tokenCheck,
        string? readerName,
        ILogger logger,
        CancellationToken aborted)
    {
        // The two loops both send (events, error frames, close): a WebSocket allows one send at a time.
        private readonly SemaphoreSlim _sendLock = new(1, 1);
        private readonly CancellationTokenSource _stopSending = new();

        public async Task RunAsync(byte[] welcome, CancellationToken stopping)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping, _stopSending.Token);
            try
            {
                // The welcome goes first, before the receive loop could answer anything with an error frame.
                await SendAsync(welcome, stop.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or WebSocketException or IOException)
            {
                connection.End(EndReason.ClientClosed);
                return;
            }

            // Never cancelled by shutdown: it stays to read the client's answer to our close frame.
            var receiving = ReceiveLoopAsync();

            // The token's expiry stops the event stream too; only a connection with one needs a token of its own for it.
            using var sendStop = expiry.Passed.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(stop.Token, expiry.Passed) : null;
            try
            {
                await SendLoopAsync(sendStop?.Token ?? stop.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or WebSocketException or IOException)
            {
                // The connection is ending; the reason is decided below from what ended it.
            }

            if (stopping.IsCancellationRequested && !_stopSending.IsCancellationRequested)
            {
                // Going away (1001): the client reconnects, to this host once it is back or to another, and resumes.
                connection.End(EndReason.ServerShutdown);
                await CloseQuietlyAsync(WebSocketCloseStatus.EndpointUnavailable, "server shutting down");
            }
            else if (expiry.HasPassed && !_stopSending.IsCancellationRequested)
            {
                // The client signs in again and resumes from its cursor (or refreshes in place next time, before expiry).
                connection.End(EndReason.TokenExpired);
                await CloseQuietlyAsync(TokenExpired, "token expired");
            }

            connection.End(EndReason.ClientClosed);
            await receiving.WaitAsync(CloseHandshakeTimeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (!receiving.IsCompleted)
            {
                // The peer never answered the close frame: cut it, and let the receive loop finish on the abort.
                socket.Abort();
            }

            await receiving;
        }

        private async Task SendLoopAsync(CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                var (events, gap) = reader.Read();

                // Checked before every batch: nothing is sent past the token's expiry (the connection then closes).
                if (expiry.HasPassed)
                {
                    return;
                }

                if (gap is not GapReason.None)
                {
                    await SendAsync(ControlMessages.Gap(gap, reader.ResumedFrom(events)), stop);
                }

                if (events.IsEmpty)
                {
                    // As on SSE, the heartbeat is the wait's timeout. Protocol pings keep the connection open, but a
                    // page cannot see them: this message is what tells it the stream is alive, and where the head is.
                    if (!await reader.WaitAsync(heartbeat, stop) && !expiry.HasPassed)
                    {
                        await SendAsync(ControlMessages.Heartbeat(log.Head), stop);
                    }

                    continue;
                }

                await _sendLock.WaitAsync(stop);
                var sent = 0;
                try
                {
                    for (; sent < events.Length && !stop.IsCancellationRequested; sent++)
                    {
                        // Watched per frame: the timeout bounds one write, however long the batch.
                        watch.Writing();
                        await socket.SendAsync(events.Span[sent].Json, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                    }
                }
                finally
                {
                    watch.Written();
                    _sendLock.Release();
                    connection.CountDelivered(sent);
                }
            }
        }

        private async Task ReceiveLoopAsync()
        {
            byte[]? buffer = null;
            try
            {
                while (true)
                {
                    // An idle socket waits with no buffer: a zero-byte read completes once data arrives, and only then
                    // is a buffer rented (one message may not exceed the publish body limit). Idle connections stay small.
                    // An empty message is taken whole by that read (it ends the message): it is handled like any other.
                    var received = await socket.ReceiveAsync(Memory<byte>.Empty, aborted);
                    var message = Memory<byte>.Empty;
                    var length = 0;
                    if (!received.EndOfMessage)
                    {
                        buffer = ArrayPool<byte>.Shared.Rent(publisher.MaxMessageBytes);
                        message = buffer.AsMemory(0, publisher.MaxMessageBytes);
                        do
                        {
                            if (length == message.Length)
                            {
                                await RefuseAsync(WebSocketCloseStatus.MessageTooBig, $"a message may be at most {publisher.MaxMessageBytes} bytes");
                                return;
                            }

                            received = await socket.ReceiveAsync(message[length..], aborted);
                            length += received.Count;
                        }
                        while (!received.EndOfMessage);
                    }

                    switch (received.MessageType)
                    {
                        case WebSocketMessageType.Close:
                            connection.End(EndReason.ClientClosed);
                            await CloseAsync(WebSocketCloseStatus.NormalClosure, "");
                            return;
                        case WebSocketMessageType.Binary:
                            await RefuseAsync(WebSocketCloseStatus.InvalidMessageType, "only text messages are accepted");
                            return;
                        // Kestrel's socket checks UTF-8 itself (the Faulted case below); this covers sockets that do not.
                        case WebSocketMessageType.Text when !Utf8.IsValid(message.Span[..length]):
                            await RefuseAsync(WebSocketCloseStatus.InvalidPayloadData, "a text message must be valid UTF-8");
                            return;
                        default:
                            if (!await HandleMessageAsync(message[..length]))
                            {
                                return;
                            }

                            break;
                    }

                    if (buffer is not null)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = null;
                    }
                }
            }
            catch (WebSocketException exception) when (exception.WebSocketErrorCode == WebSocketError.Faulted)
            {
                // The platform's socket refused a protocol error itself (invalid UTF-8 → 1007) and has sent its close
                // frame. Ending the request now would reset the connection under that frame before the client reads it,
                // so linger until the client hangs up, within the close handshake's bound.
                connection.End("refused: protocol error (" + exception.Message + ")");
                _stopSending.Cancel();
                await Task.Delay(CloseHandshakeTimeout, aborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            catch (Exception exception) when (exception is OperationCanceledException or WebSocketException or IOException)
            {
                // The peer vanished or the socket was aborted: nothing left to read.
                connection.End(EndReason.ClientClosed);
                _stopSending.Cancel();
            }
            catch (Exception exception)
            {
                // A bug of ours must end this connection cleanly (1011), not leave it unread and unanswered.
                LogReceiveFailed(logger, exception);
                connection.End(EndReason.Error);
                await CloseQuietlyAsync(WebSocketCloseStatus.InternalServerError, "server error");
            }
            finally
            {
                if (buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }

        /// <summary>
        /// Takes a client's message (a publish or a refresh); a refusal earns an error frame and the socket stays open.
        /// False when the connection was closed instead: a publish without the key.
        /// </summary>
        private async Task<bool> HandleMessageAsync(ReadOnlyMemory<byte> message)
        {
            var result = await publisher.TakeAsync(message, aborted);
            if (result.RefreshToken is { } token)
            {
                await RefreshAsync(token);
                return true;
            }

            if (result.IsKeyMissing)
            {
                await RefuseAsync(WebSocketCloseStatus.PolicyViolation, "publishing requires the publish key (?token= or X-Publish-Key)");
                return false;
            }

            if (result is { Field: { } field, Message: { } refusal })
            {
                await SendAsync(ControlMessages.Error(field, refusal), aborted);
            }

            return true;
        }

        /// <summary>
        /// Moves the connection's expiry to a new token's, if the token is valid and names the connection's reader, and
        /// says so (<c>refreshed</c>); otherwise an error frame, and the old expiry stands.
        /// </summary>
        private async Task RefreshAsync(string token)
        {
            var (name, expiresAt, error) = await tokenCheck!.ValidateAsync(token, aborted);
            var answer = error is not null ? ControlMessages.Error("token", error)
                : !string.Equals(name, readerName, StringComparison.Ordinal) ? ControlMessages.Error("token", "token names another reader than this connection's")
                : expiresAt is not { } at ? ControlMessages.Error("token", "token has no expiry")
                : expiry.TryMove(at) ? ControlMessages.Refreshed(at)
                : expiry.HasPassed ? null // too late: the connection is closing with 4401
                : ControlMessages.Error("token", "token has expired");
            if (answer is not null)
            {
                await SendAsync(answer, aborted);
            }
        }

        private async Task SendAsync(byte[] message, CancellationToken lockWait)
        {
            await _sendLock.WaitAsync(lockWait);
            watch.Writing();
            try
            {
                await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
            finally
            {
                watch.Written();
                _sendLock.Release();
            }
        }

        /// <summary>Ends the connection over a client's protocol error, with the close code that names it.</summary>
        private async Task RefuseAsync(WebSocketCloseStatus status, string reason)
        {
            connection.End($"refused: {reason}");
            await CloseAsync(status, reason);
        }

        private async Task CloseQuietlyAsync(WebSocketCloseStatus status, string reason)
        {
            try
            {
                await CloseAsync(status, reason);
            }
            catch (Exception exception) when (exception is OperationCanceledException or WebSocketException or IOException)
            {
                // The peer is already gone: there is nobody left to tell.
            }
        }

        /// <summary>Stops the event stream, then sends our close frame (or answers the client's).</summary>
        private async Task CloseAsync(WebSocketCloseStatus status, string reason)
        {
            _stopSending.Cancel();
            using var timeout = new CancellationTokenSource(CloseHandshakeTimeout);
            await _sendLock.WaitAsync(timeout.Token);
            try
            {
                if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(status, reason, timeout.Token);
                }
            }
            finally
            {
                _sendLock.Release();
            }
        }
    }
}
