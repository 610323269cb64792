namespace RealtimeDemo.Log;

/// <summary>
/// The log's store cannot be reached (Redis down or too slow to answer): the event was not published. The request
/// is worth retrying shortly; the HTTP API answers <c>503</c> with <c>Retry-After</c>.
/// </summary>
public sealed class EventLogUnavailableException(string message, Exception innerException) : Exception(message, innerException);
