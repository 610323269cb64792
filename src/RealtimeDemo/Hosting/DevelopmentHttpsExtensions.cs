using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RealtimeDemo.Hosting;

/// <summary>
/// HTTPS in Development with no set-up: browsers speak HTTP/2 only over TLS, and only HTTP/2 lifts the six
/// connections per origin that SSE streams and held long polls use up. Kestrel serves HTTP/1.1 and HTTP/2 (ALPN) on
/// every HTTPS endpoint; this supplies the certificate when none is configured.
/// </summary>
public static partial class DevelopmentHttpsExtensions
{
    /// <summary>The extension ASP.NET Core marks its HTTPS development certificate with (<c>dotnet dev-certs https</c>).</summary>
    private const string DevelopmentCertificateOid = "1.3.6.1.4.1.311.84.1.1";

    /// <summary>
    /// In Development, an HTTPS endpoint with no certificate configured (<c>Kestrel:Certificates:Default:*</c>, or the
    /// endpoint's own) uses ASP.NET Core's development certificate where one exists, and otherwise one the host makes
    /// for localhost at start, so the run command serves HTTPS on a fresh machine. The log says which, and how to
    /// make a browser trust it. Elsewhere nothing changes: production names its certificate in the standard settings.
    /// </summary>
    public static IWebHostBuilder UseDevelopmentHttps(this IWebHostBuilder web) =>
        web.ConfigureKestrel((context, kestrel) =>
        {
            if (!context.HostingEnvironment.IsDevelopment() || HasConfiguredCertificate(context.Configuration))
            {
                return;
            }

            // Decided once, on the first HTTPS endpoint: a host with none (the tests' in-memory hosts) makes no key.
            var chosen = new Lazy<X509Certificate2?>(() => Choose(kestrel.ApplicationServices));
            kestrel.ConfigureHttpsDefaults(https =>
            {
                if (https.ServerCertificate is null && https.ServerCertificateSelector is null)
                {
                    // Null where the development certificate exists: Kestrel loads it itself.
                    https.ServerCertificate = chosen.Value;
                }
            });
        });

    /// <summary>
    /// A certificate named in configuration, by default or for an endpoint: Kestrel applies those after the defaults
    /// set here, so making one (and saying so in the log) would only mislead.
    /// </summary>
    private static bool HasConfiguredCertificate(IConfiguration configuration) =>
        configuration.GetSection("Kestrel:Certificates:Default").GetChildren().Any()
        || configuration.GetSection("Kestrel:Endpoints").GetChildren().Any(endpoint => endpoint.GetSection("Certificate").GetChildren().Any());

    private static X509Certificate2? Choose(IServiceProvider services)
    {
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DevelopmentHttpsExtensions).FullName!);
        if (FindDevelopmentCertificate() is { } development)
        {
            LogDevelopmentCertificate(logger, development.Thumbprint, development.NotAfter);
            development.Dispose();
            return null;
        }

        var made = CreateLocalhostCertificate(TimeProvider.System.GetUtcNow());
        LogMadeCertificate(logger, made.Thumbprint, made.NotAfter);
        return made;
    }

    /// <summary>ASP.NET Core's development certificate in the user's store, valid now, with its key; null when absent.</summary>
    private static X509Certificate2? FindDevelopmentCertificate()
    {
        using var store = new X509Store(StoreName.My, StoreLocation.CurrentUser);
        try
        {
            store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
        }
        catch (CryptographicException)
        {
            // No store at all (a fresh machine, a container): no certificate in it either.
            return null;
        }

        var now = DateTime.Now;
        X509Certificate2? found = null;
        foreach (var certificate in store.Certificates)
        {
            if (found is null && certificate.HasPrivateKey && certificate.NotBefore <= now && now < certificate.NotAfter
                && certificate.Extensions.Any(extension => extension.Oid?.Value == DevelopmentCertificateOid))
            {
                found = certificate;
                continue;
            }

            certificate.Dispose();
        }

        return found;
    }

    /// <summary>
    /// A certificate for <c>localhost</c>, <c>127.0.0.1</c> and <c>::1</c>, valid for 30 days from <paramref name="now"/>:
    /// an ECDSA P-256 key (made in a millisecond; every browser accepts it), used for serving TLS only.
    /// </summary>
    public static X509Certificate2 CreateLocalhostCertificate(DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], false));
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(30));

        // Through PKCS#12 and back: a key that lives only in memory is not usable for TLS on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "HTTPS uses the ASP.NET Core development certificate {Thumbprint} (valid until {NotAfter:yyyy-MM-dd}); if the browser warns, run `dotnet dev-certs https --trust`")]
    private static partial void LogDevelopmentCertificate(ILogger logger, string thumbprint, DateTime notAfter);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "HTTPS uses a certificate made at start for localhost ({Thumbprint}, valid until {NotAfter:yyyy-MM-dd}), since there is no ASP.NET Core development certificate: browsers warn about it. To serve one they trust, run `dotnet dev-certs https --trust` once and start again; to serve your own, set Kestrel:Certificates:Default:Path")]
    private static partial void LogMadeCertificate(ILogger logger, string thumbprint, DateTime notAfter);
}
