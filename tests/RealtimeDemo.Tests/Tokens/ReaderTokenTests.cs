using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace RealtimeDemo.Tests.Tokens;

/// <summary>What <see cref="ReaderToken"/> reads from a request's authenticated reader, and from an anonymous one.</summary>
public sealed class ReaderTokenTests
{
    [Fact]
    public void AnAuthenticatedRequestHasTheTokensNameAndExpiry()
    {
        var context = new DefaultHttpContext
        {
            User = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "ada-sub"), new Claim("name", "ada"), new Claim("exp", "1795000000")], "Bearer", "name", "role")),
        };

        Assert.Equal("ada", ReaderToken.Name(context));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_795_000_000), ReaderToken.ExpiresAt(context));
    }

    [Fact]
    public void WithoutANameClaimTheSubjectNamesTheReader()
    {
        var context = new DefaultHttpContext
        {
            User = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "ada-sub"), new Claim("exp", "1795000000")], "Bearer", "name", "role")),
        };

        Assert.Equal("ada-sub", ReaderToken.Name(context));
    }

    [Fact]
    public void AnAnonymousRequestHasNeither()
    {
        // Claims without an authentication type are not an authenticated reader.
        var context = new DefaultHttpContext { User = new ClaimsPrincipal(new ClaimsIdentity([new Claim("name", "ada"), new Claim("exp", "1795000000")])) };

        Assert.Null(ReaderToken.Name(context));
        Assert.Null(ReaderToken.ExpiresAt(context));
        Assert.Null(ReaderToken.Name(new DefaultHttpContext()));
    }
}
