using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Streams.Client.Connections;

/// <summary>Wraps a connected network stream in an <see cref="SslStream"/> according to <see cref="StreamTlsOptions"/>.</summary>
internal static class TlsStreamWrapper
{
    /// <summary>The stream-wrapper delegate of <see cref="StreamConnectionSettings.StreamWrapper"/> for one endpoint.</summary>
    public static Func<Stream, CancellationToken, ValueTask<Stream>> Create(StreamTlsOptions options, string host, int port)
    {
        ArgumentNullException.ThrowIfNull(options);
        var targetHost = options.TargetHost ?? host;
        return (inner, cancellationToken) => AuthenticateAsync(options, inner, host, port, targetHost, cancellationToken);
    }

    private static async ValueTask<Stream> AuthenticateAsync(StreamTlsOptions options, Stream inner, string host, int port, string targetHost, CancellationToken cancellationToken)
    {
        var failure = new ValidationFailure();
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
        var clientCertificates = new X509CertificateCollection();
        foreach (var certificate in options.ClientCertificates)
        {
            clientCertificates.Add(certificate);
        }

        var authentication = new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            ClientCertificates = clientCertificates,
            EnabledSslProtocols = options.EnabledProtocols,
            CertificateRevocationCheckMode = options.CheckCertificateRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (sender, certificate, chain, errors) => Validate(options, failure, sender, certificate, chain, errors),
        };

        try
        {
            await ssl.AuthenticateAsClientAsync(authentication, cancellationToken).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new StreamTlsException(host, port, targetHost, failure.Errors, Describe(host, port, targetHost, failure, ex), ex);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static bool Validate(StreamTlsOptions options, ValidationFailure failure, object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        bool accepted;
        if (options.RemoteCertificateValidationCallback is { } custom)
        {
            accepted = custom(sender, certificate, chain, errors);
            failure.Custom = !accepted;
            failure.Errors = accepted ? SslPolicyErrors.None : errors;
        }
        else if (options.TrustedCertificateAuthorities.Count > 0 && certificate is not null)
        {
            // Private CA: rebuild the chain against the given roots; name mismatches and a missing certificate still fail.
            var remaining = errors & ~SslPolicyErrors.RemoteCertificateChainErrors;
            using var customChain = new X509Chain();
            customChain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            customChain.ChainPolicy.CustomTrustStore.AddRange(options.TrustedCertificateAuthorities);
            customChain.ChainPolicy.RevocationMode = options.CheckCertificateRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck;
            if (chain is not null)
            {
                customChain.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
            }

            using var leaf = new X509Certificate2(certificate);
            var built = customChain.Build(leaf);
            if (!built)
            {
                remaining |= SslPolicyErrors.RemoteCertificateChainErrors;
                failure.ChainStatus = string.Join(", ", customChain.ChainStatus.Select(s => $"{s.Status} ({s.StatusInformation.Trim()})"));
            }

            failure.Errors = remaining;
            accepted = remaining == SslPolicyErrors.None;
        }
        else
        {
            failure.Errors = errors;
            if (errors != SslPolicyErrors.None && chain is not null)
            {
                failure.ChainStatus = string.Join(", ", chain.ChainStatus.Select(s => $"{s.Status} ({s.StatusInformation.Trim()})"));
            }

            accepted = errors == SslPolicyErrors.None;
        }

        if (certificate is not null)
        {
            failure.Subject = certificate.Subject;
        }

        return accepted;
    }

    private static string Describe(string host, int port, string targetHost, ValidationFailure failure, Exception ex)
    {
        var message = new StringBuilder();
        message.Append(System.Globalization.CultureInfo.InvariantCulture, $"TLS handshake with {host}:{port} (server name '{targetHost}') failed");
        if (failure.Custom)
        {
            message.Append(": the RemoteCertificateValidationCallback rejected the server certificate");
            if (failure.Subject is not null)
            {
                message.Append(System.Globalization.CultureInfo.InvariantCulture, $" '{failure.Subject}'");
            }
        }
        else if (failure.Errors != SslPolicyErrors.None)
        {
            message.Append(System.Globalization.CultureInfo.InvariantCulture, $": the server certificate '{failure.Subject}' was rejected ({failure.Errors})");
            if ((failure.Errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                message.Append(System.Globalization.CultureInfo.InvariantCulture, $"; it is not valid for the name '{targetHost}' (set Tls.TargetHost to a name the certificate carries)");
            }

            if ((failure.Errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
            {
                message.Append("; its chain is not trusted");
                if (!string.IsNullOrEmpty(failure.ChainStatus))
                {
                    message.Append(System.Globalization.CultureInfo.InvariantCulture, $": {failure.ChainStatus}");
                }

                message.Append(" (trust the broker's CA with Tls.TrustCertificateAuthority)");
            }

            if ((failure.Errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
            {
                message.Append("; the server sent no certificate");
            }
        }
        else
        {
            message.Append(System.Globalization.CultureInfo.InvariantCulture, $": {ex.Message}");
        }

        message.Append('.');
        return message.ToString();
    }

    private sealed class ValidationFailure
    {
        public SslPolicyErrors Errors { get; set; }

        public string? ChainStatus { get; set; }

        public string? Subject { get; set; }

        public bool Custom { get; set; }
    }
}
