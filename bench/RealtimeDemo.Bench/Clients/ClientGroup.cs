namespace RealtimeDemo.Bench.Clients;

/// <summary>
/// One run's clients: connected with bounded parallelism, receiving until stopped, and always closed, whether the run
/// completes, fails while connecting or is stopped. Dispose it before the HTTP stack the clients share.
/// </summary>
public sealed class ClientGroup(IReadOnlyList<BenchClient> clients, CancellationToken cancellationToken) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    private List<Task<bool>>? _receiving;
    private Task<int>? _stopped;

    /// <summary>Connects every client, <paramref name="parallelism"/> at a time (thousands of handshakes at once would only measure the accept queue).</summary>
    public async Task ConnectAsync(int parallelism, Action? connected = null)
    {
        using var gate = new SemaphoreSlim(parallelism);
        await Task.WhenAll(clients.Select(async client =>
        {
            await gate.WaitAsync(_stop.Token);
            try
            {
                await client.ConnectAsync(_stop.Token);
                connected?.Invoke();
            }
            catch (Exception) when (!_stop.IsCancellationRequested)
            {
                // One client that cannot connect fails the run: the rest stop connecting instead of opening thousands
                // more for nothing. Theirs end as cancelled, so this exception is the one the caller sees.
                await _stop.CancelAsync();
                throw;
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    public void StartReceiving() => _receiving = clients.Select(client => ReceiveQuietlyAsync(client, _stop.Token)).ToList();

    /// <summary>
    /// Stops receiving and closes every client (once, however often called); returns how many ended before that
    /// (dropped, or failed). Once it returns, no client records anything more.
    /// </summary>
    public Task<int> StopAsync() => _stopped ??= StopOnceAsync();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task<int> StopOnceAsync()
    {
        await _stop.CancelAsync();
        var failures = _receiving is null ? 0 : (await Task.WhenAll(_receiving)).Count(failed => failed);

        // Closed together: a SignalR client's close is a round trip of its own, and it receives until closed.
        await Task.WhenAll(clients.Select(CloseQuietlyAsync));
        return failures;
    }

    private static async Task CloseQuietlyAsync(BenchClient client)
    {
        try
        {
            await client.DisposeAsync();
        }
        catch (Exception)
        {
            // Closing what may never have opened: nothing to report.
        }
    }

    // True when the client ended before being stopped: its missing events show up as lost.
    private static async Task<bool> ReceiveQuietlyAsync(BenchClient client, CancellationToken stop)
    {
        try
        {
            await client.ReceiveAsync(stop);
            return !stop.IsCancellationRequested;
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception)
        {
            return true;
        }
    }
}
