using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Streams.Testing;

namespace Streams.Client.Tests.Foundation;

/// <summary>Issue 2: `tls up` gives a TLS stream listener on 5551 whose certificates the tests can use, with SASL EXTERNAL.</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
[Trait("Category", "LocalBroker")]
public sealed class TlsListenerTests(BrokerFixture fixture)
{
    [Fact]
    public async Task Tls_listener_accepts_the_generated_client_certificate_over_sasl_external()
    {
        var ct = TestContext.Current.CancellationToken;
        await BrokerScript.RunAsync("tls up", cancellationToken: ct);
        var dir = Environment.GetEnvironmentVariable("STREAMS_TLS_DIR") ?? "/var/lib/streams-hosting/tls";
        using var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(dir, "ca.pem"));
        using var client = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(dir, "client.pfx"), password: null);
        X509Certificate2? serverCertificate = null;

        using var connection = new RawStreamHandshake();
        await connection.OpenAsync(fixture.Endpoint.Host, 5551, user: null, password: string.Empty, "/", "tls-test", ct, async inner =>
        {
            var ssl = new SslStream(inner, leaveInnerStreamOpen: false, (_, certificate, chain, errors) =>
            {
                using var custom = new X509Chain();
                custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                custom.ChainPolicy.CustomTrustStore.Add(ca);
                custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                serverCertificate = new X509Certificate2(certificate!);
                return (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None && custom.Build(serverCertificate);
            });
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificates = [client],
            }, ct);
            return ssl;
        });

        Assert.NotNull(serverCertificate);
        Assert.Contains("CN=localhost", serverCertificate!.Subject, StringComparison.Ordinal);
        serverCertificate.Dispose();
    }
}
