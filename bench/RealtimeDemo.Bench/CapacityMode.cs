using RealtimeDemo.Ticker;

namespace RealtimeDemo.Bench;

/// <summary>
/// <c>--capacity</c>: one transport at fixed clients, its publish rate raised step by step, each step a load run of its
/// own (warm-up, measured window, drain) on the same host, until a step's p99 passes the limit or an event is lost or
/// duplicated. The rate then goes back between the highest step held and the lowest that failed, three times, so the
/// figure held is found to within about 5 % (as fine as the targets judged on it), not the 50 % of one step.
/// </summary>
public static class CapacityMode
{
    /// <summary>A step's p99 may be at most this, in ms (short polling adds its interval: every event may wait that long).</summary>
    public const double P99LimitMs = 100;

    /// <summary>Each rising step publishes this many times the last one's rate.</summary>
    public const double StepFactor = 1.5;

    /// <summary>Steps between the highest held and the lowest failed, once a step has failed.</summary>
    public const int Refinements = 3;

    public static double LimitFor(string transport, double pollIntervalSeconds) =>
        transport == "short-poll" ? P99LimitMs + (pollIntervalSeconds * 1000) : P99LimitMs;

    public static async Task<CapacityRun> RunAsync(
        string transport, Target target, BenchOptions options, CancellationToken cancellationToken)
    {
        var limit = LimitFor(transport, options.PollIntervalSeconds);
        var steps = new List<CapacityStep>();
        CapacityStep? held = null;
        CapacityStep? failed = null;
        string? stoppedBy = null;
        var refinements = 0;
        var rate = Round(options.Rate);
        while (true)
        {
            if (steps.Count == options.CapacitySteps)
            {
                stoppedBy ??= "steps";
                break;
            }

            Console.WriteLine(
                $"{transport}: step {steps.Count + 1}, {Figures.Plain(rate)} events/s to {Figures.Count(options.Clients)} clients");
            CapacityStep step;
            try
            {
                var run = await LoadRun.RunAsync(transport, target, options with { Rate = rate }, cancellationToken);
                var clean = run.Lost == 0 && run.Duplicated == 0 && run.Delivered > 0;
                step = new CapacityStep(
                    rate, run.DeliveriesPerSecond, run.DeliveriesPerServerCpuSecond, run.LatencyMs.P50, run.LatencyMs.P99,
                    run.Lost, run.Duplicated, Held: clean && run.LatencyMs.P99 <= limit);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                // A step that cannot complete (clients refused, say) ends the steps; those measured still count.
                Console.WriteLine(
                    $"{transport}: step at {Figures.Plain(rate)} events/s failed: {exception.GetType().Name}: {exception.Message}");
                stoppedBy = "failed";
                break;
            }

            steps.Add(step);
            Console.WriteLine($"{transport}: {Figures.Plain(rate)} events/s: {Figures.Number(step.DeliveriesPerSecond)} deliveries/s, "
                + $"p99 {Figures.LatencyWithUnit(step.P99Ms)} (limit {Figures.Plain(limit)} ms), {Figures.Count(step.Lost)} lost, "
                + $"{Figures.Count(step.Duplicated)} duplicated: {(step.Held ? "held" : "not held")}");
            if (step.Held)
            {
                held = step.Rate > (held?.Rate ?? 0) ? step : held;
            }
            else if (step.Rate < (failed?.Rate ?? double.MaxValue))
            {
                failed = step;
                stoppedBy = step.Lost > 0 || step.Duplicated > 0 ? "lost" : "p99";
            }

            if (failed is null)
            {
                if (rate >= SteadyRate.MaxEventsPerSecond)
                {
                    stoppedBy = "ceiling";
                    break;
                }

                rate = Math.Min(Round(rate * StepFactor), SteadyRate.MaxEventsPerSecond);
                continue;
            }

            // Nothing held to go back to, or close enough already: the figure held stands.
            if (held is null || refinements == Refinements)
            {
                break;
            }

            refinements++;
            rate = Round(Math.Sqrt(held.Rate * failed.Rate));
            if (rate <= held.Rate || rate >= failed.Rate)
            {
                break;
            }
        }

        Console.WriteLine(held is null
            ? $"{transport}: no rate held ({stoppedBy})"
            : $"{transport}: held {Figures.Plain(held.Rate)} events/s, {Figures.Number(held.DeliveriesPerSecond)} deliveries/s, "
                + $"{Figures.Number(held.DeliveriesPerCpuSecond)} per CPU-second, p99 {Figures.LatencyWithUnit(held.P99Ms)} ({stoppedBy})");
        return new CapacityRun(
            transport, target.IsBaseline, options.Clients, held?.Rate, held?.DeliveriesPerSecond, held?.DeliveriesPerCpuSecond,
            held?.P99Ms, limit, stoppedBy ?? "steps", steps);
    }

    /// <summary>Three significant figures: 10, 15, 22.5, 33.8, 50.6, 75.9, 114, 171, 256 events/s.</summary>
    private static double Round(double rate)
    {
        var digits = 2 - (int)Math.Floor(Math.Log10(rate));
        return digits >= 0
            ? Math.Round(rate, digits, MidpointRounding.AwayFromZero)
            : Math.Round(rate / Math.Pow(10, -digits), MidpointRounding.AwayFromZero) * Math.Pow(10, -digits);
    }
}
