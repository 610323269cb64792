using RealtimeDemo.Diagnostics;
using RealtimeDemo.Events;
using RealtimeDemo.Transports;
using Serilog;

// The page is the top-level wwwroot/, which the build copies next to the binaries: the same files for
// `dotnet run`, the tests and the published image, wherever the process is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
});

// Logging: Serilog configured from appsettings.json; no static bootstrap logger, so test hosts can be built repeatedly.
builder.Services.AddSerilog((services, logger) => logger
    .ReadFrom.Configuration(builder.Configuration)
    .ReadFrom.Services(services)
    .Enrich.FromLogContext());

// The event log, its validated "Realtime" options and the demo ticker.
builder.Services.AddEventLog();

// Errors as problem details, liveness, per-transport counters.
builder.Services.AddProblemDetails();
builder.Services.AddHealthChecks();
builder.Services.AddSingleton<TransportStats>();

var app = builder.Build();

app.UseSerilogRequestLogging();
app.UseExceptionHandler();
app.UseStatusCodePages();

// The page.
app.UseDefaultFiles();
app.UseStaticFiles();

app.UseWebSockets();

app.MapHealthChecks("/healthz");
app.MapStats();
app.MapPublish();

// The four ways to read the one log.
app.MapShortPoll();
app.MapLongPoll();
app.MapSse();
app.MapWebSocket();

app.Run();
