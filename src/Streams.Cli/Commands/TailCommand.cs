using System.CommandLine;
using System.CommandLine.Completions;
using System.Globalization;
using Streams.Cli.Cli;
using Streams.Cli.Output;
using Streams.Cli.Inspection;
using Streams.Client;

namespace Streams.Cli.Commands;

/// <summary><c>streams tail</c>: prints the messages of a stream from a starting point, for ever or up to its end.</summary>
internal static class TailCommand
{
    private static readonly string[] FromKeywords = ["first", "last", "next"];

    public static Command Create(CliEnvironment env, Option<string> uri)
    {
        var target = new StreamTarget("read");
        var from = new Option<OffsetSpecification>("--from")
        {
            Description = "Where to start: first, last (the last chunk), next (new messages only), an offset, or an ISO-8601 time.",
            HelpName = "first|last|next|OFFSET|TIME",
            DefaultValueFactory = _ => OffsetSpecification.First,
            CustomParser = result =>
            {
                var raw = result.Tokens[^1].Value;
                if (TryParseFrom(raw, out var offset))
                {
                    return offset;
                }

                result.AddError($"option --from: '{raw}' is not first, last, next, an offset or an ISO-8601 time");
                return OffsetSpecification.First;
            },
        };
        from.CompletionSources.Add(FromKeywords);
        var count = CliOptions.Int64("--count", "Stop after this many messages.", long.MaxValue, min: 1);
        var format = CliOptions.Choice("--format", "One line per message: text (offset, timestamp, body) or json.", "text", "text", "json");
        var name = CliOptions.Text("--name", "Consumer name: resumes after its stored offset, and names the single-active-consumer group.", "NAME");
        var sac = CliOptions.Flag("--single-active-consumer", "Join the single-active-consumer group --name (one reader at a time).");
        var filter = CliOptions.Repeated("--filter", "Only messages with this filter value (repeatable; --stream only).");
        var matchUnfiltered = CliOptions.Flag("--match-unfiltered", "With --filter: also messages published without a filter value.");
        var untilEnd = CliOptions.Flag("--until-end",
            "Exit after the last message that existed when tail started (at once for an empty stream); with --filter the broker does not skip chunks, every message up to the end is read and filtered here.");

        var command = new Command("tail", "Print the messages of a stream or super stream, one line each.");
        target.AddTo(command);
        command.Options.Add(from);
        command.Options.Add(count);
        command.Options.Add(format);
        command.Options.Add(name);
        command.Options.Add(sac);
        command.Options.Add(filter);
        command.Options.Add(matchUnfiltered);
        command.Options.Add(untilEnd);
        command.Validators.Add(result =>
        {
            if (result.Valid(sac) && result.Valid(name) is null)
            {
                result.AddError("option --single-active-consumer needs --name GROUP");
            }

            if (result.Valid(sac) && result.Valid(untilEnd))
            {
                result.AddError("option --until-end cannot be combined with --single-active-consumer (an inactive member may never read)");
            }

            var filters = result.Valid(filter) ?? [];
            if (result.Valid(matchUnfiltered) && filters.Length == 0)
            {
                result.AddError("option --match-unfiltered only applies with --filter");
            }

            if (filters.Length > 0 && result.Valid(target.SuperStream) is not null)
            {
                result.AddError("option --filter applies to --stream only");
            }
        });

        command.SetAction(async (parse, ct) =>
        {
            var (stream, isSuper) = target.Get(parse);
            var settings = new TailSettings(
                parse.GetValue(from), parse.GetValue(count), parse.GetValue(format) == "json", parse.GetValue(name),
                parse.GetValue(sac), parse.GetValue(filter) ?? [], parse.GetValue(matchUnfiltered), parse.GetValue(untilEnd));
            await using var system = await Connection.ConnectAsync(parse.GetValue(uri)!, ct).ConfigureAwait(false);
            var tail = new Tail(system, settings, env.Output);
            if (isSuper)
            {
                await tail.SuperStreamAsync(stream, ct).ConfigureAwait(false);
            }
            else
            {
                await tail.StreamAsync(stream, ct).ConfigureAwait(false);
            }

            await env.Output.FlushAsync(ct).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>first | last | next | an offset | an ISO-8601 point in time.</summary>
    public static bool TryParseFrom(string from, out OffsetSpecification offset)
    {
        offset = from switch
        {
            "first" => OffsetSpecification.First,
            "last" => OffsetSpecification.Last,
            "next" => OffsetSpecification.Next,
            _ when ulong.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out var value) => OffsetSpecification.Offset(value),
            _ when DateTimeOffset.TryParse(from, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
                => OffsetSpecification.Timestamp(time),
            _ => OffsetSpecification.None,
        };
        return offset.Type != OffsetType.None;
    }

    private sealed record TailSettings(
        OffsetSpecification From, long Count, bool Json, string? Name, bool SingleActiveConsumer,
        string[] Filters, bool MatchUnfiltered, bool UntilEnd);

    /// <summary>One run of tail: prints deliveries until the count, the end (<c>--until-end</c>) or Ctrl+C.</summary>
    private sealed class Tail(StreamSystem system, TailSettings settings, TextWriter output)
    {
        private long _printed;

        public async Task StreamAsync(string stream, CancellationToken ct)
        {
            var options = new ConsumerOptions(stream) { Offset = settings.From, Name = settings.Name, SingleActiveConsumer = settings.SingleActiveConsumer };
            Func<Delivery, bool>? filter = null;
            if (settings.Filters.Length > 0)
            {
                // The broker filters per chunk (Bloom filter): false positives reach us and are dropped by the
                // client's convention (StreamFilter), the one `streams publish --filter` and hosted publishers follow.
                filter = StreamFilter.CreatePostFilter(settings.Filters, settings.MatchUnfiltered);
                if (!settings.UntilEnd)
                {
                    // Up to the end, every chunk must arrive (a skipped last chunk would leave tail waiting): the
                    // filter then runs here only.
                    options.FilterValues = [.. settings.Filters];
                    options.MatchUnfiltered = settings.MatchUnfiltered;
                    options.PostFilter = filter;
                    filter = null;
                }
            }

            var end = await EndAsync(stream, options.Offset, ct).ConfigureAwait(false);
            if (end is { Done: true })
            {
                return;
            }

            await using var consumer = await system.CreateConsumerAsync(options, ct).ConfigureAwait(false);
            await foreach (var delivery in consumer.ReadAllAsync(ct).ConfigureAwait(false))
            {
                if (end is { } e && delivery.Offset > e.LastOffset)
                {
                    break;
                }

                if ((filter is null || filter(delivery)) && !await PrintAsync(delivery).ConfigureAwait(false))
                {
                    break;
                }

                if (end is { } reached && delivery.Offset >= reached.LastOffset)
                {
                    break;
                }
            }
        }

        public async Task SuperStreamAsync(string superStream, CancellationToken ct)
        {
            var ends = new Dictionary<string, PartitionEnd>(StringComparer.Ordinal);
            if (settings.UntilEnd)
            {
                foreach (var partition in await system.QueryPartitionsAsync(superStream, ct).ConfigureAwait(false))
                {
                    ends[partition] = (await EndAsync(partition, settings.From, ct).ConfigureAwait(false))!;
                }

                if (ends.Values.All(e => e.Done))
                {
                    return;
                }
            }

            await using var consumer = await system.CreateSuperStreamConsumerAsync(
                new SuperStreamConsumerOptions(superStream) { Offset = settings.From, Name = settings.Name, SingleActiveConsumer = settings.SingleActiveConsumer },
                ct).ConfigureAwait(false);
            await foreach (var delivery in consumer.ReadAllAsync(ct).ConfigureAwait(false))
            {
                var end = settings.UntilEnd ? ends.GetValueOrDefault(delivery.Stream) : null;
                if (end is { Done: true })
                {
                    continue;
                }

                if (end is not null && delivery.Offset > end.LastOffset)
                {
                    end.Done = true;
                }
                else
                {
                    if (!await PrintAsync(delivery).ConfigureAwait(false))
                    {
                        break;
                    }

                    if (end is not null && delivery.Offset >= end.LastOffset)
                    {
                        end.Done = true;
                    }
                }

                if (settings.UntilEnd && ends.Values.All(e => e.Done))
                {
                    break;
                }
            }
        }

        /// <summary>Prints one delivery; false once <c>--count</c> messages are printed.</summary>
        private async Task<bool> PrintAsync(Delivery delivery)
        {
            await output.WriteLineAsync(settings.Json
                ? DeliveryFormatter.Json(delivery.Offset, delivery.Timestamp, delivery.Body, delivery.Stream)
                : DeliveryFormatter.Text(delivery.Offset, delivery.Timestamp, delivery.Body)).ConfigureAwait(false);
            return ++_printed < settings.Count;
        }

        /// <summary>With <c>--until-end</c>: the end of <paramref name="stream"/>, done when nothing is to be read; else null.</summary>
        private async Task<PartitionEnd?> EndAsync(string stream, OffsetSpecification from, CancellationToken ct)
        {
            if (!settings.UntilEnd)
            {
                return null;
            }

            var end = await StreamEnd.ProbeAsync(system, stream, StreamEnd.DefaultProbeTimeout, ct).ConfigureAwait(false);
            if (end is null)
            {
                return new PartitionEnd(0) { Done = true };
            }

            var start = from;
            if (settings.Name is { } name && await system.QueryOffsetAsync(name, stream, ct).ConfigureAwait(false) is { } stored)
            {
                // A named consumer resumes after its stored offset (ConsumerOptions.ResumeFromStoredOffset).
                start = OffsetSpecification.Offset(stored + 1);
            }

            return new PartitionEnd(end.LastOffset) { Done = end.StartsAfter(start) };
        }
    }

    /// <summary>The last offset to print from one stream, and whether it was reached.</summary>
    private sealed class PartitionEnd(ulong lastOffset)
    {
        public ulong LastOffset { get; } = lastOffset;

        public bool Done { get; set; }
    }
}
