using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.RegularExpressions;
using RealtimeDemo.Tests.Infrastructure;

namespace RealtimeDemo.Tests.Tokens;

/// <summary>Tokens, good or bad, in headers or in URLs, never reach the host's logs.</summary>
public sealed class TokenLogTests : IAsyncDisposable
{
    private readonly LogCapture _logs = new();
    private readonly KestrelApplication _app;

    public TokenLogTests() =>
        _app = new KestrelApplication(
            // Down to Debug, ASP.NET Core's own categories too: whatever the bearer handler says about a refused token.
            TestTokens.Required(("Serilog:MinimumLevel:Default", "Debug"), ("Serilog:MinimumLevel:Override:Microsoft.AspNetCore", "Debug")),
            services: _logs.Register);

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task DeployedNginxLogsRequestsWithoutTheirQuery()
    {
        var deployed = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "nginx", "deployed-nginx.conf"), TestClients.Deadline());
        var configuration = string.Join('\n', deployed.Split('\n').Where(line => !line.TrimStart().StartsWith('#')));

        // Every access log uses the project's format, and that format names the path alone.
        var format = Regex.Match(configuration, @"log_format\s+realtimedemo\s+(?<format>[^;]*);");
        Assert.True(format.Success, "deploy/nginx.conf defines no log_format realtimedemo");
        Assert.Contains("$uri", format.Groups["format"].Value, StringComparison.Ordinal);
        foreach (var withQuery in new[] { "$request ", "$request\"", "$request_uri", "$args", "$query_string", "$arg_" })
        {
            Assert.DoesNotContain(withQuery, format.Groups["format"].Value, StringComparison.Ordinal);
        }

        var accessLogs = Regex.Matches(configuration, @"access_log\s+(?<value>[^;]*);").Select(match => match.Groups["value"].Value.Trim()).ToList();
        Assert.NotEmpty(accessLogs);
        Assert.All(accessLogs, value => Assert.True(value == "off" || value.EndsWith(" realtimedemo", StringComparison.Ordinal), value));
    }

    [Fact]
    public async Task TokensInHeadersAndQueriesNeverReachTheLogs()
    {
        var cancellationToken = TestClients.Deadline();
        using var client = _app.CreateSocketClient();
        var (token, _) = await client.SignInAsync("ada", cancellationToken);
        var bad = new[] { TestTokens.Forged(), TestTokens.Unsigned(), TestTokens.Tampered(token), TestTokens.Expired(TimeSpan.FromMinutes(1)) };

        foreach (var presented in bad.Prepend(token))
        {
            using var poll = new HttpRequestMessage(HttpMethod.Get, $"/api/poll?access_token={presented}");
            poll.Headers.Authorization = new("Bearer", presented);
            (await client.SendAsync(poll, cancellationToken)).Dispose();
            using var publish = new HttpRequestMessage(HttpMethod.Post, "/api/events") { Content = JsonContent.Create(new { type = "t", data = new { } }) };
            publish.Headers.Authorization = new("Bearer", presented);
            (await client.SendAsync(publish, cancellationToken)).Dispose();
            (await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/api/sse?access_token={presented}"), HttpCompletionOption.ResponseHeadersRead, cancellationToken)).Dispose();
            if (presented != token)
            {
                // Refused before the upgrade; the good token opens a socket below.
                using var upgrade = TestClients.UpgradeRequest($"/ws?access_token={presented}");
                (await client.SendAsync(upgrade, cancellationToken)).Dispose();
            }
        }

        using (var socket = await _app.ConnectWebSocketAsync($"/ws?access_token={token}", cancellationToken))
        {
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cancellationToken);
        }

        // Every request has its line by the time the WebSocket's, the last, has ended; a refused upgrade's 401 is there.
        await _logs.WaitForWebSocketEndAndRefusedUpgradeAsync(cancellationToken);
        var lines = _logs.Lines;
        Assert.Contains(lines, line => line.Contains("RequestPath=\"/api/sse\"", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("was not authenticated", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, line => line.Contains(TestTokens.SigningKey, StringComparison.Ordinal));
        foreach (var presented in bad.Prepend(token))
        {
            // Any of the three parts would do harm or tell too much: the signature above all, but the claims too.
            foreach (var part in presented.Split('.').Where(part => part.Length > 8))
            {
                Assert.DoesNotContain(lines, line => line.Contains(part, StringComparison.Ordinal));
            }
        }
    }
}
