using System.Globalization;
using StackExchange.Redis;

namespace RealtimeDemo.Log.Redis;

/// <summary>
/// One entry of the shared stream as Redis holds it: the event's place and what every host encodes it from
/// (<paramref name="Type"/> and <paramref name="Data"/> are null in an entry that is not ours to read;
/// <paramref name="By"/>, the signed-in publisher's name, is null in an entry without one).
/// </summary>
public readonly record struct StreamEntry(long Seq, string? Type, byte[]? Data, long TimeMilliseconds, string? By = null);

/// <summary>
/// What one read of the shared stream found: its epoch, its newest seq, the entries asked for, and the seq just before
/// the epoch's first event (0, unless the epoch continues the counter of one that lost its last writes).
/// </summary>
public sealed record StreamRead(string Epoch, long Head, IReadOnlyList<StreamEntry> Entries, long Start);

/// <summary>
/// The shared log's keys and the commands on them. Every command is one Lua script, so that what must agree
/// (the epoch, the seq counter, the stream) changes together, atomically, whichever host sends it.
/// </summary>
/// <remarks>
/// Keys, under one hash tag so a Redis Cluster keeps them in one slot: <c>{prefix}:meta</c>, a hash of the
/// <c>epoch</c> and the last <c>seq</c> handed out; <c>{prefix}:stream</c>, the stream, each entry's id
/// <c>{seq}-0</c>, so reading after a cursor is an <c>XRANGE</c> from its seq; and the channel
/// <c>{prefix}:appended</c>, on which every append announces its cursor. Whoever finds the meta hash missing (a new
/// or flushed Redis) starts a new epoch and drops any stream left without it, so losing the log is always seen as
/// a new epoch, never as a stream that quietly started again at seq 1.
/// </remarks>
public sealed class RedisEventStream(IConnectionMultiplexer redis, string keyPrefix, int retention)
{
    // Shared by both scripts. ARGV[1] is a fresh candidate epoch; ARGV[2] and ARGV[3] the epoch and seq the calling
    // host holds. Adopts the existing epoch, or starts one where there is none. A host of this epoch that holds more
    // than the counter says saw writes Redis has since lost (a restart from a file a second old, a failover): the
    // stream then gets a new epoch too, so no cursor handed out for a lost event comes to name another one. That epoch
    // starts after what the stream still holds ('start'): those events were the old epoch's, delivered under it.
    private const string EnsureEpoch = """
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        if not epoch then
            epoch = ARGV[1]
            redis.call('DEL', KEYS[2])
            redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0, 'start', 0)
        end
        local head = tonumber(redis.call('HGET', KEYS[1], 'seq'))
        if epoch == ARGV[2] and tonumber(ARGV[3]) > head then
            epoch = ARGV[1]
            redis.call('HSET', KEYS[1], 'epoch', epoch, 'start', head)
        end
        local start = tonumber(redis.call('HGET', KEYS[1], 'start')) or 0
        """;

    // ARGV 4-8: retention, type, data, time (ms), publisher ('' for none: the entry then has no 'by' field). The id is
    // the seq, so the stream stays in seq order; trimming is approximate (whole nodes, cheap), and never below the
    // retention.
    private const string AppendScript = EnsureEpoch + "\n" + """
        local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
        local fields = { 'type', ARGV[5], 'data', ARGV[6], 'time', ARGV[7] }
        if ARGV[8] ~= '' then
            table.insert(fields, 'by')
            table.insert(fields, ARGV[8])
        end
        redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], seq .. '-0', unpack(fields))
        redis.call('PUBLISH', KEYS[3], epoch .. '-' .. seq)
        return { epoch, seq }
        """;

    // ARGV 4-5: how many to return, retention. A reader of another epoch, or one further behind than the retention,
    // starts at the oldest event it could keep, and never before the epoch's start.
    private const string ReadScript = EnsureEpoch + "\n" + """
        local after = tonumber(ARGV[3])
        local window = tonumber(ARGV[5])
        if epoch ~= ARGV[2] or after < head - window then
            after = math.max(0, head - window)
        end
        if after < start then
            after = start
        end
        local entries = {}
        if after < head then
            entries = redis.call('XRANGE', KEYS[2], '(' .. after .. '-0', '+', 'COUNT', ARGV[4])
        end
        return { epoch, head, entries, start }
        """;

    // ARGV: this host's id, the lease's time to live (ms). Renews the lease if this host holds it, takes it if free.
    private const string LeaseScript = """
        local holder = redis.call('GET', KEYS[1])
        if holder == ARGV[1] then
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            return 1
        end
        if not holder then
            redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
            return 1
        end
        return 0
        """;

    // Deletes the lease only if this holder still has it: a lease that lapsed and went to another host stays theirs.
    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            return redis.call('DEL', KEYS[1])
        end
        return 0
        """;

    private readonly RedisKey[] _keys = [$"{{{keyPrefix}}}:meta", $"{{{keyPrefix}}}:stream", $"{{{keyPrefix}}}:appended"];
    private readonly RedisKey[] _leaseKey = [$"{{{keyPrefix}}}:ticker"];

    /// <summary>How many of the newest events the stream keeps (it may keep a few more: trimming is approximate).</summary>
    public int Retention => retention;

    /// <summary>The channel each append announces its cursor (<c>{epoch}-{seq}</c>) on.</summary>
    public RedisChannel Appended { get; } = RedisChannel.Literal($"{{{keyPrefix}}}:appended");

    /// <summary>
    /// Appends an event with the next seq of the shared stream; returns the stream's epoch and that seq.
    /// <paramref name="held"/> is the newest event the calling host holds; <paramref name="by"/> the signed-in publisher.
    /// </summary>
    public async Task<(string Epoch, long Seq)> AppendAsync(EventCursor held, string type, byte[] data, long timeMilliseconds, string? by = null)
    {
        var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(
            AppendScript,
            _keys,
            [EventCursor.NewEpoch(), held.Epoch, held.Seq, retention, type, data, timeMilliseconds, by ?? ""]))!;
        return ((string)result[0]!, (long)result[1]);
    }

    /// <summary>Reads up to <paramref name="count"/> entries after <paramref name="after"/> (a cursor of this or an older epoch).</summary>
    public async Task<StreamRead> ReadAsync(EventCursor after, int count)
    {
        var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(
            ReadScript,
            _keys,
            [EventCursor.NewEpoch(), after.Epoch, after.Seq, count, retention]))!;
        var entries = ((RedisResult[])result[2]!).Select(ParseEntry).ToList();
        return new StreamRead((string)result[0]!, (long)result[1], entries, (long)result[3]);
    }

    /// <summary>Takes or renews the demo ticker's lease for <paramref name="holder"/>; false while another host holds it.</summary>
    public async Task<bool> HoldLeaseAsync(string holder, TimeSpan timeToLive) =>
        (long)(await redis.GetDatabase().ScriptEvaluateAsync(LeaseScript, _leaseKey, [holder, (long)timeToLive.TotalMilliseconds])) == 1;

    /// <summary>Gives up the demo ticker's lease, if <paramref name="holder"/> holds it, so another host takes over at once.</summary>
    public async Task ReleaseLeaseAsync(string holder) =>
        await redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript, _leaseKey, [holder]);

    private static StreamEntry ParseEntry(RedisResult entry)
    {
        var parts = (RedisResult[])entry!;
        var id = (string)parts[0]!;
        var fields = (RedisResult[])parts[1]!;
        string? type = null;
        byte[]? data = null;
        string? by = null;
        long time = 0;
        for (var i = 0; i + 1 < fields.Length; i += 2)
        {
            switch ((string)fields[i]!)
            {
                case "type": type = (string)fields[i + 1]!; break;
                case "data": data = (byte[])fields[i + 1]!; break;
                case "time": time = (long)fields[i + 1]; break;
                case "by": by = (string?)fields[i + 1]; break;
            }
        }

        var seq = long.Parse(id.AsSpan(0, id.IndexOf('-')), NumberStyles.None, CultureInfo.InvariantCulture);
        return new StreamEntry(seq, type, data, time, by);
    }
}
