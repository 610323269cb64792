using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.Extensions.Options;
using RealtimeDemo.Api;
using RealtimeDemo.Diagnostics;
using RealtimeDemo.Events;

namespace RealtimeDemo.Transports;

/// <summary>
/// Raw WebSockets, <c>/ws?after=…</c>: one JSON event per text frame, control messages (<c>welcome</c>, <c>gap</c>,
/// <c>error</c>) told apart by a <c>control</c> field, and the client may publish on the same socket.
/// </summary>
internal static class WebSocketTransport
{
    /// <summary>How long a closing server waits for the client to answer its close frame before dropping it.</summary>
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    public static IEndpointRouteBuilder MapWebSocket(this IEndpointRouteBuilder app)
    {
        // Map, not MapGet: WebSockets over HTTP/2 arrive as CONNECT requests.
        app.Map("/ws", AcceptAsync);
        return app;
    }

    private static async Task AcceptAsync(
        string? after,
        HttpContext context,
        IEventLog log,
        IOptions<RealtimeOptions> options,
        TransportStats stats,
        TimeProvider time,
        IHostApplicationLifetime lifetime)
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

        var settings = options.Value;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            // Pings with a deadline for the pong: without one a dead peer is never noticed.
            KeepAliveInterval = settings.WebSocketKeepAliveInterval,
            KeepAliveTimeout = settings.WebSocketKeepAliveTimeout,
        });
        using var connection = stats.Open(Transport.WebSocket);
        var session = new Session(socket, new CursorReader(log, cursor, settings.ReadBatchSize, time), log, settings, connection);
        await session.RunAsync(ControlMessages.Welcome(cursor, time.GetUtcNow()), context.RequestAborted, lifetime.ApplicationStopping);
    }

    /// <summary>One connection: a send loop that follows the log, and a receive loop that takes the client's messages.</summary>
    private sealed class Session(WebSocket socket, CursorReader reader, IEventLog log, RealtimeOptions settings, TransportStats.OpenConnection connection)
    {
        // The two loops both send (events, error frames, close): a WebSocket allows one send at a time.
        private readonly SemaphoreSlim _sendLock = new(1, 1);
        private readonly CancellationTokenSource _stopSending = new();

        public async Task RunAsync(byte[] welcome, CancellationToken aborted, CancellationToken stopping)
        {
            using var sendUntil = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping, _stopSending.Token);

            // The receive loop is never cancelled by shutdown: it must stay to read the client's answer to our close frame.
            var receiving = ReceiveLoopAsync(aborted);
            try
            {
                await SendAsync(welcome, sendUntil.Token);
                await SendLoopAsync(sendUntil.Token);
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

            connection.End(EndReason.ClientClosed);
            await receiving.WaitAsync(CloseHandshakeTimeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (!receiving.IsCompleted)
            {
                // The peer never answered the close frame: cut it, and let the receive loop finish on the abort.
                socket.Abort();
                await receiving;
            }
        }

        private async Task SendLoopAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                var (events, gap) = reader.Read();
                if (gap is not GapReason.None)
                {
                    await SendAsync(ControlMessages.Gap(gap, log.Epoch), cancellationToken);
                }

                if (events.IsEmpty)
                {
                    await reader.WaitAsync(Timeout.InfiniteTimeSpan, cancellationToken);
                    continue;
                }

                await _sendLock.WaitAsync(cancellationToken);
                try
                {
                    foreach (var stored in events.Span.ToArray())
                    {
                        await socket.SendAsync(stored.Json, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
                    }
                }
                finally
                {
                    _sendLock.Release();
                }

                connection.CountDelivered(events.Length);
            }
        }

        private async Task ReceiveLoopAsync(CancellationToken aborted)
        {
            // Rented per connection and returned when it ends; one message may not exceed the publish body limit.
            var buffer = ArrayPool<byte>.Shared.Rent(settings.MaxPublishBodyBytes);
            try
            {
                while (true)
                {
                    var message = buffer.AsMemory(0, settings.MaxPublishBodyBytes);
                    var length = 0;
                    ValueWebSocketReceiveResult received;
                    do
                    {
                        if (length == message.Length)
                        {
                            await RefuseAsync(WebSocketCloseStatus.MessageTooBig, $"a message may be at most {settings.MaxPublishBodyBytes} bytes");
                            return;
                        }

                        received = await socket.ReceiveAsync(message[length..], aborted);
                        length += received.Count;
                    }
                    while (!received.EndOfMessage);

                    switch (received.MessageType)
                    {
                        case WebSocketMessageType.Close:
                            connection.End(EndReason.ClientClosed);
                            await CloseAsync(WebSocketCloseStatus.NormalClosure, "");
                            return;
                        case WebSocketMessageType.Binary:
                            await RefuseAsync(WebSocketCloseStatus.InvalidMessageType, "only text messages are accepted");
                            return;
                        case WebSocketMessageType.Text when !Utf8.IsValid(message.Span[..length]):
                            await RefuseAsync(WebSocketCloseStatus.InvalidPayloadData, "a text message must be valid UTF-8");
                            return;
                        default:
                            await HandleMessageAsync(message[..length], aborted);
                            break;
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
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        /// <summary>Handles <c>{"type": "publish", "event": {"type", "data"}}</c>; anything else earns an error frame.</summary>
        private async Task HandleMessageAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
        {
            byte[]? error;
            try
            {
                using var document = JsonDocument.Parse(message, PublishRequest.DocumentOptions);
                error = await PublishAsync(document.RootElement, cancellationToken);
            }
            catch (JsonException exception)
            {
                error = ControlMessages.Error("message", $"is not valid JSON: {exception.Message}");
            }

            if (error is not null)
            {
                await SendAsync(error, cancellationToken);
            }
        }

        private async Task<byte[]?> PublishAsync(JsonElement message, CancellationToken cancellationToken)
        {
            if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("type"u8, out var type) || type.ValueKind != JsonValueKind.String)
            {
                return ControlMessages.Error("type", "is required: a message is {\"type\": \"publish\", \"event\": {\"type\", \"data\"}}");
            }

            if (!type.ValueEquals("publish"u8))
            {
                return ControlMessages.Error("type", "is not a known message type; the only one is \"publish\"");
            }

            if (!message.TryGetProperty("event"u8, out var body))
            {
                return ControlMessages.Error("event", "is required: the event to publish, {\"type\", \"data\"}");
            }

            if (!PublishRequest.TryCreate(body, settings.MaxEventDataBytes, out var publish, out var refused, field: "event."))
            {
                return ControlMessages.Error(refused.Field, refused.ToString());
            }

            await log.AppendAsync(publish.Type, publish.Data, cancellationToken);
            return null;
        }

        private async Task SendAsync(byte[] message, CancellationToken cancellationToken)
        {
            await _sendLock.WaitAsync(cancellationToken);
            try
            {
                await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            }
            finally
            {
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
