using OpenTelemetry.Metrics;
using RealtimeDemo.Api;
using RealtimeDemo.Diagnostics;
using RealtimeDemo.Events;
using RealtimeDemo.Hosting;
using RealtimeDemo.Transports;
using Serilog;

// Settings and the page (the top-level wwwroot/) are read from next to the binaries, where the build copies
// them: the same files for `dotnet run`, the tests and the published image, whatever the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
});

// Logging: Serilog configured from appsettings.json; no static bootstrap logger, so test hosts can be built repeatedly.
builder.Services.AddSerilog((services, logger) => logger
    .ReadFrom.Configuration(builder.Configuration)
    .ReadFrom.Services(services)
    .Enrich.FromLogContext());

// The event log, its validated "Realtime" options and the demo ticker.
builder.Services.AddEventLog();

// Behind a reverse proxy: the client's address and scheme from X-Forwarded-* of trusted proxies only.
builder.Services.AddReverseProxySupport(builder.Configuration);

// Errors as problem details, liveness, per-transport counters.
builder.Services.AddProblemDetails();
builder.Services.AddHealthChecks();
builder.Services.AddSingleton<TransportStats>();

// Metrics: our transport counters with Kestrel's and ASP.NET Core's own, scraped as Prometheus text at /metrics.
builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
    .AddMeter(TransportStats.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
    .AddPrometheusExporter());

var app = builder.Build();

app.UseForwardedHeaders();
app.UseSerilogRequestLogging(options =>
{
    options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} from {ClientAddress} ({Scheme}) responded {StatusCode} in {Elapsed:0.0} ms";
    options.EnrichDiagnosticContext = (diagnostics, http) =>
    {
        diagnostics.Set("ClientAddress", http.Connection.RemoteIpAddress?.ToString());
        diagnostics.Set("Scheme", http.Request.Scheme);
    };
});
app.UseExceptionHandler(new ExceptionHandlerOptions
{
    // A request the framework could not read (bad JSON body, body over Kestrel's limit) is the client's error, not ours.
    StatusCodeSelector = exception => exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
});
app.UseStatusCodePages();

// The page.
app.UseDefaultFiles();
app.UseStaticFiles();

app.UseWebSockets();

app.MapHealthChecks("/healthz");
app.MapPrometheusScrapingEndpoint("/metrics");
app.MapStats();
app.MapPublish();
app.MapTicker();

// The four ways to read the one log.
app.MapShortPoll();
app.MapLongPoll();
app.MapSse();
app.MapWebSocket();

app.Run();
