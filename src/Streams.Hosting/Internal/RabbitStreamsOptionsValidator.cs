using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Streams.Client;

namespace Streams.Hosting.Internal;

/// <summary>
/// Validates <see cref="RabbitStreamsOptions"/>, the declared streams and the consumers at start; every message
/// names the configuration key (e.g. <c>RabbitStreams:Endpoints:0:Port must be 1-65535 (was 70000).</c>).
/// </summary>
internal sealed class RabbitStreamsOptionsValidator : IValidateOptions<RabbitStreamsOptions>
{
    private readonly RabbitStreamsRegistry _registry;
    private readonly IServiceProvider? _provider;

    /// <param name="registry">The declared streams and consumers.</param>
    /// <param name="provider">
    /// The built provider: the configuration for attribute placeholders, and the services for the handlers'
    /// constructor dependencies (asked whether they are registered, never resolved: a handler's dependency may itself
    /// need these options).
    /// </param>
    public RabbitStreamsOptionsValidator(RabbitStreamsRegistry registry, IServiceProvider? provider = null)
    {
        _registry = registry;
        _provider = provider;
    }

    public ValidateOptionsResult Validate(string? name, RabbitStreamsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var p = _registry.ConfigurationPath;
        ValidateConnection(p, options, errors);

        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{p}:RequestTimeout must be positive (was {options.RequestTimeout}).");
        }

        foreach (var (key, value) in new[] { ("MaxProducersPerConnection", options.MaxProducersPerConnection), ("MaxConsumersPerConnection", options.MaxConsumersPerConnection) })
        {
            if (value is < 1 or > StreamSystemOptions.MaxEntitiesPerConnection)
            {
                errors.Add($"{p}:{key} must be 1-{StreamSystemOptions.MaxEntitiesPerConnection} (was {value}).");
            }
        }

        if (options.ConnectTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{p}:ConnectTimeout must be positive (was {options.ConnectTimeout}).");
        }

        if (!Enum.IsDefined(options.StartBehavior))
        {
            errors.Add($"{p}:StartBehavior must be ConnectInBackground or FailFast (was {options.StartBehavior}).");
        }

        if (options.Recovery is null)
        {
            errors.Add($"{p}:Recovery must not be null.");
        }
        else
        {
            ValidateRecovery($"{p}:Recovery", options.Recovery, errors);
        }

        if (options.Heartbeat < TimeSpan.Zero || options.Heartbeat.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            errors.Add($"{p}:Heartbeat must be zero (the broker's value) or a whole number of seconds (was {options.Heartbeat}).");
        }

        if (options.DeadPeerTimeout is { } deadPeer
            && (deadPeer < TimeSpan.FromSeconds(1) || (options.Heartbeat > TimeSpan.Zero && deadPeer <= options.Heartbeat)))
        {
            errors.Add($"{p}:DeadPeerTimeout must be at least 1 s and longer than {p}:Heartbeat ({options.Heartbeat}) (was {deadPeer}).");
        }

        if (options.Publishing is null)
        {
            errors.Add($"{p}:Publishing must not be null.");
        }
        else
        {
            ValidatePublishing($"{p}:Publishing", options.Publishing, errors);
        }

        if (options.Consumers is null)
        {
            errors.Add($"{p}:Consumers must not be null.");
        }
        else
        {
            ValidateConsumerDefaults($"{p}:Consumers", options.Consumers, errors);
        }

        foreach (var stream in _registry.Streams)
        {
            try
            {
                stream.Spec.Validate();
            }
            catch (ArgumentException ex)
            {
                errors.Add($"{p}: stream '{stream.Name}' declared with {(stream.Partitions is null ? "AddStream" : "AddSuperStream")} has an invalid spec: {ex.Message}");
            }
        }

        var configuration = _provider?.GetService<IConfiguration>();
        var isService = _provider?.GetService<IServiceProviderIsService>();
        var services = _provider?.GetService<HandlerScopeAnalyzer>()?.Services;
        var names = new Dictionary<(string Stream, string Name), ConsumerRegistration>();
        var settingsKeys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var consumer in _registry.Consumers)
        {
            if (ValidateConsumer(consumer, configuration, options.Consumers, errors, names) is { } resolved)
            {
                settingsKeys.Add(ConsumerRegistration.SettingsKey(resolved, consumer.HandlerType));
            }

            if (isService is not null && services is not null)
            {
                errors.AddRange(HandlerDependencyCheck.FindMissing(consumer.HandlerType, isService, services));
            }
        }

        if (options.Consumers?.ByName is { Count: > 0 } byName)
        {
            foreach (var key in byName.Keys.Where(k => !settingsKeys.Contains(k)))
            {
                var nearest = ConfigurationKeyValidator.Nearest(key, settingsKeys);
                errors.Add($"{p}:Consumers:ByName:{key} matches no consumer{(nearest is null ? string.Empty : $" (did you mean {p}:Consumers:ByName:{nearest}?)")}; " +
                    $"the keys are consumer names, or handler class names for consumers without a name{(settingsKeys.Count == 0 ? string.Empty : $" ({string.Join(", ", settingsKeys.Order(StringComparer.Ordinal))})")}.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateConnection(string p, RabbitStreamsOptions options, List<string> errors)
    {
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            if (options.Endpoints.Count > 0)
            {
                errors.Add($"{p}:ConnectionString and {p}:Endpoints are both set; use one of them.");
            }

            try
            {
                _ = StreamSystemOptions.FromUri(options.ConnectionString);
            }
            catch (ArgumentException ex)
            {
                // The client's messages redact the password.
                errors.Add($"{p}:ConnectionString is invalid: {ex.Message}");
            }
        }

        for (var i = 0; i < options.Endpoints.Count; i++)
        {
            var endpoint = options.Endpoints[i];
            if (endpoint is null)
            {
                errors.Add($"{p}:Endpoints:{i} must not be null.");
                continue;
            }

            if (string.IsNullOrWhiteSpace(endpoint.Host))
            {
                errors.Add($"{p}:Endpoints:{i}:Host is required.");
            }

            if (endpoint.Port is < 1 or > 65535)
            {
                errors.Add($"{p}:Endpoints:{i}:Port must be 1-65535 (was {endpoint.Port}).");
            }
        }

        if (options.UserName is { Length: 0 })
        {
            errors.Add($"{p}:UserName must not be empty (omit it for the default 'guest').");
        }

        if (options.VirtualHost is { Length: 0 })
        {
            errors.Add($"{p}:VirtualHost must not be empty (omit it for the default '/').");
        }

        if (options.ConnectionName is { } connectionName && Encoding.UTF8.GetByteCount(connectionName) > 255)
        {
            errors.Add($"{p}:ConnectionName must be at most 255 UTF-8 bytes.");
        }
    }

    private static void ValidatePublishing(string p, RabbitStreamsPublishingOptions publishing, List<string> errors)
    {
        if (publishing.Timeout <= TimeSpan.Zero && publishing.Timeout != Timeout.InfiniteTimeSpan)
        {
            errors.Add($"{p}:Timeout must be positive (was {publishing.Timeout}).");
        }

        foreach (var (superStream, strategy) in publishing.SuperStreamRouting)
        {
            if (string.IsNullOrWhiteSpace(superStream))
            {
                errors.Add($"{p}:SuperStreamRouting has an empty super stream name.");
            }
            else if (!Enum.IsDefined(strategy))
            {
                errors.Add($"{p}:SuperStreamRouting:{superStream} must be Hash or Key (was {strategy}).");
            }
        }

        if (publishing.MaxUnconfirmed is < 1 or > 1_000_000)
        {
            errors.Add($"{p}:MaxUnconfirmed must be 1-1000000 (was {publishing.MaxUnconfirmed}).");
        }

        if (publishing.BatchSize is < 1 or > 100_000)
        {
            errors.Add($"{p}:BatchSize must be 1-100000 (was {publishing.BatchSize}).");
        }

        if (publishing.DeduplicationProducerName is { } producerName
            && (producerName.Length == 0 || Encoding.UTF8.GetByteCount(producerName) > 255 - RabbitStreamsPublishingOptions.AutomaticIdsSuffix.Length))
        {
            errors.Add($"{p}:DeduplicationProducerName must be 1-{255 - RabbitStreamsPublishingOptions.AutomaticIdsSuffix.Length} UTF-8 bytes " +
                $"(the broker's 255-byte reference, less '{RabbitStreamsPublishingOptions.AutomaticIdsSuffix}' for the messages published without an id).");
        }
    }

    private static void ValidateConsumerDefaults(string p, RabbitStreamsConsumerOptions consumers, List<string> errors)
    {
        if (consumers.CommitEveryMessages < 1)
        {
            errors.Add($"{p}:CommitEveryMessages must be at least 1 (was {consumers.CommitEveryMessages}).");
        }

        if (consumers.CommitInterval <= TimeSpan.Zero)
        {
            errors.Add($"{p}:CommitInterval must be positive (was {consumers.CommitInterval}).");
        }

        if (consumers.RecoveryDelay is { } recoveryDelay && recoveryDelay < TimeSpan.Zero)
        {
            errors.Add($"{p}:RecoveryDelay must not be negative (was {recoveryDelay}; omit it to use RabbitStreams:Recovery:InitialDelay).");
        }

        if (consumers.MaxBatchSize is < 1 or > 100_000)
        {
            errors.Add($"{p}:MaxBatchSize must be 1-100000 (was {consumers.MaxBatchSize}).");
        }

        if (consumers.FailurePolicy is null)
        {
            errors.Add($"{p}:FailurePolicy must not be null.");
        }
        else
        {
            ValidateFailurePolicy($"{p}:FailurePolicy", consumers.FailurePolicy, errors);
        }
    }

    private static void ValidateRecovery(string p, RabbitStreamsRecoveryOptions recovery, List<string> errors)
    {
        if (recovery.InitialDelay < TimeSpan.Zero)
        {
            errors.Add($"{p}:InitialDelay must not be negative (was {recovery.InitialDelay}).");
        }

        if (recovery.MaxDelay < recovery.InitialDelay)
        {
            errors.Add($"{p}:MaxDelay ({recovery.MaxDelay}) must not be shorter than {p}:InitialDelay ({recovery.InitialDelay}).");
        }

        if (double.IsNaN(recovery.BackoffMultiplier) || recovery.BackoffMultiplier is < 1 or > 100)
        {
            errors.Add($"{p}:BackoffMultiplier must be 1-100 (was {recovery.BackoffMultiplier}).");
        }

        if (double.IsNaN(recovery.Jitter) || recovery.Jitter is < 0 or > 1)
        {
            errors.Add($"{p}:Jitter must be 0-1 (was {recovery.Jitter}).");
        }

        if (recovery.ResetAfter < TimeSpan.Zero)
        {
            errors.Add($"{p}:ResetAfter must not be negative (was {recovery.ResetAfter}).");
        }

        if (recovery.MaxAttempts is < 1)
        {
            errors.Add($"{p}:MaxAttempts must be at least 1 (was {recovery.MaxAttempts}; omit it for unlimited).");
        }
    }

    internal static void ValidateFailurePolicy(string p, HandlerFailurePolicy policy, List<string> errors)
    {
        if (policy.MaxRetries is < 0 or > 10_000)
        {
            errors.Add($"{p}:MaxRetries must be 0-10000 (was {policy.MaxRetries}).");
        }

        if (policy.RetryDelay < TimeSpan.Zero)
        {
            errors.Add($"{p}:RetryDelay must not be negative (was {policy.RetryDelay}).");
        }

        if (policy.MaxRetryDelay < policy.RetryDelay)
        {
            errors.Add($"{p}:MaxRetryDelay ({policy.MaxRetryDelay}) must not be shorter than {p}:RetryDelay ({policy.RetryDelay}).");
        }

        if (!Enum.IsDefined(policy.AfterRetries))
        {
            errors.Add($"{p}:AfterRetries must be DeadLetter, Skip or Stop (was {policy.AfterRetries}).");
        }

        if (!Enum.IsDefined(policy.Backoff))
        {
            errors.Add($"{p}:Backoff must be Constant, Linear or Exponential (was {policy.Backoff}).");
        }

        if (policy.AfterRetries == FailureAction.DeadLetter && string.IsNullOrWhiteSpace(policy.DeadLetterStream))
        {
            errors.Add($"{p}:DeadLetterStream is required when {p}:AfterRetries is DeadLetter.");
        }
    }

    /// <summary>Validates one consumer's resolved settings; returns them, or null when they cannot be built.</summary>
    private static StreamConsumerOptions? ValidateConsumer(
        ConsumerRegistration consumer, IConfiguration? configuration, RabbitStreamsConsumerOptions? defaults, List<string> errors, Dictionary<(string, string), ConsumerRegistration> names)
    {
        StreamConsumerOptions options;
        try
        {
            options = consumer.BuildOptions(configuration, defaults);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            errors.Add($"Stream consumer '{consumer}': configuring it failed: {ex.Message}");
            return null;
        }

        var p = $"Stream consumer '{consumer}'";
        if (string.IsNullOrWhiteSpace(options.Stream))
        {
            errors.Add($"{p}: the stream is required ([StreamConsumer(\"stream\")] or AddConsumer<T>(c => c.Stream = ...)).");
        }

        if (options.Name is { } name)
        {
            if (name.Length == 0 || Encoding.UTF8.GetByteCount(name) > 255)
            {
                errors.Add($"{p}: Name must be 1-255 UTF-8 bytes (it is the broker's offset-tracking reference).");
            }
            else if (!string.IsNullOrWhiteSpace(options.Stream) && !names.TryAdd((options.Stream, name), consumer))
            {
                errors.Add($"{p}: Name '{name}' on stream '{options.Stream}' is already used by '{names[(options.Stream, name)]}'; two consumers sharing a name would overwrite each other's offsets.");
            }
        }

        if (options.Name is null && !(options.AutoStart ?? defaults?.AutoStart ?? true))
        {
            var key = options.AutoStart is null ? "RabbitStreams:Consumers:AutoStart = false" : "AutoStart = false";
            errors.Add($"{p}: {key} requires a Name (an anonymous consumer cannot be started with IStreamConsumerControl.ResumeAsync); name it or set AutoStart = true on it.");
        }

        if (options.SingleActiveConsumer && options.Name is null)
        {
            errors.Add($"{p}: SingleActiveConsumer requires a Name (the consumer group).");
        }

        if (options.MaxConcurrency is < 1 or > 1024)
        {
            errors.Add($"{p}: MaxConcurrency must be 1-1024 (was {options.MaxConcurrency}).");
        }

        if (options.MaxConcurrency > 1 && consumer.IsBatch)
        {
            errors.Add($"{p}: MaxConcurrency applies to IStreamHandler<T> only; a batch handler receives one batch at a time.");
        }

        if (options.Offset.Type == OffsetType.None)
        {
            errors.Add($"{p}: Offset must be First, Last, Next, an offset or a timestamp.");
        }

        if (options.CommitEveryMessages is < 1)
        {
            errors.Add($"{p}: CommitEveryMessages must be at least 1 (was {options.CommitEveryMessages}).");
        }

        if (options.CommitInterval is { } interval && interval <= TimeSpan.Zero)
        {
            errors.Add($"{p}: CommitInterval must be positive (was {interval}).");
        }

        if (options.FailurePolicy is not null)
        {
            ValidateFailurePolicy($"{p}: FailurePolicy", options.FailurePolicy, errors);
        }

        return options;
    }
}
