using System.Globalization;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using RealtimeDemo.Tokens;

namespace RealtimeDemo.Tests.Infrastructure;

/// <summary>
/// Signed-in readers without real tokens, for tests of what a token's expiry does to a connection: a request with the
/// header <see cref="Header"/> is signed in as a bearer token's principal would be (claims <c>sub</c> and <c>exp</c>),
/// and refresh tokens are checked on the host's clock. A token is <c>name;exp</c> (<see cref="Token"/>); anything
/// else is refused as forged.
/// </summary>
public static class TestReaders
{
    public const string Header = "X-Test-Reader";

    /// <summary>Adds the sign-in and the token check to a host (pass it from the host's services).</summary>
    public static void Register(IServiceCollection services, TimeProvider time)
    {
        services.AddSingleton<IStartupFilter, SignIn>();
        services.AddSingleton<IReaderTokenCheck>(new Check(time));
    }

    /// <summary>A token for <paramref name="name"/> that expires at <paramref name="expiresAt"/> (whole seconds, as <c>exp</c> is).</summary>
    public static string Token(string name, DateTimeOffset expiresAt) =>
        string.Create(CultureInfo.InvariantCulture, $"{name};{expiresAt.ToUnixTimeSeconds()}");

    /// <summary>Connects to the in-memory host's <c>/ws</c> signed in with <paramref name="token"/>, and takes the welcome.</summary>
    public static async Task<WebSocket> ConnectSignedInAsync(this RealtimeDemoApplication app, string token, CancellationToken cancellationToken)
    {
        var client = app.Server.CreateWebSocketClient();
        client.ConfigureRequest = request => request.Headers[Header] = token;
        var socket = await client.ConnectAsync(new Uri(app.Server.BaseAddress, "ws"), cancellationToken);
        var welcome = await socket.ReceiveNextAsync(cancellationToken);
        Assert.Equal("welcome", welcome.GetProperty("control").GetString());
        return socket;
    }

    /// <summary>Sends a refresh with <paramref name="token"/> and returns the host's answer.</summary>
    public static async Task<JsonElement> RefreshAsync(this WebSocket socket, string token, CancellationToken cancellationToken)
    {
        await socket.SendJsonAsync(new { type = "refresh", token }, cancellationToken);
        return await socket.ReceiveNextAsync(cancellationToken);
    }

    private static bool TryRead(string token, out string name, out DateTimeOffset expiresAt)
    {
        var parts = token.Split(';');
        name = parts[0];
        expiresAt = default;
        if (parts.Length != 2 || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return false;
        }

        expiresAt = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return true;
    }

    private sealed class SignIn : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, then) =>
            {
                if (context.Request.Headers[Header].ToString() is { Length: > 0 } token && TryRead(token, out var name, out var expiresAt))
                {
                    Claim[] claims =
                    [
                        new("sub", name),
                        new("exp", expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
                    ];
                    context.User = new ClaimsPrincipal(new ClaimsIdentity(claims, authenticationType: "Test"));
                }

                return then(context);
            });
            next(app);
        };
    }

    private sealed class Check(TimeProvider time) : IReaderTokenCheck
    {
        public Task<ReaderTokenCheck> ValidateAsync(string token, CancellationToken cancellationToken) =>
            Task.FromResult(
                !TryRead(token, out var name, out var expiresAt) ? ReaderTokenCheck.Invalid("the token's signature is not valid")
                : expiresAt <= time.GetUtcNow() ? ReaderTokenCheck.Invalid($"the token expired at {expiresAt:O}")
                : ReaderTokenCheck.Valid(name, expiresAt));
    }
}
