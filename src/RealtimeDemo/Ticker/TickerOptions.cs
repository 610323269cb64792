using System.ComponentModel.DataAnnotations;

namespace RealtimeDemo.Ticker;

/// <summary>The demo ticker's settings in the <c>Realtime</c> section.</summary>
public sealed class TickerOptions : IValidatableObject
{
    /// <summary>The demo ticker's rate in events per second; 0 switches it off (checked in <see cref="Validate"/>).</summary>
    public double TickerEventsPerSecond { get; init; } = 1;

    /// <summary>Whether clients (the page) may change the ticker's rate through <c>PUT /api/ticker</c>; on in Development.</summary>
    public bool TickerAdjustable { get; init; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!SteadyRate.IsValid(TickerEventsPerSecond))
        {
            yield return new ValidationResult(
                $"Realtime:TickerEventsPerSecond must be 0 (off) or {SteadyRate.MinEventsPerSecond} to {SteadyRate.MaxEventsPerSecond}.",
                [nameof(TickerEventsPerSecond)]);
        }
    }
}
