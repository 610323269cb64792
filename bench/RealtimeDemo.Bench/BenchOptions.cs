using System.Globalization;
using RealtimeDemo.Ticker;
using RealtimeDemo.Log.Redis;

namespace RealtimeDemo.Bench;

/// <summary>The command line: <c>--clients 1000 --rate 100 --seconds 30 --out bench-results</c> and friends.</summary>
public sealed record BenchOptions
{
    public static readonly string[] AllTransports = ["short-poll", "long-poll", "sse", "websocket", "sse-tls", "websocket-tls", "sse-h2"];

    /// <summary>Idle mode measures the transports that hold a connection open: short polling holds none.</summary>
    public static readonly string[] IdleTransports = ["long-poll", "sse", "websocket", "sse-tls", "websocket-tls", "sse-h2"];

    /// <summary>
    /// The rows over TLS, measured against their cleartext HTTP/1.1 rows: SSE and WebSocket over HTTP/1.1 (a connection
    /// per client, as the cleartext rows), and SSE over HTTP/2 with <see cref="StreamsPerConnection"/> streams on each
    /// connection. They need an https:// host: the one the bench starts serves both, or an https --url.
    /// </summary>
    public static readonly string[] TlsTransports = ["sse-tls", "websocket-tls", "sse-h2"];

    /// <summary>Kestrel's default limit of concurrent streams on one HTTP/2 connection (MaxStreamsPerConnection).</summary>
    public const int KestrelStreamsPerConnection = 100;

    public static readonly string[] AllBaselines = ["raw-websocket", "raw-sse", "signalr-websockets", "signalr-sse", "signalr-longpolling"];

    /// <summary>
    /// Idle mode compares with the raw baselines and SignalR over WebSockets. SignalR's other two are left out: over SSE
    /// its client sends each ping as a POST, on a second connection per client, so tens of thousands of them need twice
    /// the descriptors; over long polling each poll is held 90 s, longer than the measured window, so its traffic would
    /// read as none.
    /// </summary>
    public static readonly string[] IdleBaselines = ["raw-websocket", "raw-sse", "signalr-websockets"];

    /// <summary>Capacity mode's default: the four techniques in cleartext HTTP/1.1.</summary>
    public static readonly string[] CapacityTransports = ["short-poll", "long-poll", "sse", "websocket"];

    /// <summary>Capacity mode's default baselines: the ones its targets compare with.</summary>
    public static readonly string[] CapacityBaselines = ["raw-websocket", "raw-sse", "signalr-websockets"];

    /// <summary>A running RealtimeDemo host; null: the bench starts one itself.</summary>
    public Uri? Url { get; init; }

    /// <summary>Our transports asked for; null: every one the mode runs (<see cref="AllTransports"/>, <see cref="IdleTransports"/>).</summary>
    public IReadOnlyList<string>? Transports { get; init; }

    public int Clients { get; init; } = 100;

    /// <summary>Events per second, published server-side.</summary>
    public double Rate { get; init; } = 10;

    public int Seconds { get; init; } = 10;

    /// <summary>
    /// Seconds of the same load before each measured window, not counted: the server's JIT reaches its optimised code
    /// and its thread pool its working size, so a 30 s run's tail is not its first second's start-up.
    /// </summary>
    public int WarmupSeconds { get; init; } = 5;

    public double PollIntervalSeconds { get; init; } = 1;

    /// <summary>Idle mode: this many idle connections per long-lived transport; 0 runs the load instead.</summary>
    public int Idle { get; init; }

    /// <summary>
    /// Idle mode's measured window: <see cref="Seconds"/> rounded up to a whole 75 s, a whole number of the host's 15 s
    /// SSE heartbeats and WebSocket pings and of its 25 s long-poll holds, so each is counted as often as it happens.
    /// </summary>
    public TimeSpan IdleWindow => TimeSpan.FromSeconds((Seconds + 74) / 75 * 75);

    /// <summary>Capacity mode: the rate raised step by step from <see cref="Rate"/> until a step does not hold.</summary>
    public bool Capacity { get; init; }

    /// <summary>Capacity mode: at most this many measured steps per transport.</summary>
    public int CapacitySteps { get; init; } = 16;

    /// <summary>The baselines asked for; null: every one the mode runs (<see cref="AllBaselines"/>, <see cref="IdleBaselines"/>).</summary>
    public IReadOnlyList<string>? Baselines { get; init; }

    /// <summary>sse-h2: SSE streams multiplexed on each HTTP/2 connection (1,000 clients at 100: 10 connections).</summary>
    public int StreamsPerConnection { get; init; } = KestrelStreamsPerConnection;

    /// <summary>
    /// Our transports this run measures, in the order they run. By default a cleartext --url host gets no TLS rows
    /// (named with --transports, they are refused).
    /// </summary>
    public IReadOnlyList<string> PlannedTransports => Transports
        ?? (Idle > 0 ? IdleTransports : Capacity ? CapacityTransports : AllTransports).Where(Reachable).ToArray();

    /// <summary>
    /// Whether this run can measure <paramref name="transport"/>: a host the bench starts serves both schemes; a --url
    /// host only its own (its cleartext rows over https:// would measure TLS, and be compared with TLS as cleartext).
    /// </summary>
    public bool Reachable(string transport) => Url is null || (Url.Scheme == Uri.UriSchemeHttps) == TlsTransports.Contains(transport);

    /// <summary>The baselines this run measures, in the order they run.</summary>
    public IReadOnlyList<string> PlannedBaselines => Baselines ?? (Idle > 0 ? IdleBaselines : Capacity ? CapacityBaselines : AllBaselines);

    /// <summary>A Redis (connection string) for the started host's log instead of memory: measures the Redis hop.</summary>
    public string? Redis { get; init; }

    public string Out { get; init; } = "bench-results";

    /// <summary>The drills to run (kill, restart, storm), in order; null: none, the load or idle mode runs.</summary>
    public IReadOnlyList<string>? Drills { get; init; }

    /// <summary>Drills: RealtimeDemo hosts behind nginx, sharing one log in Redis; the fleet's hosts, likewise.</summary>
    public int Hosts { get; init; } = 2;

    /// <summary>Beyond one process: connections per transport across the hosts; 0 runs another mode.</summary>
    public int Fleet { get; init; }

    /// <summary>Beyond one process: the client processes holding the connections.</summary>
    public int ClientProcesses { get; init; }

    /// <summary>Drills: the clients reconnect after exactly their backoff, not a random delay below it.</summary>
    public bool NoJitter { get; init; }

    /// <summary>A directory whose results.json is rendered again (report.html, results.md); nothing is run.</summary>
    public string? Render { get; init; }

    /// <summary>A README whose headline block (between its bench:headline markers) is written from the results.</summary>
    public string? Readme { get; init; }

    public const string Usage = """
        RealtimeDemo.Bench: the four transports (and baselines) under one workload, side by side.

          --url URL             a running RealtimeDemo host (default: start one, built as the bench is, on loopback)
          --transports LIST     short-poll,long-poll,sse,websocket,sse-tls,websocket-tls,sse-h2 (default: all; idle
                                mode: all but short-poll; with an http:// --url, none of the last three, which are
                                over TLS: sse-tls and websocket-tls on HTTP/1.1, sse-h2 on HTTP/2)
          --streams-per-connection N
                                sse-h2: SSE streams multiplexed on each HTTP/2 connection (default 100, Kestrel's
                                MaxStreamsPerConnection; a started host is given a higher limit when N is above it)
          --clients N           subscribers per transport (default 100)
          --rate N              events per second, published server-side, 0.01 to 10000 (default 10)
          --seconds N           measured seconds per transport, up to a day (default 10; the window also spans the
                                drain after)
          --warmup N            seconds of the same load before each measured window, not counted (default 5; 0: none)
          --poll-interval S     the short-poll interval in seconds, up to an hour (default 1)
          --idle N              idle mode: N idle connections per long-lived transport, their traffic measured
                                over --seconds rounded up to a multiple of 75 s (whole heartbeat and long-poll periods)
          --capacity            capacity mode: per transport at --clients, the rate raised from --rate by 1.5x per
                                step (each --seconds after --warmup) until p99 > 100 ms (short polls: plus the
                                interval) or an event is lost; reports the highest rate held (default transports:
                                short-poll,long-poll,sse,websocket; baselines: raw-websocket,raw-sse,signalr-websockets)
          --steps N             capacity mode: at most N measured steps per transport (default 16)
          --baselines LIST      raw-websocket,raw-sse,signalr-websockets,signalr-sse,signalr-longpolling
                                (default: all; idle and capacity modes: the raw ones and signalr-websockets)
          --no-baselines        skip the raw-Kestrel and SignalR baselines
          --redis HOST:PORT     start the host with its log in this Redis (Realtime:Store=Redis), not in memory
          --out DIR             where results.json, report.html and results.md go (default bench-results)
          --drill LIST          drills instead of the load: kill,restart,storm (in the order given, on one fleet):
                                --hosts hosts on one Redis log behind nginx, --clients per technique through nginx,
                                --rate events/s published through nginx, --seconds before the cut and after each step
          --hosts N             drills: hosts behind nginx (default 2); --fleet: hosts on one Redis log (default:
                                enough for 16,000 connections each, at least 2)
          --fleet N             beyond one process: per transport (sse,websocket by default; long-poll too), N
                                connections held by --client-processes processes, straight to --hosts hosts on one
                                Redis log; each host's memory per connection (against one host holding one host's
                                share, in the same run), then --rate events/s for --seconds through the hosts in
                                turn, checked at every connection
          --client-processes N  --fleet: client processes holding the connections (default: enough for 16,000 each,
                                at least 2)
          --no-jitter           drills: reconnect after exactly the backoff (storm: only the run without jitter)
          --render DIR          run nothing: write DIR/report.html and DIR/results.md again from DIR/results.json
                                (after a change to the report; takes no other option but --readme)
          --readme FILE         write the load run's headline table into FILE, between the lines
                                <!-- bench:headline:start --> and <!-- bench:headline:end -->
        """;

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        var given = new HashSet<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            given.Add(name);
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            options = name switch
            {
                "--url" => options with { Url = HttpUrl(name, Value()) },
                "--transports" => options with { Transports = ParseNames(name, Value(), AllTransports) },
                "--clients" => options with { Clients = Between(name, Number<int>(name, Value()), 1, 1_000_000) },
                "--rate" => options with { Rate = Between(name, Number<double>(name, Value()), SteadyRate.MinEventsPerSecond, SteadyRate.MaxEventsPerSecond) },
                "--seconds" => options with { Seconds = Between(name, Number<int>(name, Value()), 1, Day) },
                "--warmup" => options with { WarmupSeconds = Between(name, Number<int>(name, Value()), 0, Day) },
                "--poll-interval" => options with { PollIntervalSeconds = Between(name, Number<double>(name, Value()), 0.01, 3600) },
                "--streams-per-connection" => options with { StreamsPerConnection = Between(name, Number<int>(name, Value()), 1, 100_000) },
                "--idle" => options with { Idle = Between(name, Number<int>(name, Value()), 1, 1_000_000) },
                "--capacity" => options with { Capacity = true },
                "--steps" => options with { CapacitySteps = Between(name, Number<int>(name, Value()), 1, 100) },
                "--baselines" => options with { Baselines = ParseNames(name, Value(), AllBaselines) },
                "--no-baselines" => options with { Baselines = [] },
                "--redis" => options with { Redis = Value() },
                "--out" => options with { Out = Value() },
                "--drill" => options with { Drills = ParseNames(name, Value(), Bench.Drills.DrillMode.Kinds) },
                "--hosts" => options with { Hosts = Between(name, Number<int>(name, Value()), 1, MaxHosts) },
                "--fleet" => options with { Fleet = Between(name, Number<int>(name, Value()), 2, 1_000_000) },
                "--client-processes" => options with { ClientProcesses = Between(name, Number<int>(name, Value()), 1, MaxClientProcesses) },
                "--no-jitter" => options with { NoJitter = true },
                "--render" => options with { Render = Value() },
                "--readme" => options with { Readme = Value() },
                _ => throw new ArgumentException($"Unknown option {name}."),
            };
        }

        // Re-rendering measures nothing, so a run's options would be ignored: said instead.
        if (options.Render is not null && given.Except(["--render", "--readme"]).ToList() is [_, ..] runOnly)
        {
            throw new ArgumentException($"--render runs nothing, so it takes no {string.Join(", ", runOnly)}.");
        }

        CheckDrills(options, given);
        options = CheckFleet(options, given);

        if (options.Readme is not null && options.Idle > 0)
        {
            throw new ArgumentException("--readme writes the load run's headline: an idle run has none.");
        }

        if (options.Capacity && (options.Idle > 0 || options.Readme is not null))
        {
            throw new ArgumentException($"--capacity is a mode of its own: it takes no {(options.Idle > 0 ? "--idle" : "--readme")}.");
        }

        if (given.Contains("--steps") && !options.Capacity)
        {
            throw new ArgumentException("--steps counts capacity mode's steps: it needs --capacity.");
        }

        if (options.Idle > 0)
        {
            // What a host the bench did not start cannot give: its memory.
            if (options.Url is not null)
            {
                throw new ArgumentException("--idle measures the server's memory: it needs a host the bench starts (no --url).");
            }

            // Said rather than ignored: idle mode publishes nothing and runs no load clients.
            if (given.Intersect(["--clients", "--rate", "--warmup", "--poll-interval"]).ToList() is [_, ..] loadOnly)
            {
                throw new ArgumentException($"--idle publishes nothing and runs no load, so it takes no {string.Join(", ", loadOnly)}.");
            }

            if (options.Transports?.Except(IdleTransports).ToList() is [_, ..] notIdle)
            {
                throw new ArgumentException($"--idle measures only {string.Join(",", IdleTransports)}, not {string.Join(",", notIdle)}.");
            }

            if (options.Baselines?.Except(IdleBaselines).ToList() is [_, ..] notIdleBaselines)
            {
                throw new ArgumentException($"--idle runs only the baselines {string.Join(",", IdleBaselines)}, not {string.Join(",", notIdleBaselines)}.");
            }
        }

        // A cleartext host has no TLS: its TLS rows would measure nothing, or something else.
        if (options.Transports?.Where(name => !options.Reachable(name)).ToList() is [_, ..] unreachable)
        {
            throw new ArgumentException(
                $"--transports {string.Join(",", unreachable)}: --url {options.Url} serves {options.Url!.Scheme} only, and these run "
                + (options.Url.Scheme == Uri.UriSchemeHttps ? "in cleartext." : "over TLS."));
        }

        // Nor a Redis of the bench's choosing.
        if (options.Url is not null && options.Redis is not null)
        {
            throw new ArgumentException("--redis configures a host the bench starts: it cannot be used with --url.");
        }

        // Malformed, it would fail every run's host; said once, here.
        if (options.Redis is not null && RedisConnection.Options(options.Redis).EndPoints.Count == 0)
        {
            throw new ArgumentException($"--redis: no Redis named in '{options.Redis}' (expected host:port).");
        }

        return options;
    }

    /// <summary>Drills start their own fleet and measure no baselines: what would be ignored is refused instead.</summary>
    private static void CheckDrills(BenchOptions options, HashSet<string> given)
    {
        if (options.Drills is null)
        {
            if (given.Intersect(options.Fleet > 0 ? ["--no-jitter"] : ["--hosts", "--no-jitter"]).ToList() is [_, ..] drillOnly)
            {
                throw new ArgumentException($"{string.Join(", ", drillOnly)}: only with --drill.");
            }

            return;
        }

        if (given.Intersect(["--url", "--idle", "--redis", "--baselines", "--no-baselines", "--readme", "--warmup", "--streams-per-connection"])
            .ToList() is [_, ..] notDrill)
        {
            throw new ArgumentException($"--drill starts its own hosts, Redis and nginx and runs no baselines, so it takes no {string.Join(", ", notDrill)}.");
        }

        if (options.Transports?.Except(Bench.Drills.DrillMode.Transports).ToList() is [_, ..] notDrilled)
        {
            throw new ArgumentException(
                $"--drill runs only {string.Join(",", Bench.Drills.DrillMode.Transports)} (through nginx, in cleartext), not {string.Join(",", notDrilled)}.");
        }
    }

    /// <summary>
    /// The fleet starts its own hosts and Redis and runs no baselines or short polls; what would be ignored is refused,
    /// and a host or client process given more connections than its open-file limit allows is refused before any starts.
    /// </summary>
    private static BenchOptions CheckFleet(BenchOptions options, HashSet<string> given)
    {
        if (options.Fleet == 0)
        {
            return given.Contains("--client-processes") ? throw new ArgumentException("--client-processes: only with --fleet.") : options;
        }

        if (given.Intersect([
                "--url", "--idle", "--clients", "--capacity", "--steps", "--drill", "--redis", "--baselines", "--no-baselines", "--readme",
                "--warmup", "--poll-interval", "--streams-per-connection",
            ]).ToList() is [_, ..] notFleet)
        {
            throw new ArgumentException($"--fleet starts its own hosts and Redis, runs no baselines and no short polls, so it takes no {string.Join(", ", notFleet)}.");
        }

        if (options.Transports?.Except(Bench.Fleet.FleetMode.Transports).ToList() is [_, ..] notHeld)
        {
            throw new ArgumentException($"--fleet holds connections open: it runs only {string.Join(",", Bench.Fleet.FleetMode.Transports)}, not {string.Join(",", notHeld)}.");
        }

        var perProcess = Bench.Fleet.FleetMode.ConnectionsPerProcess;
        options = options with
        {
            Hosts = given.Contains("--hosts") ? options.Hosts : Math.Max(2, Bench.Fleet.FleetMode.ProcessesFor(options.Fleet)),
            ClientProcesses = given.Contains("--client-processes") ? options.ClientProcesses : Math.Max(2, Bench.Fleet.FleetMode.ProcessesFor(options.Fleet)),
        };
        if (options.Hosts < 2)
        {
            throw new ArgumentException("--fleet spreads the connections over hosts: --hosts must be at least 2.");
        }

        // What --hosts and --client-processes take when given: the defaults for a large fleet must stay within it too.
        if (options.Hosts > MaxHosts || options.ClientProcesses > MaxClientProcesses)
        {
            throw new ArgumentException(
                $"--fleet {options.Fleet:N0} needs {options.Hosts} hosts and {options.ClientProcesses} client processes; at most {MaxHosts} and {MaxClientProcesses}.");
        }

        foreach (var (what, count) in new[] { ("--hosts", options.Hosts), ("--client-processes", options.ClientProcesses) })
        {
            if ((options.Fleet + count - 1) / count > perProcess)
            {
                throw new ArgumentException(
                    $"{what} {count}: {options.Fleet:N0} connections would put more than {perProcess:N0} on one process, near its open-file limit; "
                    + $"{Bench.Fleet.FleetMode.ProcessesFor(options.Fleet)} or more needed.");
            }
        }

        return options;
    }

    private static IReadOnlyList<string> ParseNames(string option, string text, string[] known)
    {
        // Each name once: a run is found by its name.
        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToArray();
        var unknown = names.Except(known).ToList();
        if (names.Length == 0 || unknown.Count > 0)
        {
            throw new ArgumentException($"{option}: {(names.Length == 0 ? "no names" : "unknown " + string.Join(", ", unknown))} (known: {string.Join(",", known)}).");
        }

        return names;
    }

    private static T Number<T>(string name, string text)
        where T : System.Numerics.INumber<T> =>
        T.TryParse(text, CultureInfo.InvariantCulture, out var value) ? value : throw new ArgumentException($"{name}: '{text}' is not a number it takes.");

    private const int Day = 86_400;

    private const int MaxHosts = 32;

    private const int MaxClientProcesses = 64;

    // Bounds that keep every figure the bench derives in range (a window in ms, a timer period, a host's ticker rate).
    private static T Between<T>(string name, T value, T min, T max)
        where T : System.Numerics.INumber<T> =>
        value >= min && value <= max ? value : throw new ArgumentException($"{name} must be between {min} and {max}.");

    private static Uri HttpUrl(string name, string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : throw new ArgumentException($"{name}: '{text}' is not an http:// or https:// URL.");
}
