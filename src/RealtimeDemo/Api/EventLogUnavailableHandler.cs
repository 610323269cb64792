using Microsoft.AspNetCore.Diagnostics;
using RealtimeDemo.Events;

namespace RealtimeDemo.Api;

/// <summary>
/// A publish the log's store could not take (Redis down) is <c>503</c> with <c>Retry-After</c> and a problem body
/// that says so, wherever it was thrown: the client may retry; nothing about its request was wrong.
/// </summary>
internal sealed class EventLogUnavailableHandler(IProblemDetailsService problems) : IExceptionHandler
{
    /// <summary>About how long the store's connection takes to notice Redis is back.</summary>
    private const int RetryAfterSeconds = 2;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not EventLogUnavailableException unavailable)
        {
            return false;
        }

        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Event log unavailable",
                Detail = $"{unavailable.Message} Try again in a few seconds.",
            },
        });
    }
}
