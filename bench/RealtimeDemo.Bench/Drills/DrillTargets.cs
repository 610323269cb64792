namespace RealtimeDemo.Bench.Drills;

/// <summary>What the drills promise, judged from one run's figures (never by a test).</summary>
public static class DrillTargets
{
    /// <summary>After a host is killed, or in a rolling restart: p99 time to receive again, in ms.</summary>
    public const double ResumeP99Ms = 3_000;

    /// <summary>A storm: p99 time to receive again, in ms.</summary>
    public const double StormP99Ms = 5_000;

    /// <summary>A storm: every cut client receives again within this, in ms.</summary>
    public const double StormMaxMs = 10_000;

    public static IReadOnlyList<TargetCheck> Evaluate(IReadOnlyList<DrillRun> drills)
    {
        var checks = new List<TargetCheck>();
        foreach (var kind in DrillMode.Kinds)
        {
            var runs = drills.Where(run => run.Kind == kind).ToList();
            var clean = $"{kind}: nothing lost or duplicated, no gap signalled";
            if (runs.Count == 0)
            {
                checks.Add(new TargetCheck(clean, Targets.NotApplicable, $"{kind} did not run"));
            }
            else
            {
                var dirty = runs.Where(run => run.Lost != 0 || run.Duplicated != 0 || run.GapSignals != 0).ToList();
                checks.Add(new TargetCheck(
                    clean,
                    dirty.Count == 0 ? Targets.Met : Targets.Missed,
                    dirty.Count == 0
                        ? $"{Figures.Count(runs.Sum(run => run.Delivered))} deliveries on {runs.Count} runs, each once"
                        : string.Join("; ", dirty.Select(run => $"{Name(run)}: {Figures.Count(run.Lost)} lost, "
                            + $"{Figures.Count(run.Duplicated)} duplicated, {Figures.Count(run.GapSignals)} gap signals"))));
            }

            if (kind != "storm")
            {
                checks.Add(Resume($"{kind}: p99 time to receive again ≤ {Seconds(ResumeP99Ms)}", runs, ResumeP99Ms, max: null));
            }
        }

        var jittered = drills.Where(run => run.Kind == "storm" && run.Jitter).ToList();
        checks.Add(Resume(
            $"storm, jittered: all receive again within {Seconds(StormMaxMs)}, p99 ≤ {Seconds(StormP99Ms)}", jittered, StormP99Ms, StormMaxMs));
        checks.Add(Jitter(drills));
        return checks;
    }

    /// <summary>Every technique's p99 (and max) resume time within the limits, and every cut client resumed.</summary>
    private static TargetCheck Resume(string name, List<DrillRun> runs, double p99, double? max)
    {
        if (runs.Count == 0)
        {
            return new TargetCheck(name, Targets.NotApplicable, "did not run");
        }

        var met = runs.All(run => run.Resumed == run.Cut
            && (run.ResumeMs is null || (run.ResumeMs.P99 <= p99 && (max is null || run.ResumeMs.Max <= max))));
        return new TargetCheck(name, met ? Targets.Met : Targets.Missed, string.Join("; ", runs.Select(run =>
            $"{run.Transport}: " + (run.ResumeMs is { } resume
                ? $"p99 {Figures.Count((long)resume.P99)} ms, max {Figures.Count((long)resume.Max)} ms"
                    + (run.Resumed < run.Cut ? $", {Figures.Count(run.Cut - run.Resumed)} of {Figures.Count(run.Cut)} never did" : string.Empty)
                : "no client cut"))));
    }

    /// <summary>Jitter must lower the storm's peak connection rate on every technique that reconnected.</summary>
    private static TargetCheck Jitter(IReadOnlyList<DrillRun> drills)
    {
        const string name = "storm: jittered peak connection rate below the unjittered one's";
        var pairs = drills.Where(run => run.Kind == "storm" && run.Jitter)
            .Select(run => (Jittered: run, Plain: drills.FirstOrDefault(other => other.Kind == "storm" && !other.Jitter && other.Transport == run.Transport)))
            .Where(pair => pair.Plain is not null)
            .ToList();
        if (pairs.Count == 0)
        {
            return new TargetCheck(name, Targets.NotApplicable, "the storm did not run both with and without jitter");
        }

        return new TargetCheck(
            name,
            pairs.All(pair => pair.Jittered.PeakConnectsPerSecond < pair.Plain!.PeakConnectsPerSecond) ? Targets.Met : Targets.Missed,
            string.Join("; ", pairs.Select(pair =>
                $"{pair.Jittered.Transport}: {Figures.Count((long)pair.Jittered.PeakConnectsPerSecond)} vs {Figures.Count((long)pair.Plain!.PeakConnectsPerSecond)} connects/s")));
    }

    internal static string Name(DrillRun run) => $"{run.Kind}{(run.Jitter ? string.Empty : " without jitter")} {run.Transport}";

    private static string Seconds(double ms) => $"{Figures.Plain(ms / 1000)} s";
}
