using System.IO.Pipelines;
using Microsoft.Extensions.Options;
using RealtimeDemo.Events;

namespace RealtimeDemo.Api;

/// <summary><c>POST /api/events</c>: appends one event to the log and answers <c>201</c> with it as stored.</summary>
internal static class PublishEndpoint
{
    public static IEndpointRouteBuilder MapPublish(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/events", PublishAsync);
        return app;
    }

    private static async Task<IResult> PublishAsync(HttpRequest request, IEventLog log, IOptions<RealtimeOptions> options, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
        {
            return Problems.UnsupportedMediaType(request.ContentType);
        }

        var limits = options.Value;
        if (request.ContentLength > limits.MaxPublishBodyBytes)
        {
            return BodyTooLarge(limits);
        }

        // Read one byte past the limit so an over-long body is recognised without buffering all of it.
        var read = await request.BodyReader.ReadAtLeastAsync(limits.MaxPublishBodyBytes + 1, cancellationToken);
        try
        {
            if (read.Buffer.Length > limits.MaxPublishBodyBytes)
            {
                return BodyTooLarge(limits);
            }

            if (!PublishRequest.TryParse(read.Buffer, limits.MaxEventDataBytes, out var publish, out var error))
            {
                return error.IsTooLarge ? Problems.TooLarge(error.Field, error.Message) : Problems.Invalid(error.Field, error.Message);
            }

            var stored = await log.AppendAsync(publish.Type, publish.Data, cancellationToken);
            return new JsonBytesResult(stored.Json, StatusCodes.Status201Created);
        }
        finally
        {
            request.BodyReader.AdvanceTo(read.Buffer.End);
        }
    }

    private static IResult BodyTooLarge(RealtimeOptions limits) =>
        Problems.TooLarge("body", $"exceeds {limits.MaxPublishBodyBytes} bytes");
}

/// <summary>Writes JSON the log already encoded, instead of serialising it again per response.</summary>
internal sealed class JsonBytesResult(ReadOnlyMemory<byte> json, int statusCode) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = statusCode;
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        httpContext.Response.ContentLength = json.Length;
        await httpContext.Response.BodyWriter.WriteAsync(json, httpContext.RequestAborted);
    }
}
