using StackExchange.Redis;

namespace RealtimeDemo.Bench;

/// <summary>The Redis of <c>--redis</c>: what the bench leaves there is removed after each run.</summary>
public static class BenchRedis
{
    /// <summary>
    /// Deletes every key of one started host's stream (<c>{prefix}:…</c>). A Redis that cannot be reached is only
    /// reported: the run's figures stand, and the keys are named so they can be removed by hand.
    /// </summary>
    public static async Task DeleteKeysAsync(string connectionString, string prefix)
    {
        try
        {
            // Read as the host reads it, with its timeouts.
            await using var redis = await ConnectionMultiplexer.ConnectAsync(RealtimeDemo.Log.Redis.RedisConnection.Options(connectionString));
            var database = redis.GetDatabase();
            foreach (var endpoint in redis.GetEndPoints())
            {
                await foreach (var key in redis.GetServer(endpoint).KeysAsync(database.Database, pattern: $"{{{prefix}}}:*"))
                {
                    await database.KeyDeleteAsync(key);
                }
            }
        }
        catch (Exception exception)
        {
            // Best effort, after the run's figures are taken: no failure here may cost them.
            Console.WriteLine($"Could not remove the run's keys {{{prefix}}}:* from {connectionString}: {exception.Message}");
        }
    }
}
