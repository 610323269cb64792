// RealtimeDemo.Bench.Baselines: what RealtimeDemo is measured against, in a process of its own. One publisher
// (PUT /rate) feeds three baselines: a raw Kestrel WebSocket broadcast (/raw/ws), a raw Server-Sent Events
// broadcast (/raw/sse) and a SignalR hub (/hub, all three SignalR transports).
using Microsoft.AspNetCore.Http.Connections;
using RealtimeDemo.Bench.Baselines;
using RealtimeDemo.Bench.Baselines.Events;

var builder = WebApplication.CreateBuilder(args);

// Warning and above only: per-request logging would cost more than the baselines being measured.
builder.Logging.SetMinimumLevel(LogLevel.Warning);

builder.Services.AddHealthChecks();

// Every baseline is an IEventSink the publisher hands each event to.
builder.Services.AddSingleton<RawWebSocketBroadcast>();
builder.Services.AddSingleton<RawSseBroadcast>();
builder.Services.AddSingleton<HubBroadcast>();
builder.Services.AddSingleton<IEventSink>(services => services.GetRequiredService<RawWebSocketBroadcast>());
builder.Services.AddSingleton<IEventSink>(services => services.GetRequiredService<RawSseBroadcast>());
builder.Services.AddSingleton<IEventSink>(services => services.GetRequiredService<HubBroadcast>());
builder.Services.AddHostedService(services => services.GetRequiredService<HubBroadcast>());

builder.Services.AddSingleton<Publisher>();
builder.Services.AddHostedService(services => services.GetRequiredService<Publisher>());

// SignalR with its defaults: they apply backpressure to a slow connection but never drop it, so no limit
// needs lifting for the benchmark's clients.
builder.Services.AddSignalR();

var app = builder.Build();

// No AllowedOrigins: any origin may connect.
app.UseWebSockets();

app.MapHealthChecks("/healthz");
app.MapRate();
app.Map("/raw/ws", (HttpContext context, RawWebSocketBroadcast broadcast) => broadcast.HandleAsync(context));
app.MapGet("/raw/sse", (HttpContext context, RawSseBroadcast broadcast) => broadcast.HandleAsync(context));
app.MapHub<EventsHub>("/hub", options =>
    options.Transports = HttpTransportType.WebSockets | HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling);

app.Run();
