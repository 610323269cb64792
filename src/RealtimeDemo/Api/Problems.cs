namespace RealtimeDemo.Api;

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

    public static IResult ForbiddenOrigin(string origin) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            title: "Origin not allowed",
            detail: $"Pages from {origin} may not use this host; add the origin to Realtime:AllowedOrigins to allow it.");
}
