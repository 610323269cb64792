using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using RealtimeDemo.Hosting;

namespace RealtimeDemo.Bench;

/// <summary>
/// The certificate the hosts the bench starts serve HTTPS with, in Kestrel's standard settings
/// (<c>Kestrel:Certificates:Default:Path</c> and <c>KeyPath</c>, PEM files in a directory of its own), and the one
/// certificate the bench's TLS clients trust. Made once per bench process; the files go when it is disposed.
/// </summary>
public sealed class BenchCertificate : IDisposable
{
    private readonly string _directory;

    private BenchCertificate(X509Certificate2 certificate, string directory)
    {
        (Certificate, _directory) = (certificate, directory);
        CertificatePath = Path.Combine(directory, "bench.crt");
        KeyPath = Path.Combine(directory, "bench.key");
    }

    public X509Certificate2 Certificate { get; }

    public string CertificatePath { get; }

    public string KeyPath { get; }

    public static BenchCertificate Create()
    {
        var certificate = DevelopmentHttpsExtensions.CreateLocalhostCertificate(DateTimeOffset.UtcNow);
        var directory = Directory.CreateTempSubdirectory("realtimedemo-bench-tls-").FullName;
        var made = new BenchCertificate(certificate, directory);
        File.WriteAllText(made.CertificatePath, certificate.ExportCertificatePem());
        using var key = certificate.GetECDsaPrivateKey() ?? throw new CryptographicException("The certificate has no ECDSA key.");

        // The key readable by its owner only, as Kestrel expects of a key file.
        var keyOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            keyOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var keyFile = new FileStream(made.KeyPath, keyOptions);
        using var writer = new StreamWriter(keyFile);
        writer.Write(key.ExportPkcs8PrivateKeyPem());
        return made;
    }

    /// <summary>The host's settings that make it serve this certificate on its HTTPS endpoints.</summary>
    public IReadOnlyDictionary<string, string> HostSettings() => new Dictionary<string, string>
    {
        ["Kestrel__Certificates__Default__Path"] = CertificatePath,
        ["Kestrel__Certificates__Default__KeyPath"] = KeyPath,
    };

    /// <summary>True only for this very certificate: the clients trust nothing else, and no store.</summary>
    public bool IsThis(X509Certificate? presented) =>
        presented is not null && presented.GetCertHash(HashAlgorithmName.SHA256).AsSpan()
            .SequenceEqual(Certificate.GetCertHash(HashAlgorithmName.SHA256));

    public void Dispose()
    {
        Certificate.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A temporary directory left behind is no reason to fail the bench.
        }
    }
}
