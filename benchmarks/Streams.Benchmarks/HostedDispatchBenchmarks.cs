using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Streams.Client;
using Streams.Hosting;
using Streams.Hosting.Internal;
using Streams.Hosting.Internal.Backend;

namespace Streams.Benchmarks;

/// <summary>
/// What a <c>[StreamConsumer]</c> costs per message on the consuming thread, without the broker: the hosted consumer
/// pipeline's per-message step (decode, copy the body, deserialize, activate the handler, build its context, invoke, count)
/// against the raw client's <c>Delivery.DecodeMessage()</c>, over the same 1,000 deliveries of 100-byte AMQP messages:
/// a body alone (<see cref="ContentType"/> false: what <c>new Message(bytes)</c> writes; the worker takes the body
/// without building a message) or with a content type (as <c>IStreamPublisher</c> writes <c>byte[]</c>: both decode).
/// Both count the body bytes the same way. The host is built but not started (no connection is made).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class HostedDispatchBenchmarks
{
    private const int Messages = 1_000;
    private const int BodySize = 100;

    private readonly BodyCounter _counter = new();
    private Delivery[] _deliveries = [];
    private StreamDelivery[] _hostedDeliveries = [];
    private IHost _host = null!;
    private ConsumerWorker _worker = null!;

    /// <summary>The messages carry a content type (a properties section) besides their body.</summary>
    [Params(false, true)]
    public bool ContentType { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var body = new byte[BodySize];
        new Random(5).NextBytes(body);
        var message = new Message(body);
        if (ContentType)
        {
            message.Properties = new MessageProperties { ContentType = "application/octet-stream" };
        }

        var entry = message.ToArray();
        var buffer = new byte[entry.Length * Messages];
        _deliveries = new Delivery[Messages];
        _hostedDeliveries = new StreamDelivery[Messages];
        for (var i = 0; i < Messages; i++)
        {
            entry.CopyTo(buffer, i * entry.Length);
            _deliveries[i] = new Delivery(null!, (ulong)i, 0, 1_700_000_000_000, buffer.AsMemory(i * entry.Length, entry.Length));

            // What the client's delivery source hands the pipeline for the same delivery.
            _hostedDeliveries[i] = new StreamDelivery(_deliveries[i].Offset, _deliveries[i].ChunkId, _deliveries[i].Timestamp, _deliveries[i].Body);
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(_counter);
        builder.Services
            .AddRabbitStreams(o => o.ConnectionString = "rabbitmq-stream://guest:guest@localhost:5552/%2f")
            .AddConsumer<CountingHandler>(c =>
            {
                c.Stream = "bench";
                c.Name = "bench";
            });
        _host = builder.Build();
        var services = _host.Services.GetRequiredService<ConsumerWorkerServices>();
        var registration = _host.Services.GetRequiredService<RabbitStreamsRegistry>().Consumers.Single();
        _worker = new ConsumerWorker(registration, registration.BuildOptions(null, services.Options.Value.Consumers), null, services.Options.Value.Consumers, services);

        var start = _counter.Bytes;
        var afterRaw = Raw();
        var afterHosted = Hosted();
        if (afterRaw - start != Messages * BodySize || afterHosted - afterRaw != Messages * BodySize)
        {
            throw new InvalidOperationException("The raw and hosted steps did not see the same bytes.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _worker.Dispose();
        _host.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Messages, Description = "raw: DecodeMessage + count")]
    public long Raw()
    {
        foreach (ref readonly var delivery in _deliveries.AsSpan())
        {
            _counter.Add(delivery.DecodeMessage().Body.Length);
        }

        return _counter.Bytes;
    }

    [Benchmark(OperationsPerInvoke = Messages, Description = "hosted: worker step + IStreamHandler<byte[]>")]
    public long Hosted()
    {
        var pipeline = _worker.Pipeline;
        foreach (ref readonly var delivery in _hostedDeliveries.AsSpan())
        {
            var handled = pipeline.HandleDelivery(in delivery, CancellationToken.None, CancellationToken.None);
            if (!handled.IsCompletedSuccessfully)
            {
                throw new InvalidOperationException("The handler did not complete synchronously.", handled.Exception);
            }
        }

        return _counter.Bytes;
    }

    /// <summary>Counts body bytes (the work both sides do per message).</summary>
    public sealed class BodyCounter
    {
        public long Bytes { get; private set; }

        public void Add(int bytes) => Bytes += bytes;
    }

    /// <summary>An application's handler of raw bodies (a singleton dependency, activated per message).</summary>
    [StreamConsumer("bench")]
    public sealed class CountingHandler(BodyCounter counter) : IStreamHandler<byte[]>
    {
        public Task HandleAsync(byte[] message, StreamContext context, CancellationToken cancellationToken)
        {
            counter.Add(message.Length);
            return Task.CompletedTask;
        }
    }
}
