using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Streams.Testing;

namespace Streams.Client.Tests.Tls;

/// <summary>Issue 4 item 6: TLS (server validation, client certificates) and SASL EXTERNAL against the broker's TLS listener (5551).</summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
[Trait("Category", "LocalBroker")]
public sealed class TlsTests(BrokerFixture fixture)
{
    private const int TlsPort = 5551;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string TlsDirectory => Environment.GetEnvironmentVariable("STREAMS_TLS_DIR") ?? "/var/lib/streams-hosting/tls";

    private StreamSystemOptions TlsOptions(string name, bool clientCertificate = true, bool trustCa = true)
    {
        var options = new StreamSystemOptions
        {
            UserName = fixture.Endpoint.UserName,
            Password = fixture.Endpoint.Password,
            VirtualHost = fixture.Endpoint.VirtualHost,
            ConnectionName = name,
            ConnectTimeout = TimeSpan.FromSeconds(20),
        };
        options.Endpoints.Add(new StreamEndpoint("localhost", TlsPort));
        options.Tls.Enabled = true;
        if (trustCa)
        {
            options.Tls.TrustCertificateAuthority(Path.Combine(TlsDirectory, "ca.pem"));
        }

        if (clientCertificate)
        {
            options.Tls.AddClientCertificate(X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(TlsDirectory, "client.pfx"), password: null));
        }

        return options;
    }

    private static Task<string> EnsureTlsListenerAsync() => BrokerScript.RunAsync("tls up", cancellationToken: Ct);

    [Fact]
    public async Task Tls_with_client_certificate_and_sasl_external_round_trips_messages()
    {
        await EnsureTlsListenerAsync();
        var options = TlsOptions("tls-external");
        options.SaslMechanism = StreamSaslMechanism.External;
        options.UserName = "nobody-ignored-by-external";
        options.Password = "ignored";

        await using var system = await StreamSystem.ConnectAsync(options, Ct);
        Assert.True(system.Connection.IsTls);
        Assert.Equal("CN=guest", system.Connection.ClientCertificateSubject);
        var stream = BrokerFixture.UniqueName("tls-roundtrip");
        await system.CreateStreamAsync(stream, null, Ct);
        try
        {
            var metadata = Assert.Single(await system.QueryMetadataAsync(stream));
            Assert.Equal(TlsPort, metadata.Leader!.Port); // metadata on a TLS connection advertises the TLS port

            await using (var producer = await system.CreateProducerAsync(new ProducerOptions(stream), Ct))
            {
                for (var i = 0; i < 10; i++)
                {
                    await producer.SendAsync(new Message(Encoding.UTF8.GetBytes($"tls-{i}")), Ct);
                }
            }

            await using var consumer = await system.CreateConsumerAsync(new ConsumerOptions(stream) { Offset = OffsetSpecification.First }, Ct);
            var bodies = new List<string>();
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            cts.CancelAfter(TimeSpan.FromSeconds(20));
            await foreach (var delivery in consumer.ReadAllAsync(cts.Token))
            {
                bodies.Add(Encoding.UTF8.GetString(delivery.DecodeMessage().Body.Span));
                if (bodies.Count == 10)
                {
                    break;
                }
            }

            Assert.Equal(Enumerable.Range(0, 10).Select(i => $"tls-{i}"), bodies);
        }
        finally
        {
            await system.DeleteStreamAsync(stream, Ct);
        }
    }

    [Fact]
    public async Task Tls_uri_with_plain_credentials_connects()
    {
        await EnsureTlsListenerAsync();
        var options = StreamSystemOptions.FromUri($"rabbitmq-stream+tls://{fixture.Endpoint.UserName}:{fixture.Endpoint.Password}@localhost/%2f");
        Assert.True(options.Tls.Enabled);
        Assert.Equal(TlsPort, options.Endpoints[0].Port);
        options.Tls.TrustCertificateAuthority(Path.Combine(TlsDirectory, "ca.pem"));
        options.ConnectionName = "tls-plain";

        await using var system = await StreamSystem.ConnectAsync(options, Ct);
        Assert.True(system.IsOpen);
        Assert.True(system.Connection.IsTls);
    }

    [Fact]
    public async Task Custom_validation_callback_sees_the_server_certificate()
    {
        await EnsureTlsListenerAsync();
        var options = TlsOptions("tls-callback", trustCa: false);
        string? subject = null;
        options.Tls.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            subject = certificate?.Subject;
            return errors == SslPolicyErrors.RemoteCertificateChainErrors && certificate?.Subject == "CN=localhost";
        };

        await using var system = await StreamSystem.ConnectAsync(options, Ct);
        Assert.Equal("CN=localhost", subject);
    }

    [Fact]
    public async Task Wrong_ca_fails_with_a_tls_exception_naming_the_host_and_the_chain_error()
    {
        await EnsureTlsListenerAsync();
        using var otherCa = CreateSelfSignedCa("CN=Some other CA");
        var options = TlsOptions("tls-wrong-ca", trustCa: false);
        options.Tls.TrustCertificateAuthority(otherCa);

        var tls = await Assert.ThrowsAsync<StreamTlsException>(() => StreamSystem.ConnectAsync(options, Ct));
        TestContext.Current.TestOutputHelper?.WriteLine(tls.Message);
        Assert.Equal("localhost", tls.Host);
        Assert.Equal(TlsPort, tls.Port);
        Assert.True(tls.PolicyErrors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors), tls.Message);
        Assert.Contains("localhost:5551", tls.Message, StringComparison.Ordinal);
        Assert.Contains("not trusted", tls.Message, StringComparison.Ordinal);
        Assert.Contains("CN=localhost", tls.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Untrusted_ca_without_configuration_fails_clearly()
    {
        await EnsureTlsListenerAsync();
        var options = TlsOptions("tls-system-trust", trustCa: false);

        var tls = await Assert.ThrowsAsync<StreamTlsException>(() => StreamSystem.ConnectAsync(options, Ct));
        TestContext.Current.TestOutputHelper?.WriteLine(tls.Message);
        Assert.True(tls.PolicyErrors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors), tls.Message);
        Assert.Contains("TrustCertificateAuthority", tls.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_name_mismatch_fails_with_a_tls_exception_naming_the_expected_name()
    {
        await EnsureTlsListenerAsync();
        var options = TlsOptions("tls-wrong-host");
        options.Tls.TargetHost = "not-the-broker.example";

        var tls = await Assert.ThrowsAsync<StreamTlsException>(() => StreamSystem.ConnectAsync(options, Ct));
        TestContext.Current.TestOutputHelper?.WriteLine(tls.Message);
        Assert.Equal("not-the-broker.example", tls.TargetHost);
        Assert.True(tls.PolicyErrors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch), tls.Message);
        Assert.False(tls.PolicyErrors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors), tls.Message);
        Assert.Contains("not valid for the name 'not-the-broker.example'", tls.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sasl_external_without_a_client_certificate_fails_with_an_authentication_error()
    {
        await EnsureTlsListenerAsync();
        var options = TlsOptions("tls-external-no-cert", clientCertificate: false);
        options.SaslMechanism = StreamSaslMechanism.External;

        var auth = await Assert.ThrowsAsync<AuthenticationFailureException>(() => StreamSystem.ConnectAsync(options, Ct));
        TestContext.Current.TestOutputHelper?.WriteLine(auth.Message);
        Assert.Contains("no client certificate was presented", auth.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sasl_external_without_tls_is_rejected_by_validation()
    {
        var options = new StreamSystemOptions { SaslMechanism = StreamSaslMechanism.External };
        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("enable Tls", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rabbitmq-stream+tls://u:p@broker/vh", "broker", 5551, true)]
    [InlineData("rabbitmq-stream+tls://u:p@broker:6000/vh", "broker", 6000, true)]
    [InlineData("RABBITMQ-STREAM+TLS://broker", "broker", 5551, true)]
    [InlineData("rabbitmq-stream://u:p@broker/vh", "broker", 5552, false)]
    public void Uri_scheme_selects_tls_and_the_default_port(string uri, string host, int port, bool tls)
    {
        var options = StreamSystemOptions.FromUri(uri);
        Assert.Equal(tls, options.Tls.Enabled);
        Assert.Equal(new StreamEndpoint(host, port), options.Endpoints[0]);
    }

    private static X509Certificate2 CreateSelfSignedCa(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }
}
