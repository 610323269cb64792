using RealtimeDemo.Diagnostics;
using RealtimeDemo.Hosting;
using RealtimeDemo.Http;
using RealtimeDemo.Limits;
using RealtimeDemo.Log;
using RealtimeDemo.Publishing;
using RealtimeDemo.Security;
using RealtimeDemo.Ticker;
using RealtimeDemo.Tokens;
using RealtimeDemo.Transports;

// Settings and the page (the top-level wwwroot/) are read from next to the binaries, where the build copies
// them: the same files for `dotnet run`, the tests and the published image, whatever the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

// Kestrel's limits (sizes, data rates, keep-alive), as appsettings.json sets them; HTTPS with HTTP/2 in Development
// even where no certificate is set up.
builder.WebHost.UseKestrelLimitsFromConfiguration();
builder.WebHost.UseDevelopmentHttps();

// The event log (in memory, or shared in Redis), the demo ticker that feeds it, the rules for publishing to it and
// the transports that read it; each validates its own part of the "Realtime" settings at start.
builder.Services.AddEventLog(builder.Configuration);
builder.Services.AddDemoTicker(builder.Configuration);
builder.Services.AddPublishing();
builder.Services.AddTransports();

// Serilog, per-transport counters, OpenTelemetry metrics.
builder.Services.AddObservability(builder.Configuration);

// Behind a reverse proxy: the client's address and scheme from X-Forwarded-* of trusted proxies only.
builder.Services.AddReverseProxySupport(builder.Configuration);

// Which pages may use the host; how much each client and each transport may take.
builder.Services.AddOriginCheck();
builder.Services.AddLimits();

// Signed-in readers: when Realtime:RequireReaderToken is on, reading and publishing need a bearer token.
builder.Services.AddReaderTokens(builder.Configuration);

// Errors as problem details (an unreachable event store is a 503); liveness, and readiness of a shared log.
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<EventLogUnavailableHandler>();
builder.Services.AddHealthChecks();

var app = builder.Build();

app.UseForwardedHeaders();
app.UseRequestLogging();
app.UseExceptionHandler(new ExceptionHandlerOptions
{
    // A request the framework could not read (bad JSON body, body over Kestrel's limit) is the client's error, not ours.
    StatusCodeSelector = exception => exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
});
app.UseStatusCodePages();

// The page.
app.UseDefaultFiles();
app.UseStaticFiles();

app.UseOriginCheck();
app.UseReaderTokens();
app.UseConnectionCaps();
app.UseWebSockets();

// Health and metrics.
app.MapHealthChecks("/healthz");
app.MapPrometheusScrapingEndpoint("/metrics");

// The API: the page's stats and ticker control, the demo sign-in, publishing, and three of the four ways to read the
// one log.
var api = app.MapGroup("/api");
api.MapStats();
api.MapTicker();
api.MapTokens();
api.MapPublish();
api.MapShortPoll();
api.MapLongPoll();
api.MapSse();

// The fourth, beside the API: a WebSocket is its own protocol once upgraded.
app.MapWebSocket();

app.Run();
