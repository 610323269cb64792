namespace RealtimeDemo.Http;

/// <summary>The problem-details answers the endpoints share, so a field error reads the same everywhere.</summary>
internal static class Problems
{
    /// <summary>A <c>400</c> validation problem naming the field at fault.</summary>
    public static IResult Invalid(string field, string message) =>
        TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { [field] = [$"{field} {message}"] },
            title: $"Invalid {field}");

    public static IResult TooLarge(string field, string message) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: $"{field} too large", detail: $"{field} {message}");

    public static IResult UnsupportedMediaType(string? contentType) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status415UnsupportedMediaType,
            title: "Unsupported media type",
            detail: $"Send the body as application/json, not {(string.IsNullOrEmpty(contentType) ? "without a Content-Type" : contentType)}.");

    /// <summary>
    /// A problem that tells the client when to try again (<c>429</c>, <c>503</c>): <c>Retry-After</c> in whole seconds,
    /// and the same in the detail's last words.
    /// </summary>
    public static IResult RetryLater(HttpContext context, int statusCode, TimeSpan retryAfter, string title, string detail)
    {
        var seconds = RetryAfterSeconds(retryAfter);
        context.Response.Headers.RetryAfter = seconds;
        return TypedResults.Problem(statusCode: statusCode, title: title, detail: $"{detail}; retry after {seconds} s.");
    }

    /// <summary><c>Retry-After</c>'s value: whole seconds, at least one.</summary>
    public static string RetryAfterSeconds(TimeSpan retryAfter) =>
        Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static IResult ForbiddenOrigin(string origin) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            title: "Origin not allowed",
            detail: $"Pages from {origin} may not use this host; add the origin to Realtime:AllowedOrigins to allow it.");
}
