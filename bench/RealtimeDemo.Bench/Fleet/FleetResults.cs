namespace RealtimeDemo.Bench.Fleet;

/// <summary>
/// One transport beyond one process (<c>--fleet</c>): <see cref="Connections"/> connections held by
/// <see cref="ClientProcesses"/> client processes, spread over <see cref="Hosts"/> hosts sharing one log in Redis, then
/// events published through the hosts in turn, every one checked at every connection. <see cref="SingleHost"/> is the
/// same transport on one host with its log in memory, holding one host's share of the connections, measured in the same
/// run: what the fleet's memory per connection is compared with.
/// </summary>
/// <param name="Transport">long-poll, sse or websocket, in cleartext, each client straight to its host.</param>
/// <param name="Held">Connections up when the memory was read, over every client process.</param>
/// <param name="HeldToEnd">Connections up at the end, once every one had the last event.</param>
/// <param name="MemoryPerConnectionBytes">The hosts' RSS growth over the connections they held, together.</param>
/// <param name="PerHost">Each host's connections and RSS before and after they connected.</param>
/// <param name="SingleHost">The single host's figures, from its own client processes.</param>
/// <param name="Rate">Events per second published, through the hosts in turn.</param>
/// <param name="Seconds">From the first event published until publishing stopped.</param>
/// <param name="DrainSeconds">From then until every connection had the last event (or its client process gave up).</param>
/// <param name="Published">Events stored; every connection must receive each once.</param>
/// <param name="PublishFailed">Publishes refused or not answered: none expected, as no host is cut.</param>
/// <param name="Delivered">Events received, each once, over every connection.</param>
/// <param name="Lost">Seqs a connection never received (without a gap signal), over every connection.</param>
/// <param name="Reconnects">Connections made again after a drop (none expected: nothing is cut).</param>
/// <param name="Refused">Connects or requests that failed.</param>
public sealed record FleetRun(
    string Transport,
    int Hosts,
    int ClientProcesses,
    int Connections,
    int Held,
    int HeldToEnd,
    double MemoryPerConnectionBytes,
    IReadOnlyList<FleetHost> PerHost,
    FleetHost SingleHost,
    double Rate,
    double Seconds,
    double DrainSeconds,
    long Published,
    long PublishFailed,
    long Delivered,
    long Lost,
    long Duplicated,
    long GapSignals,
    long Reconnects,
    long Refused)
{
    /// <summary>Every event at every connection: <see cref="Published"/> × <see cref="Connections"/>.</summary>
    public long Expected => Published * Connections;

    /// <summary>
    /// Events stored per second over <see cref="Seconds"/>: below <see cref="Rate"/> when the hosts answer a publish later
    /// than its tick (the publisher skips a late tick rather than sending a burst), or refuse it.
    /// </summary>
    public double PublishedPerSecond => Seconds > 0 ? Math.Round(Published / Seconds, 2) : 0;

    /// <summary>
    /// Events received per second over every connection, from the first published until the last received: what the
    /// fleet carried at the rate it was given, not the most it could.
    /// </summary>
    public double DeliveriesPerSecond => Seconds + DrainSeconds > 0 ? Math.Round(Delivered / (Seconds + DrainSeconds), 0) : 0;
}

/// <summary>One host's share: the connections it held and its RSS before they connected and after.</summary>
public sealed record FleetHost(int Connections, long RssBeforeBytes, long RssAfterBytes)
{
    public double MemoryPerConnectionBytes => Connections == 0 ? 0 : Math.Round((RssAfterBytes - RssBeforeBytes) / (double)Connections, 0);
}
