namespace RealtimeDemo.Bench.Baselines.Events;

/// <summary>A baseline the publisher hands every event to.</summary>
public interface IEventSink
{
    /// <summary>
    /// Takes one event. Must not block or await: the publisher calls every sink in turn, under its lock,
    /// so a slow sink would slow (and skew) all baselines.
    /// </summary>
    void Publish(EncodedEvent ev);
}
