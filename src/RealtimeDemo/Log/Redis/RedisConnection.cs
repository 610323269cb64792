using StackExchange.Redis;

namespace RealtimeDemo.Log.Redis;

/// <summary>How the host connects to Redis: <c>ConnectionStrings:Redis</c>, with defaults that make a fault quick to see.</summary>
public static class RedisConnection
{
    public const string ConnectionStringName = "Redis";

    // Settings in the connection string win (later keys override earlier ones). Short timeouts so a publish fails within
    // seconds when Redis is gone; abortConnect=false so the host starts (unready) without Redis and connects when it can.
    private const string Defaults = "abortConnect=false,connectTimeout=2000,syncTimeout=2000,asyncTimeout=2000";

    public static ConfigurationOptions Options(string connectionString)
    {
        var options = ConfigurationOptions.Parse($"{Defaults},{connectionString}");

        // Fail commands at once while disconnected instead of queueing them until a timeout: a publish answers 503 promptly.
        options.BacklogPolicy = BacklogPolicy.FailFast;

        // Try again soon after Redis returns, so readers catch up within about a second.
        options.ReconnectRetryPolicy = new ExponentialRetry(250, 2000);
        return options;
    }
}
