namespace RealtimeDemo.Ticker;

/// <summary>
/// Whether this host's demo ticker may publish now. Several hosts sharing one log would otherwise multiply the demo
/// stream: only the holder of the lease ticks; the others keep time and skip their ticks.
/// </summary>
public interface ITickerLease
{
    /// <summary>True while this host holds the lease (taking or renewing it as needed); false when another host does.</summary>
    ValueTask<bool> HoldAsync(CancellationToken cancellationToken);

    /// <summary>Gives the lease up, if held, when this host's ticker stops: another host need not wait for it to lapse.</summary>
    ValueTask ReleaseAsync();
}

/// <summary>The lease of a host whose log nobody else publishes to (the in-memory log): always held.</summary>
public sealed class SoleTickerLease : ITickerLease
{
    public ValueTask<bool> HoldAsync(CancellationToken cancellationToken) => ValueTask.FromResult(true);

    public ValueTask ReleaseAsync() => ValueTask.CompletedTask;
}
