using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using RealtimeDemo.Http;
using RealtimeDemo.Log;
using RealtimeDemo.Tokens;

namespace RealtimeDemo.Publishing;

/// <summary><c>POST /api/events</c>: appends one event to the log and answers <c>201</c> with it as stored.</summary>
internal static class PublishEndpoint
{
    public static IEndpointRouteBuilder MapPublish(this IEndpointRouteBuilder api)
    {
        api.MapPost("/events", PublishAsync).RequireReaderToken();
        return api;
    }

    private static async Task<IResult> PublishAsync(
        HttpContext context,
        IEventLog log,
        IOptions<PublishingOptions> options,
        IOptions<ReaderTokenOptions> tokenOptions,
        PublishRateLimiter rateLimiter,
        CancellationToken cancellationToken)
    {
        var request = context.Request;
        var limits = options.Value;
        var access = PublishKey.Verify(request, limits, allowQueryToken: false, tokenOptions.Value.RequireReaderToken);
        if (access != PublishKey.Check.Granted)
        {
            return PublishKey.Unauthorized(context, access);
        }

        // Before the body is read: a flood of bad publishes is held back as much as a flood of good ones.
        if (!rateLimiter.TryAcquire(context, out var retryAfter))
        {
            return PublishRateLimiter.TooManyRequests(context, retryAfter, limits);
        }

        if (!request.HasJsonContentType())
        {
            return Problems.UnsupportedMediaType(request.ContentType);
        }

        if (request.ContentLength > limits.MaxPublishBodyBytes)
        {
            return BodyTooLarge(limits);
        }

        // Kestrel's request body limit (Kestrel:Limits:MaxRequestBodySize) is for every endpoint; here the publish
        // limit rules, and the one byte over it that tells an over-long body apart must be readable.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = limits.MaxPublishBodyBytes + 1;
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

            // Stamped with the signed-in publisher's name, which only the token can give: readers may trust it.
            var stored = await log.AppendAsync(publish.Type, publish.Data, cancellationToken, ReaderToken.Name(context));
            return new JsonBytesResult(stored.Json, StatusCodes.Status201Created);
        }
        finally
        {
            request.BodyReader.AdvanceTo(read.Buffer.End);
        }
    }

    private static IResult BodyTooLarge(PublishingOptions limits) =>
        Problems.TooLarge("body", $"exceeds {limits.MaxPublishBodyBytes} bytes");
}
