using System.ComponentModel.DataAnnotations;

namespace RealtimeDemo.Log;

/// <summary>The log's settings in the <c>Realtime</c> section: where it lives and how much it keeps.</summary>
public sealed class EventLogOptions
{
    /// <summary>Where the log lives: in this host's memory, or in Redis, shared by every host that names the same one.</summary>
    public EventStore Store { get; init; } = EventStore.Memory;

    /// <summary>The shared log's name in Redis (the prefix of its keys): hosts that share a log use the same.</summary>
    [RegularExpression("^[A-Za-z0-9._-]{1,64}$", ErrorMessage = "Realtime:RedisKeyPrefix must be 1-64 letters, digits, '.', '_' or '-'.")]
    public string RedisKeyPrefix { get; init; } = "realtimedemo";

    /// <summary>How many of the newest events the log keeps for readers that resume.</summary>
    [Range(16, 10_000_000, ErrorMessage = "Realtime:Retention must be between {1} and {2} events.")]
    public int Retention { get; init; } = 10_000;
}

/// <summary>The value of <see cref="EventLogOptions.Store"/>.</summary>
public enum EventStore
{
    /// <summary>The embedded ring: one host, a new epoch every start.</summary>
    Memory,

    /// <summary>A Redis stream (<c>ConnectionStrings:Redis</c>) shared by several hosts behind a load balancer.</summary>
    Redis,
}
