namespace RealtimeDemo.Http;

/// <summary>The four techniques, by the names the API, the page and the metrics use.</summary>
public enum Transport
{
    ShortPoll,
    LongPoll,
    Sse,
    WebSocket,
}
