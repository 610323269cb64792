using System.ComponentModel.DataAnnotations;

namespace RealtimeDemo.Publishing;

/// <summary>What a publish may contain, who may publish and how often: settings in the <c>Realtime</c> section.</summary>
public sealed class PublishingOptions : IValidatableObject
{
    /// <summary>
    /// When set, publishing (<c>POST /api/events</c>, WebSocket <c>publish</c>) requires this key as a bearer token
    /// (or, for a browser's WebSocket, a <c>token</c> query parameter). Reading stays open. Unset: anyone may publish.
    /// </summary>
    [MinLength(16, ErrorMessage = "Realtime:PublishKey must be at least {1} characters long (or left unset).")]
    public string? PublishKey { get; init; }

    /// <summary>How many events one client (by address) may publish per second, sustained; POST and WebSocket together.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Realtime:PublishPermitsPerSecond must be between {1} and {2}.")]
    public int PublishPermitsPerSecond { get; init; } = 50;

    /// <summary>How many publishes one client may make at once before the sustained rate applies.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Realtime:PublishBurst must be between {1} and {2}.")]
    public int PublishBurst { get; init; } = 100;

    /// <summary>The largest <c>data</c> object a publish may carry, measured compactly encoded.</summary>
    [Range(64, 1_048_576, ErrorMessage = "Realtime:MaxEventDataBytes must be between {1} and {2} bytes.")]
    public int MaxEventDataBytes { get; init; } = 4096;

    /// <summary>The largest publish body (POST body or WebSocket message), whitespace and all.</summary>
    [Range(128, 4_194_304, ErrorMessage = "Realtime:MaxPublishBodyBytes must be between {1} and {2} bytes.")]
    public int MaxPublishBodyBytes { get; init; } = 16_384;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PublishBurst < PublishPermitsPerSecond)
        {
            yield return new ValidationResult(
                $"Realtime:PublishBurst ({PublishBurst}) must be at least Realtime:PublishPermitsPerSecond ({PublishPermitsPerSecond}).",
                [nameof(PublishBurst)]);
        }

        if (MaxEventDataBytes > MaxPublishBodyBytes)
        {
            yield return new ValidationResult(
                $"Realtime:MaxEventDataBytes ({MaxEventDataBytes}) must not exceed Realtime:MaxPublishBodyBytes ({MaxPublishBodyBytes}).",
                [nameof(MaxEventDataBytes)]);
        }
    }
}
