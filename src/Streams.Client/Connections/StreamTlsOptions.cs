using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Streams.Client;

/// <summary>TLS settings of a <see cref="StreamSystem"/> (the broker's TLS stream listener, conventionally port 5551).</summary>
public sealed class StreamTlsOptions
{
    /// <summary>Whether connections use TLS (default false). <c>rabbitmq-stream+tls://</c> URIs turn it on.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// The server name sent in SNI and checked against the server certificate. Null (default) = the host actually dialled
    /// (with an <see cref="StreamSystemOptions.AddressResolver"/>, the resolved host, e.g. the load balancer's name).
    /// </summary>
    public string? TargetHost { get; set; }

    /// <summary>
    /// A custom server-certificate check. When set it replaces the built-in one (system trust plus
    /// <see cref="TrustedCertificateAuthorities"/>); return true to accept the certificate.
    /// </summary>
    public RemoteCertificateValidationCallback? RemoteCertificateValidationCallback { get; set; }

    /// <summary>Client certificates offered to the broker (needed for <see cref="StreamSaslMechanism.External"/>).</summary>
    public X509CertificateCollection ClientCertificates { get; } = [];

    /// <summary>
    /// Extra certificate authorities trusted for the server certificate (e.g. a private CA); when not empty, the server
    /// chain must end at one of them (custom root trust) instead of the system store.
    /// </summary>
    public X509Certificate2Collection TrustedCertificateAuthorities { get; } = [];

    /// <summary>The TLS versions allowed (default <see cref="SslProtocols.None"/> = the operating system's choice).</summary>
    public SslProtocols EnabledProtocols { get; set; } = SslProtocols.None;

    /// <summary>Whether the server certificate's revocation status is checked online (default false).</summary>
    public bool CheckCertificateRevocation { get; set; }

    /// <summary>Trusts <paramref name="certificateAuthority"/> for the server certificate (see <see cref="TrustedCertificateAuthorities"/>).</summary>
    /// <param name="certificateAuthority">The CA certificate.</param>
    /// <returns>These options.</returns>
    public StreamTlsOptions TrustCertificateAuthority(X509Certificate2 certificateAuthority)
    {
        ArgumentNullException.ThrowIfNull(certificateAuthority);
        TrustedCertificateAuthorities.Add(certificateAuthority);
        return this;
    }

    /// <summary>Loads a PEM or DER CA certificate from <paramref name="path"/> and trusts it (see <see cref="TrustedCertificateAuthorities"/>).</summary>
    /// <param name="path">The CA certificate file.</param>
    /// <returns>These options.</returns>
    public StreamTlsOptions TrustCertificateAuthority(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return TrustCertificateAuthority(X509CertificateLoader.LoadCertificateFromFile(path));
    }

    /// <summary>Adds a client certificate (with its private key) to <see cref="ClientCertificates"/>.</summary>
    /// <param name="certificate">The client certificate.</param>
    /// <returns>These options.</returns>
    public StreamTlsOptions AddClientCertificate(X509Certificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ClientCertificates.Add(certificate);
        return this;
    }

    /// <summary>Throws <see cref="ArgumentException"/> for unusable settings.</summary>
    public void Validate()
    {
        if (TargetHost is not null && string.IsNullOrWhiteSpace(TargetHost))
        {
            throw new ArgumentException("Tls.TargetHost must be null (the endpoint host) or a host name.", nameof(TargetHost));
        }

        foreach (var certificate in ClientCertificates)
        {
            if (certificate is null)
            {
                throw new ArgumentException("Tls.ClientCertificates must not contain null entries.", nameof(ClientCertificates));
            }
        }
    }
}

/// <summary>The SASL mechanism used to log in.</summary>
public enum StreamSaslMechanism
{
    /// <summary>User name and password (<c>PLAIN</c>), the default.</summary>
    Plain,

    /// <summary>
    /// <c>EXTERNAL</c>: the identity comes from the TLS client certificate (needs TLS, a client certificate and the
    /// broker's <c>rabbitmq_auth_mechanism_ssl</c> plugin); <see cref="StreamSystemOptions.UserName"/> and the password are ignored.
    /// </summary>
    External,
}

/// <summary>The TLS handshake with a broker node failed (untrusted certificate, host-name mismatch, protocol mismatch...).</summary>
public sealed class StreamTlsException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="host">The host dialled.</param>
    /// <param name="port">The port dialled.</param>
    /// <param name="targetHost">The server name the certificate was checked against.</param>
    /// <param name="policyErrors">The certificate validation errors, if the certificate was checked.</param>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public StreamTlsException(string host, int port, string targetHost, SslPolicyErrors policyErrors, string message, Exception innerException)
        : base(message, innerException)
    {
        Host = host;
        Port = port;
        TargetHost = targetHost;
        PolicyErrors = policyErrors;
    }

    /// <summary>The host dialled.</summary>
    public string Host { get; }

    /// <summary>The port dialled.</summary>
    public int Port { get; }

    /// <summary>The server name the certificate was checked against.</summary>
    public string TargetHost { get; }

    /// <summary>The certificate validation errors (<see cref="SslPolicyErrors.None"/> when the failure was not about the certificate).</summary>
    public SslPolicyErrors PolicyErrors { get; }
}
