using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Streams.Hosting.Internal;
using Streams.Hosting.Tests.Harness;
using Streams.Hosting.Tests.Integration;
using Streams.Testing;

namespace Streams.Hosting.Tests.Consuming;

/// <summary>A scoped service that records which scope it lives in and when it is disposed.</summary>
internal sealed class UnitOfWork : IDisposable
{
    private static int _next;

    public int Id { get; } = Interlocked.Increment(ref _next);

    public bool Disposed { get; private set; }

    public void Dispose() => Disposed = true;
}

[StreamConsumer("set-by-test")]
internal sealed class ScopedOrderHandler(UnitOfWork work, Probe probe) : IStreamHandler<Order>
{
    public Task HandleAsync(Order message, StreamContext context, CancellationToken cancellationToken)
    {
        Assert.False(work.Disposed);
        probe.Record(work, context);
        return Task.CompletedTask;
    }
}

internal sealed class SingletonOnly(Probe probe, ILogger<SingletonOnly> logger)
{
    public Probe Probe => probe;

    public ILogger Logger => logger;
}

internal sealed class TakesProvider(IServiceProvider services)
{
    public IServiceProvider Services => services;
}

internal sealed class TwoConstructors
{
    public TwoConstructors()
    {
    }

    public TwoConstructors(Probe probe) => _ = probe;
}

internal sealed class KeyedDependency([FromKeyedServices("primary")] Probe probe)
{
    public Probe Probe => probe;
}

internal sealed class NullableSingleton(Probe probe, ILogger<NullableSingleton>? logger)
{
    public Probe Probe => probe;

    public ILogger? Logger => logger;
}

internal sealed class OptionalDependency(Probe? probe = null)
{
    public Probe? Probe => probe;
}

public sealed class HandlerScopeAnalyzerTests
{
    private static (HandlerScopeAnalyzer Analyzer, IServiceScopeFactory Scopes) Build(Action<IServiceCollection> configure)
    {
        var services = new ServiceCollection().AddLogging();
        configure(services);
        var provider = services.BuildServiceProvider(validateScopes: true);
        return (new HandlerScopeAnalyzer(services), provider.GetRequiredService<IServiceScopeFactory>());
    }

    [Fact]
    public void Singleton_dependencies_need_no_scope_and_are_resolved_once()
    {
        var probe = new Probe();
        var (analyzer, scopes) = Build(s => s.AddSingleton(probe));

        var arguments = analyzer.FindSingletonArguments(typeof(SingletonOnly), scopes);

        Assert.NotNull(arguments);
        Assert.Equal([typeof(Probe), typeof(ILogger<SingletonOnly>)], arguments.Types);
        Assert.Same(probe, arguments.Values[0]);
        Assert.IsAssignableFrom<ILogger<SingletonOnly>>(arguments.Values[1]);
    }

    [Fact]
    public void Nullable_annotations_do_not_count_as_special_parameters()
    {
        var (analyzer, scopes) = Build(s => s.AddSingleton<Probe>());
        Assert.NotNull(analyzer.FindSingletonArguments(typeof(NullableSingleton), scopes));
    }

    [Fact]
    public void A_handler_without_dependencies_needs_no_scope()
    {
        var (analyzer, scopes) = Build(_ => { });
        Assert.Empty(analyzer.FindSingletonArguments(typeof(UnitOfWork), scopes)!.Values);
    }

    [Theory]
    [InlineData(ServiceLifetime.Scoped)]
    [InlineData(ServiceLifetime.Transient)]
    public void Scoped_or_transient_dependencies_need_a_scope(ServiceLifetime lifetime)
    {
        var (analyzer, scopes) = Build(s => s.AddSingleton<Probe>().Add(new ServiceDescriptor(typeof(UnitOfWork), typeof(UnitOfWork), lifetime)));
        Assert.Null(analyzer.FindSingletonArguments(typeof(ScopedOrderHandler), scopes));
    }

    [Fact]
    public void The_last_registration_decides()
    {
        var (analyzer, scopes) = Build(s => s.AddSingleton<Probe>().AddSingleton<UnitOfWork>().AddScoped<UnitOfWork>());
        Assert.Null(analyzer.FindSingletonArguments(typeof(ScopedOrderHandler), scopes));
    }

    [Fact]
    public void The_built_provider_is_checked_too()
    {
        // The analyzed collection says singleton; the provider actually in use was built from another one (scoped).
        var analyzed = new ServiceCollection().AddSingleton<Probe>().AddSingleton<UnitOfWork>();
        var actual = new ServiceCollection().AddSingleton<Probe>().AddScoped<UnitOfWork>().BuildServiceProvider(validateScopes: true);

        Assert.Null(new HandlerScopeAnalyzer(analyzed).FindSingletonArguments(typeof(ScopedOrderHandler), actual.GetRequiredService<IServiceScopeFactory>()));
    }

    [Theory]
    [InlineData(typeof(TakesProvider))]
    [InlineData(typeof(TwoConstructors))]
    [InlineData(typeof(OptionalDependency))]
    [InlineData(typeof(KeyedDependency))]
    public void Providers_several_constructors_and_optional_parameters_need_a_scope(Type handlerType)
    {
        var (analyzer, scopes) = Build(s => s.AddSingleton<Probe>());
        Assert.Null(analyzer.FindSingletonArguments(handlerType, scopes));
    }
}

/// <summary>On the in-memory harness: scopes are the pipeline's business, not the broker's.</summary>
public sealed class HandlerScopeTests
{
    [Fact]
    public async Task Each_message_gets_a_fresh_scope_disposed_after_its_handler()
    {
        var ct = TestContext.Current.CancellationToken;
        var stream = BrokerFixture.UniqueName("hosting-scope");
        using var host = HarnessHost.Build(b =>
        {
            b.Services.AddScoped<UnitOfWork>();
            b.AddStream(stream).AddConsumer<ScopedOrderHandler>(c => c.Stream = stream);
        });
        await host.StartAsync(ct);
        var publisher = host.Services.GetRequiredService<IStreamPublisher>();
        foreach (var i in Enumerable.Range(0, 3))
        {
            await publisher.PublishAsync(stream, new Order($"s-{i}", i), ct);
        }

        var received = await host.Services.GetRequiredService<Probe>().TakeAsync(3);
        var works = received.Select(r => (UnitOfWork)r.Message).ToList();
        Assert.Equal(3, works.Select(w => w.Id).Distinct().Count());
        await host.Harness().WaitForConsumedAsync<Order>(o => o.Id == "s-2", cancellationToken: ct); // reported once its scope is disposed
        Assert.All(works, w => Assert.True(w.Disposed));
        await host.StopAsync(ct);
    }
}
