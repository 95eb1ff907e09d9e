using Microsoft.Extensions.Options;
using Streams.Client;

namespace Streams.Hosting.Internal;

/// <summary>
/// Gives <see cref="RabbitStreamsOptions.CredentialsProvider"/> the <see cref="IStreamCredentialsProvider"/> registered in
/// the service collection (the last one wins, as with any single service), unless the options already set one in code.
/// </summary>
internal sealed class CredentialsProviderSetup(IEnumerable<IStreamCredentialsProvider> providers) : IPostConfigureOptions<RabbitStreamsOptions>
{
    public void PostConfigure(string? name, RabbitStreamsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.CredentialsProvider ??= providers.LastOrDefault();
    }
}
