namespace RealtimeDemo.Bench.Baselines.Events;

/// <summary>
/// One event, with the fields and wire shape of RealtimeDemo's: <c>{"id","seq","type","data","time"}</c>.
/// SignalR serialises this record itself (camelCase, JSON hub protocol); the raw baselines send
/// <see cref="EncodedEvent"/>'s bytes instead.
/// </summary>
/// <param name="Id"><c>{epoch}-{seq}</c>, like RealtimeDemo's cursor.</param>
/// <param name="Time">UTC with milliseconds, <c>2026-11-23T18:00:00.123Z</c>, kept as text so every transport sends the same characters.</param>
public sealed record BaselineEvent(string Id, long Seq, string Type, TickData Data, string Time);

/// <summary>The payload of a <c>tick</c>: a simulated price step, as RealtimeDemo's demo ticker publishes.</summary>
public sealed record TickData(string Symbol, decimal Price, decimal Change);
