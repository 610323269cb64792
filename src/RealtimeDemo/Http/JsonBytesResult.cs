namespace RealtimeDemo.Http;

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
