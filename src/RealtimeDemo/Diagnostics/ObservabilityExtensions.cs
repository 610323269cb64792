using OpenTelemetry.Metrics;
using Serilog;
using Serilog.Events;

namespace RealtimeDemo.Diagnostics;

public static class ObservabilityExtensions
{
    /// <summary>
    /// Serilog configured from the <c>Serilog</c> section (and sinks registered as services), with no static bootstrap
    /// logger, so several hosts can be built in one process (the tests do); the per-transport counters; and
    /// OpenTelemetry metrics — ours with Kestrel's and ASP.NET Core's own — for the Prometheus endpoint.
    /// </summary>
    public static IServiceCollection AddObservability(this IServiceCollection services, IConfiguration configuration)
    {
        // preserveStaticLogger: each host keeps its own logger instead of replacing the process-wide Log.Logger,
        // which a second host in the same process (the tests run many) would otherwise write its lines through.
        services.AddSerilog(
            (provider, logger) => logger
                .ReadFrom.Configuration(configuration)
                .ReadFrom.Services(provider)
                // The one line per request is the request logging below. The host's own request log is off for good:
                // while it is on, the host also starts an Activity and a log scope for every request, and a stream
                // holds them for its whole life (hundreds of bytes per open connection).
                .MinimumLevel.Override("Microsoft.AspNetCore.Hosting.Diagnostics", LevelAlias.Off)
                .Enrich.FromLogContext(),
            preserveStaticLogger: true);
        services.AddSingleton<TransportStats>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(TransportStats.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
            .AddPrometheusExporter());
        return services;
    }

    /// <summary>One log line per request, naming the client as the forwarded headers tell it.</summary>
    public static IApplicationBuilder UseRequestLogging(this IApplicationBuilder app) =>
        app.UseSerilogRequestLogging(options =>
        {
            // This host's logger, not the static one.
            options.Logger = app.ApplicationServices.GetRequiredService<Serilog.ILogger>();
            options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} from {ClientAddress} ({Scheme}) responded {StatusCode} in {Elapsed:0.0} ms";
            options.EnrichDiagnosticContext = (diagnostics, http) =>
            {
                diagnostics.Set("ClientAddress", http.Connection.RemoteIpAddress?.ToString());
                diagnostics.Set("Scheme", http.Request.Scheme);
            };
        });
}
