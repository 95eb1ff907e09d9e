using System.Text;
using Streams.Client;

namespace Streams.Cli.Commands;

/// <summary><c>streams publish</c>: publishes N messages and waits until every one is confirmed.</summary>
internal static class PublishCommand
{
    private static readonly string[] ValueOptions =
    [
        Connection.UriOption, "stream", "super-stream", "partitions", "routing-key", "filter", "count", "size", "body", "message-id",
        "correlation-id", "content-type", "property", "producer-name",
    ];

    private static readonly string[] FlagOptions = ["amqp"];

    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        var arguments = Arguments.Parse(args, ValueOptions, FlagOptions);
        var plan = PublishPlan.From(arguments);
        var systemOptions = Connection.Options(arguments);

        await using var system = await StreamSystem.ConnectAsync(systemOptions, cancellationToken).ConfigureAwait(false);
        if (plan.SuperStream)
        {
            return await PublishToSuperStreamAsync(system, plan, output, cancellationToken).ConfigureAwait(false);
        }

        // An existing stream is used as it is, whatever its arguments; a missing one is created with broker defaults.
        if (!await system.StreamExistsAsync(plan.Stream, cancellationToken).ConfigureAwait(false)
            && await system.CreateStreamAsync(plan.Stream, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            await Console.Error.WriteLineAsync($"streams: created stream {plan.Stream}").ConfigureAwait(false);
        }

        var producerOptions = new ProducerOptions(plan.Stream)
        {
            Name = plan.ProducerName,
            FilterValue = plan.Filter is null ? null : StreamFilter.ProducerFilterValue,
        };
        await using var producer = await system.CreateProducerAsync(producerOptions, cancellationToken).ConfigureAwait(false);

        var tracker = new ConfirmTracker(plan.Count, producerOptions.ConfirmTimeout);
        Action<Confirmation> onConfirm = tracker.OnConfirm;
        for (long seq = 1; seq <= plan.Count; seq++)
        {
            if (plan.Amqp)
            {
                await producer.Send(plan.BuildMessage(seq), onConfirm, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await producer.Send(plan.BuildBody(seq), onConfirm, cancellationToken).ConfigureAwait(false);
            }
        }

        await tracker.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (tracker.Failed > 0)
        {
            await Console.Error.WriteLineAsync(
                $"streams: {tracker.Failed} of {plan.Count} messages were not confirmed; first error: {tracker.FirstError}").ConfigureAwait(false);
            return 1;
        }

        await output.WriteLineAsync($"published {plan.Count} messages to {plan.Stream} (all confirmed)").ConfigureAwait(false);
        return 0;
    }

    /// <summary>Routes each message by its rendered <c>--routing-key</c> (hash strategy) and waits for every confirm.</summary>
    private static async Task<int> PublishToSuperStreamAsync(StreamSystem system, PublishPlan plan, TextWriter output, CancellationToken ct)
    {
        try
        {
            await system.QueryPartitionsAsync(plan.Stream, ct).ConfigureAwait(false);
        }
        catch (StreamDoesNotExistException)
        {
            await system.CreateSuperStreamAsync(plan.Stream, plan.Partitions, cancellationToken: ct).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"streams: created super stream {plan.Stream} with {plan.Partitions} partitions").ConfigureAwait(false);
        }

        var keys = new Dictionary<Message, string>(ReferenceEqualityComparer.Instance);
        await using var producer = await system.CreateSuperStreamProducerAsync(
            new SuperStreamProducerOptions(plan.Stream, m => keys[m])
            {
                Name = plan.ProducerName,
                FilterValue = plan.Filter is null ? null : StreamFilter.ProducerFilterValue,
            }, ct).ConfigureAwait(false);
        const int BatchSize = 1000;
        var batch = new List<Message>(BatchSize);
        for (long seq = 1; seq <= plan.Count; seq++)
        {
            var message = plan.BuildMessage(seq);
            keys[message] = plan.RoutingKey!.Render(seq);
            batch.Add(message);
            if (batch.Count == BatchSize || seq == plan.Count)
            {
                await producer.SendBatchAsync(batch, ct).ConfigureAwait(false);
                batch.Clear();
                keys.Clear();
            }
        }

        await output.WriteLineAsync($"published {plan.Count} messages to super stream {plan.Stream} (all confirmed)").ConfigureAwait(false);
        return 0;
    }
}

/// <summary>What <c>streams publish</c> sends, built from the options.</summary>
internal sealed class PublishPlan
{
    public required string Stream { get; init; }

    public required long Count { get; init; }

    public string? ProducerName { get; init; }

    /// <summary>True when <see cref="Stream"/> names a super stream.</summary>
    public bool SuperStream { get; init; }

    public MessageTemplate? RoutingKey { get; init; }

    /// <summary>Partitions of a super stream created because it was missing.</summary>
    public int Partitions { get; init; } = 3;

    public MessageTemplate? Filter { get; init; }

    public bool Amqp { get; init; }

    public int? Size { get; init; }

    public MessageTemplate? Body { get; init; }

    public MessageTemplate? MessageId { get; init; }

    public MessageTemplate? CorrelationId { get; init; }

    public string? ContentType { get; init; }

    public IReadOnlyList<PropertyTemplate> Properties { get; init; } = [];

    private byte[]? _fixedBody;

    public static PublishPlan From(Arguments arguments)
    {
        var superStream = arguments.Value("super-stream");
        var stream = arguments.Value("stream");
        if ((stream is null) == (superStream is null))
        {
            throw new UsageException("give exactly one of --stream and --super-stream");
        }

        if ((stream ?? superStream)!.Length == 0)
        {
            throw new UsageException("the stream name must not be empty");
        }

        var routingKey = arguments.Value("routing-key");
        if (routingKey is not null && superStream is null)
        {
            throw new UsageException("--routing-key only applies with --super-stream");
        }

        var filter = arguments.Value("filter");

        var size = arguments.Value("size");
        var body = arguments.Value("body");
        if (size is not null && body is not null)
        {
            throw new UsageException("options --size and --body exclude each other");
        }

        var properties = arguments.Values("property").Select(PropertyTemplate.Parse).ToList();
        var messageId = arguments.Value("message-id");
        var correlationId = arguments.Value("correlation-id");
        var contentType = arguments.Value("content-type");
        var needsAmqp = messageId is not null || correlationId is not null || contentType is not null || properties.Count > 0 || filter is not null;
        var amqp = arguments.Flag("amqp") || superStream is not null;
        if (needsAmqp && !amqp)
        {
            throw new UsageException("--message-id, --correlation-id, --content-type, --property and --filter need --amqp (raw messages have no properties)");
        }

        return new PublishPlan
        {
            Stream = (stream ?? superStream)!,
            SuperStream = superStream is not null,
            RoutingKey = superStream is null ? null : new MessageTemplate(routingKey ?? "{seq}"),
            Partitions = (int)arguments.Int64("partitions", 3, min: 1, max: 1000),
            Filter = filter is null ? null : new MessageTemplate(filter),
            Count = arguments.Int64("count", 1, min: 1, max: 1_000_000_000),
            ProducerName = arguments.Value("producer-name"),
            Amqp = amqp,
            Size = size is null ? null : (int)arguments.Int64("size", 0, min: 0, max: 64 * 1024 * 1024),
            Body = body is null ? (size is null ? new MessageTemplate("message {seq}") : null) : new MessageTemplate(body),
            MessageId = messageId is null ? null : new MessageTemplate(messageId),
            CorrelationId = correlationId is null ? null : new MessageTemplate(correlationId),
            ContentType = contentType,
            Properties = properties,
        };
    }

    /// <summary>The body of message <paramref name="sequence"/>: the rendered --body, or --size bytes.</summary>
    public ReadOnlyMemory<byte> BuildBody(long sequence)
    {
        if (Body is { } template)
        {
            return template.HasPlaceholder || _fixedBody is null
                ? (_fixedBody = Encoding.UTF8.GetBytes(template.Render(sequence)))
                : _fixedBody;
        }

        return _fixedBody ??= FilledBody(Size ?? 0);
    }

    public Message BuildMessage(long sequence)
    {
        var message = new Message(BuildBody(sequence).ToArray());
        if (MessageId is not null || CorrelationId is not null || ContentType is not null)
        {
            message.Properties = new MessageProperties
            {
                MessageId = MessageId?.Render(sequence),
                CorrelationId = CorrelationId?.Render(sequence),
                ContentType = ContentType,
            };
        }

        if (Properties.Count > 0 || Filter is not null)
        {
            var map = new Dictionary<string, object?>(Properties.Count + 1, StringComparer.Ordinal);
            foreach (var property in Properties)
            {
                map[property.Key] = property.Render(sequence);
            }

            if (Filter is not null)
            {
                // The client's filter convention: the broker filter value is read back from this property.
                map[StreamFilter.PropertyName] = Filter.Render(sequence);
            }

            message.ApplicationProperties = map;
        }

        return message;
    }

    private static byte[] FilledBody(int size)
    {
        var bytes = new byte[size];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)('a' + (i % 26));
        }

        return bytes;
    }
}

/// <summary>Counts confirmations and completes when every message has an outcome.</summary>
internal sealed class ConfirmTracker(long expected, TimeSpan confirmTimeout)
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _outcomes;
    private long _failed;

    public Task Completion => expected == 0 ? Task.CompletedTask : _done.Task;

    public long Failed => Interlocked.Read(ref _failed);

    public string? FirstError { get; private set; }

    public void OnConfirm(Confirmation confirmation)
    {
        if (!confirmation.IsConfirmed && Interlocked.Increment(ref _failed) == 1)
        {
            FirstError = confirmation.ToException(confirmTimeout)?.Message ?? confirmation.Status.ToString();
        }

        if (Interlocked.Increment(ref _outcomes) == expected)
        {
            _done.TrySetResult();
        }
    }
}
