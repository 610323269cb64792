using Microsoft.AspNetCore.Diagnostics;
using RealtimeDemo.Log;

namespace RealtimeDemo.Http;

/// <summary>
/// A publish the log's store could not take (Redis down) is <c>503</c> with <c>Retry-After</c> and a problem body
/// that says so, wherever it was thrown: the client may retry; nothing about its request was wrong.
/// </summary>
internal sealed class EventLogUnavailableHandler : IExceptionHandler
{
    /// <summary>About how long the store's connection takes to notice Redis is back.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(2);

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not EventLogUnavailableException unavailable)
        {
            return false;
        }

        await Problems.RetryLater(httpContext, StatusCodes.Status503ServiceUnavailable, RetryAfter, "Event log unavailable", unavailable.Message.TrimEnd('.'))
            .ExecuteAsync(httpContext);
        return true;
    }
}
