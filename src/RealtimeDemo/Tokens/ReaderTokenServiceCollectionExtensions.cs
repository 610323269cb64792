using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace RealtimeDemo.Tokens;

public static class ReaderTokenServiceCollectionExtensions
{
    /// <summary>The authorization policy the reading and publishing endpoints require while tokens are on.</summary>
    public const string PolicyName = "ReaderToken";

    /// <summary>
    /// The validated <see cref="ReaderTokenOptions"/>, the issuer and validator; and, only when
    /// <c>Realtime:RequireReaderToken</c> is true, the platform's bearer authentication and the policy. Off, nothing of
    /// authentication is registered, so nothing of it runs.
    /// </summary>
    public static IServiceCollection AddReaderTokens(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRealtimeSettings<ReaderTokenOptions>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ReaderTokenIssuer>();
        services.AddSingleton<ReaderTokenValidator>();
        services.AddSingleton<IReaderTokenCheck>(provider => provider.GetRequiredService<ReaderTokenValidator>());
        if (!IsRequired(configuration))
        {
            return services;
        }

        // AddJwtBearer also binds Authentication:Schemes:Bearer (authority, issuers, audiences); ours is applied after.
        services.AddAuthentication().AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<ReaderTokenOptions>, TimeProvider>((bearer, tokens, time) => ReaderTokenValidation.Configure(bearer, tokens.Value, time));
        services.AddAuthorizationBuilder().AddPolicy(PolicyName, policy => policy
            .AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme)
            .RequireAuthenticatedUser());
        return services;
    }

    /// <summary>Whether tokens are required, read before the options exist: it decides what is registered.</summary>
    public static bool IsRequired(IConfiguration configuration) =>
        configuration.GetSection(RealtimeSettings.SectionName).GetValue<bool>(nameof(ReaderTokenOptions.RequireReaderToken));

    /// <summary>
    /// Authentication and authorization, when tokens are required. Put after the origin check (a page from a foreign
    /// origin is refused whatever its token) and before the connection caps (a refused client takes no connection).
    /// </summary>
    public static IApplicationBuilder UseReaderTokens(this IApplicationBuilder app)
    {
        if (IsRequired(app.ApplicationServices.GetRequiredService<IConfiguration>()))
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }

        return app;
    }

    /// <summary>
    /// While tokens are required, the endpoint needs one (a <c>401</c> before it runs, so before a WebSocket upgrade).
    /// <paramref name="fromQuery"/>: it may come as <c>?access_token=</c>, for browsers' EventSource and WebSocket.
    /// </summary>
    public static TBuilder RequireReaderToken<TBuilder>(this TBuilder endpoint, bool fromQuery = false)
        where TBuilder : IEndpointConventionBuilder
    {
        endpoint.Add(builder =>
        {
            if (IsRequired(builder.ApplicationServices.GetRequiredService<IConfiguration>()))
            {
                builder.Metadata.Add(new AuthorizeAttribute(PolicyName));
                if (fromQuery)
                {
                    builder.Metadata.Add(ReaderTokenInQuery.Instance);
                }
            }
        });
        return endpoint;
    }
}
