using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// A Serilog sink that keeps every event a host logs (pass <see cref="Register"/> as the host's services), for tests
/// that assert what was logged, or wait for a line written after the client already has its answer.
/// </summary>
public sealed class LogCapture : ILogEventSink
{
    private readonly List<LogEvent> _events = [];
    private readonly List<(Func<LogEvent, bool> Match, TaskCompletionSource<LogEvent> Found)> _waiters = [];

    public void Register(IServiceCollection services) => services.AddSingleton<ILogEventSink>(this);

    /// <summary>Everything logged so far, rendered with its properties, one line per event.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_events)
            {
                return _events.Select(e => $"{e.RenderMessage()} {string.Join(' ', e.Properties.Select(p => $"{p.Key}={p.Value}"))} {e.Exception}").ToList();
            }
        }
    }

    public void Emit(LogEvent logEvent)
    {
        lock (_events)
        {
            _events.Add(logEvent);
            foreach (var waiter in _waiters.Where(w => w.Match(logEvent)).ToList())
            {
                waiter.Found.TrySetResult(logEvent);
                _waiters.Remove(waiter);
            }
        }
    }

    /// <summary>The first event, logged already or yet to come, that <paramref name="match"/> accepts.</summary>
    public Task<LogEvent> WaitForAsync(Func<LogEvent, bool> match, CancellationToken cancellationToken)
    {
        lock (_events)
        {
            if (_events.FirstOrDefault(match) is { } logged)
            {
                return Task.FromResult(logged);
            }

            var found = new TaskCompletionSource<LogEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, found));
            return found.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Waits until an accepted WebSocket's connection has ended and a refused upgrade (<c>401</c> on <c>/ws</c>) has
    /// its request line: the last lines a test that opened both will see.
    /// </summary>
    public async Task WaitForWebSocketEndAndRefusedUpgradeAsync(CancellationToken cancellationToken)
    {
        await WaitForAsync(
            e => e.MessageTemplate.Text.Contains("connection ended", StringComparison.Ordinal) && e.Properties["Transport"].ToString() == "\"websocket\"",
            cancellationToken);
        await WaitForAsync(
            e => e.Properties.TryGetValue("RequestPath", out var path) && path.ToString() == "\"/ws\""
                && e.Properties.TryGetValue("StatusCode", out var status) && status.ToString() == "401",
            cancellationToken);
    }
}
