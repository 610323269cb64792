using Microsoft.AspNetCore.SignalR;

namespace RealtimeDemo.Bench.Baselines;

/// <summary>
/// <c>/hub</c>: the SignalR baseline. Clients only listen: every event arrives as the client method
/// <c>event</c>, sent by <see cref="HubBroadcast"/> through <c>IHubContext</c>, so the hub declares nothing.
/// </summary>
public sealed class EventsHub : Hub;
