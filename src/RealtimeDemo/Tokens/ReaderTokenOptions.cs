using System.ComponentModel.DataAnnotations;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace RealtimeDemo.Tokens;

/// <summary>Whether reading and publishing need a signed-in reader's token, and how those tokens are signed.</summary>
public sealed class ReaderTokenOptions : IValidatableObject
{
    public const int MinSigningKeyLength = 32;

    /// <summary>
    /// When true, every read (polls, SSE, WebSocket) and every publish needs a valid reader token, and
    /// <c>POST /api/token</c> issues them. False (the default): the host is open, and no authentication runs at all.
    /// </summary>
    public bool RequireReaderToken { get; init; }

    /// <summary>
    /// The HS256 key tokens are signed and checked with. The same on every host, so any host accepts any host's
    /// token; required when <see cref="RequireReaderToken"/> is on.
    /// </summary>
    [MinLength(MinSigningKeyLength, ErrorMessage = "Realtime:TokenSigningKey must be at least {1} characters long.")]
    public string? TokenSigningKey { get; init; }

    /// <summary>How long an issued token is valid: short, so a token that leaks (in a URL, say) soon stops working.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "1.00:00:00", ErrorMessage = "Realtime:TokenLifetime must be between {1} and {2}.")]
    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The key as the token handlers take it.</summary>
    public SymmetricSecurityKey SigningKey() => new(Encoding.UTF8.GetBytes(TokenSigningKey ?? ""));

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RequireReaderToken && string.IsNullOrEmpty(TokenSigningKey))
        {
            yield return new ValidationResult(
                $"Realtime:TokenSigningKey is required when Realtime:RequireReaderToken is true: at least {MinSigningKeyLength} "
                + "characters, the same on every host.",
                [nameof(TokenSigningKey)]);
        }
    }
}
