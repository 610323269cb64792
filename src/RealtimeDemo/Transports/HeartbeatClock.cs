using Microsoft.Extensions.Options;

namespace RealtimeDemo.Transports;

/// <summary>
/// One clock for every SSE stream's heartbeat: a shared signal that completes each
/// <see cref="RealtimeOptions.SseHeartbeatInterval"/>, so idle streams wait on it instead of each arming a timer of
/// its own on every wait.
/// </summary>
public sealed class HeartbeatClock(IOptions<RealtimeOptions> options, TimeProvider time) : BackgroundService
{
    private TaskCompletionSource _nextBeat = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next beat.</summary>
    public Task NextBeat => Volatile.Read(ref _nextBeat).Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SseHeartbeatInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            Interlocked.Exchange(ref _nextBeat, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).SetResult();
        }
    }
}
