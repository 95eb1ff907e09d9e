using System.CommandLine;
using System.Text;
using Streams.Cli.Cli;
using Streams.Client;

namespace Streams.Cli.Commands;

/// <summary><c>streams publish</c>: publishes N messages and waits until every one is confirmed.</summary>
internal static class PublishCommand
{
    public static Command Create(CliEnvironment env, Option<string> uri)
    {
        var options = new PublishOptions();
        var command = new Command("publish",
            "Publish messages and wait until the broker confirms every one. A missing stream is created with broker defaults, " +
            "a missing super stream with --partitions. In --body, the ids, property values, --routing-key and --filter, " +
            "{seq} is the message's 1-based sequence number.");
        options.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var plan = PublishPlan.From(parse, options);
            await using var system = await Connection.ConnectAsync(parse.GetValue(uri)!, ct).ConfigureAwait(false);
            return plan.SuperStream
                ? await PublishToSuperStreamAsync(system, plan, env, ct).ConfigureAwait(false)
                : await PublishToStreamAsync(system, plan, env, ct).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> PublishToStreamAsync(StreamSystem system, PublishPlan plan, CliEnvironment env, CancellationToken cancellationToken)
    {
        // An existing stream is used as it is, whatever its arguments; a missing one is created with broker defaults.
        if (!await system.StreamExistsAsync(plan.Stream, cancellationToken).ConfigureAwait(false)
            && await system.CreateStreamAsync(plan.Stream, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            await env.Error.WriteLineAsync($"streams: created stream {plan.Stream}").ConfigureAwait(false);
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
            await env.Error.WriteLineAsync(
                $"streams: {tracker.Failed} of {plan.Count} messages were not confirmed; first error: {tracker.FirstError}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }

        await env.Output.WriteLineAsync($"published {plan.Count} messages to {plan.Stream} (all confirmed)").ConfigureAwait(false);
        return ExitCodes.Success;
    }


    /// <summary>Routes each message by its rendered <c>--routing-key</c> (hash strategy) and waits for every confirm.</summary>
    private static async Task<int> PublishToSuperStreamAsync(StreamSystem system, PublishPlan plan, CliEnvironment env, CancellationToken ct)
    {
        try
        {
            await system.QueryPartitionsAsync(plan.Stream, ct).ConfigureAwait(false);
        }
        catch (StreamDoesNotExistException)
        {
            await system.CreateSuperStreamAsync(plan.Stream, plan.Partitions, cancellationToken: ct).ConfigureAwait(false);
            await env.Error.WriteLineAsync($"streams: created super stream {plan.Stream} with {plan.Partitions} partitions").ConfigureAwait(false);
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

        await env.Output.WriteLineAsync($"published {plan.Count} messages to super stream {plan.Stream} (all confirmed)").ConfigureAwait(false);
        return ExitCodes.Success;
    }
}

/// <summary>The options of <c>streams publish</c> and the rules between them, checked while parsing.</summary>
internal sealed class PublishOptions
{
    public StreamTarget Target { get; } = new("publish to");

    public Option<long> Partitions { get; } = CliOptions.Int64("--partitions", "Partitions of a super stream created because it is missing.", 3, min: 1, max: 1000);

    public Option<string?> RoutingKey { get; } = CliOptions.Text("--routing-key", "Super streams: the routing key, hashed (MurmurHash3) to pick the partition [default: {seq}].", "KEY");

    public Option<string?> Filter { get; } = CliOptions.Text("--filter", "The broker filter value, also set as the application property x-stream-filter-value (needs --amqp).", "VALUE");

    public Option<long> Count { get; } = CliOptions.Int64("--count", "How many messages.", 1, min: 1, max: 1_000_000_000);

    public Option<long?> Size { get; } = CliOptions.OptionalInt64("--size", "Bodies of this many bytes (a..z repeated) instead of --body.", min: 0, max: 64 * 1024 * 1024);

    public Option<string?> Body { get; } = CliOptions.Text("--body", "The body text [default: message {seq}].");

    public Option<bool> Amqp { get; } = CliOptions.Flag("--amqp", "Publish AMQP 1.0 messages (always for super streams); without it the bodies are stored raw.");

    public Option<string?> MessageId { get; } = CliOptions.Text("--message-id", "The AMQP message-id (needs --amqp).", "ID");

    public Option<string?> CorrelationId { get; } = CliOptions.Text("--correlation-id", "The AMQP correlation-id (needs --amqp).", "ID");

    public Option<string?> ContentType { get; } = CliOptions.Text("--content-type", "The AMQP content-type (needs --amqp).", "TYPE");

    public Option<string[]> Property { get; } = CliOptions.Repeated("--property", "An application property key=value (repeatable; integers and booleans keep their type; needs --amqp).", "KEY=VALUE");

    public Option<string?> ProducerName { get; } = CliOptions.Text("--producer-name", "Producer name: the broker deduplicates by it (see `streams sequence`).", "NAME");

    public void AddTo(Command command)
    {
        Target.AddTo(command);
        foreach (Option option in (Option[])[Partitions, RoutingKey, Filter, Count, Size, Body, Amqp, MessageId, CorrelationId, ContentType, Property, ProducerName])
        {
            command.Options.Add(option);
        }

        command.Validators.Add(result =>
        {
            var superStream = result.Valid(Target.SuperStream) is not null;
            if (result.Valid(RoutingKey) is not null && !superStream)
            {
                result.AddError("option --routing-key only applies with --super-stream");
            }

            if (result.Valid(Size) is not null && result.Valid(Body) is not null)
            {
                result.AddError("options --size and --body exclude each other");
            }

            foreach (var property in result.Valid(Property) ?? [])
            {
                if (!PropertyTemplate.TryParse(property, out _))
                {
                    result.AddError($"option --property: '{property}' must look like key=value");
                }
            }

            var needsAmqp = result.Valid(MessageId) is not null || result.Valid(CorrelationId) is not null
                || result.Valid(ContentType) is not null || (result.Valid(Property) ?? []).Length > 0 || result.Valid(Filter) is not null;
            if (needsAmqp && !result.Valid(Amqp) && !superStream)
            {
                result.AddError("options --message-id, --correlation-id, --content-type, --property and --filter need --amqp (raw messages have no properties)");
            }
        });
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

    public static PublishPlan From(ParseResult parse, PublishOptions o)
    {
        var (stream, superStream) = o.Target.Get(parse);
        var size = parse.GetValue(o.Size);
        var body = parse.GetValue(o.Body);
        var filter = parse.GetValue(o.Filter);
        var messageId = parse.GetValue(o.MessageId);
        var correlationId = parse.GetValue(o.CorrelationId);
        return new PublishPlan
        {
            Stream = stream,
            SuperStream = superStream,
            RoutingKey = superStream ? new MessageTemplate(parse.GetValue(o.RoutingKey) ?? "{seq}") : null,
            Partitions = (int)parse.GetValue(o.Partitions),
            Filter = filter is null ? null : new MessageTemplate(filter),
            Count = parse.GetValue(o.Count),
            ProducerName = parse.GetValue(o.ProducerName),
            Amqp = parse.GetValue(o.Amqp) || superStream,
            Size = (int?)size,
            Body = body is null ? (size is null ? new MessageTemplate("message {seq}") : null) : new MessageTemplate(body),
            MessageId = messageId is null ? null : new MessageTemplate(messageId),
            CorrelationId = correlationId is null ? null : new MessageTemplate(correlationId),
            ContentType = parse.GetValue(o.ContentType),
            Properties = [.. (parse.GetValue(o.Property) ?? []).Select(PropertyTemplate.Parse)],
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
