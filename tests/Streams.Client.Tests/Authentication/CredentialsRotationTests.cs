using Streams.Client.Tests.Recovery;
using Streams.Testing;
using static Streams.Client.Tests.Recovery.RecoveryHarness;

namespace Streams.Client.Tests.Authentication;

/// <summary>
/// Issue 16 item 3 against the real broker: a dedicated user whose password is rotated through the management API
/// while a producer and a consumer run on connections that took their credentials from a provider.
/// </summary>
[Trait("Category", "Broker")]
[Collection(BrokerCollection.Name)]
[Trait("Category", "LocalBroker")]
public sealed class CredentialsRotationTests(BrokerFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task After_a_password_rotation_open_connections_reauthenticate_and_keep_working_and_new_connections_use_the_new_secret()
    {
        await using var user = await TestUser.CreateAsync(fixture);
        var secret = new SwitchableSecret(user.Name, user.Password);
        var options = ProviderOptions("creds-rotate", secret.Provider);
        await using var system = await StreamSystem.ConnectAsync(options, Ct);
        var stream = await CreateStreamAsync(system, "creds-rotate");
        try
        {
            await using var run = await Pipeline.StartAsync(system, stream);
            await run.PublishAsync(1, 10);
            await WaitUntilAsync(() => run.ReceivedCount == 10, TimeSpan.FromSeconds(30), "10 messages before the rotation");

            var before = system.OpenConnections.ToHashSet();
            Assert.Equal(3, before.Count); // management, consumer, producer
            Assert.All(before, c => Assert.Equal(user.Name, c.UserName));

            var rotated = TestUser.NewPassword();
            await user.ChangePasswordAsync(rotated);
            secret.Set(rotated);
            Assert.Equal(3, await system.ReauthenticateAsync(Ct));

            // The same three connections, each renewed once, nothing recovered.
            Assert.True(before.SetEquals(system.OpenConnections), "re-authentication must keep the connections");
            Assert.All(before, c => Assert.Equal(1, c.Reauthentications));
            Assert.Equal(0, run.ProducerStatus.Count(StreamStatus.Reconnecting));
            Assert.Equal(0, run.ConsumerStatus.Count(StreamStatus.Reconnecting));

            await run.PublishAsync(11, 20);
            await run.AssertReceivedExactlyOnceInOrderAsync(20);

            // A new connection logs in with the provider's new secret (the old one is refused by now: see below).
            await using (var second = await system.CreateProducerAsync(new ProducerOptions(stream), Ct))
            {
                await second.SendAsync(Body(21), Ct);
            }

            // The old secret is refused for a new connection, with a clear typed error.
            var stale = ProviderOptions("creds-rotate-stale", StreamCredentialsProvider.Static(user.Name, user.Password));
            var refused = await Assert.ThrowsAsync<AuthenticationFailureException>(() => StreamSystem.ConnectAsync(stale, Ct));
            Assert.Equal(ResponseCode.AuthenticationFailure, refused.Code);
            Assert.Contains($"user '{user.Name}'", refused.Message, StringComparison.Ordinal);
            Assert.Contains("CredentialsProvider", refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(user.Password, refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            await system.DeleteStreamAsync(stream, CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_provider_that_announces_a_change_has_every_open_connection_reauthenticate_by_itself()
    {
        await using var user = await TestUser.CreateAsync(fixture);
        var provider = new RotatingStreamCredentialsProvider(new StreamCredentials(user.Name, user.Password));
        await using var system = await StreamSystem.ConnectAsync(ProviderOptions("creds-notify", provider), Ct);
        var stream = await CreateStreamAsync(system, "creds-notify");
        try
        {
            await using var producer = await system.CreateProducerAsync(new ProducerOptions(stream) { Recovery = FastRecovery }, Ct);
            var connections = system.OpenConnections.ToArray();
            Assert.Equal(2, connections.Length);

            var rotated = TestUser.NewPassword();
            await user.ChangePasswordAsync(rotated);
            provider.Update(new StreamCredentials(user.Name, rotated));

            await WaitUntilAsync(() => connections.All(c => c.Reauthentications == 1), TimeSpan.FromSeconds(30), "both connections re-authenticated after the change");
            Assert.All(connections, c => Assert.True(c.IsOpen));
            await producer.SendAsync(Body(1), Ct);
        }
        finally
        {
            await system.DeleteStreamAsync(stream, CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_refused_reauthentication_is_a_typed_error_and_the_connections_recover_with_the_providers_current_secret()
    {
        await using var user = await TestUser.CreateAsync(fixture);
        var secret = new SwitchableSecret(user.Name, user.Password);
        await using var system = await StreamSystem.ConnectAsync(ProviderOptions("creds-refused", secret.Provider), Ct);
        var stream = await CreateStreamAsync(system, "creds-refused");
        try
        {
            await using var run = await Pipeline.StartAsync(system, stream);
            await run.PublishAsync(1, 5);
            var before = system.OpenConnections.ToArray();

            // The broker has the new password; the provider hands out the old one once (a stale cache), then the new one.
            var rotated = TestUser.NewPassword();
            await user.ChangePasswordAsync(rotated);
            secret.Set(rotated, staleOnce: user.Password);

            var refused = await Assert.ThrowsAsync<AuthenticationFailureException>(() => system.ReauthenticateAsync(Ct));
            Assert.Equal(ResponseCode.AuthenticationFailure, refused.Code);
            Assert.Contains("refused to re-authenticate", refused.Message, StringComparison.Ordinal);
            Assert.Contains(user.Name, refused.Message, StringComparison.Ordinal);
            Assert.All(before, c => Assert.False(c.IsOpen));

            await run.WaitUntilBothRecoveredAsync();
            await run.PublishAsync(6, 10);
            await run.AssertReceivedExactlyOnceInOrderAsync(10);

            Assert.True(await system.StreamExistsAsync(stream, Ct)); // the management connection reopened too
            Assert.All(system.OpenConnections, c => Assert.DoesNotContain(c, before));
        }
        finally
        {
            await system.DeleteStreamAsync(stream, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Recovery_after_a_forced_close_asks_the_provider_again_and_retries_while_it_fails()
    {
        await using var user = await TestUser.CreateAsync(fixture);
        var secret = new SwitchableSecret(user.Name, user.Password);
        var options = ProviderOptions("creds-recover", secret.Provider);
        await using var system = await StreamSystem.ConnectAsync(options, Ct);
        var stream = await CreateStreamAsync(system, "creds-recover");
        try
        {
            await using var run = await Pipeline.StartAsync(system, stream);
            await run.PublishAsync(1, 5);

            // Rotated without re-authenticating: only a new login can tell. The provider fails twice before answering.
            var rotated = TestUser.NewPassword();
            await user.ChangePasswordAsync(rotated);
            secret.Set(rotated, failures: 2);
            using (var management = new ManagementClient(fixture.Endpoint.ManagementUri))
            {
                Assert.NotEmpty(await management.CloseConnectionsAsync(options.ConnectionName + "-producer", Ct));
                Assert.NotEmpty(await management.CloseConnectionsAsync(options.ConnectionName + "-consumer", Ct));
            }

            await run.WaitUntilBothRecoveredAsync();
            Assert.Equal(0, secret.FailuresLeft);
            Assert.Equal(0, run.ProducerStatus.Count(StreamStatus.Failed));
            Assert.Equal(0, run.ConsumerStatus.Count(StreamStatus.Failed));
            await run.PublishAsync(6, 10);
            await run.AssertReceivedExactlyOnceInOrderAsync(10);
        }
        finally
        {
            await system.DeleteStreamAsync(stream, CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_provider_that_throws_or_returns_null_fails_the_connect_with_StreamCredentialsException_before_dialling()
    {
        var throwing = ProviderOptions("creds-throw", StreamCredentialsProvider.Create(_ => throw new InvalidOperationException("vault is sealed")));
        var ex = await Assert.ThrowsAsync<StreamCredentialsException>(() => StreamSystem.ConnectAsync(throwing, Ct));
        Assert.IsType<InvalidOperationException>(ex.InnerException);
        Assert.Contains("vault is sealed", ex.Message, StringComparison.Ordinal);

        var returningNull = ProviderOptions("creds-null", StreamCredentialsProvider.Create(_ => ValueTask.FromResult<StreamCredentials>(null!)));
        var nullEx = await Assert.ThrowsAsync<StreamCredentialsException>(() => StreamSystem.ConnectAsync(returningNull, Ct));
        Assert.Contains("returned null", nullEx.Message, StringComparison.Ordinal);

        // Asked before dialling: with nothing listening, the provider's failure is still what surfaces.
        var nowhere = ProviderOptions("creds-nowhere", StreamCredentialsProvider.Create(_ => throw new InvalidOperationException("no token")));
        nowhere.Endpoints.Clear();
        nowhere.Endpoints.Add(new StreamEndpoint("127.0.0.1", 1));
        await Assert.ThrowsAsync<StreamCredentialsException>(() => StreamSystem.ConnectAsync(nowhere, Ct));
    }

    private StreamSystemOptions ProviderOptions(string name, IStreamCredentialsProvider provider)
    {
        var options = Options(fixture.Endpoint.Host, fixture.Endpoint.Port, BrokerFixture.UniqueName(name));
        // Wrong on purpose: with a provider these are ignored.
        options.UserName = "ignored-user";
        options.Password = "ignored-password";
        options.CredentialsProvider = provider;
        return options;
    }

    private static async Task<string> CreateStreamAsync(StreamSystem system, string prefix)
    {
        var stream = BrokerFixture.UniqueName(prefix);
        await system.CreateStreamAsync(stream, null, Ct);
        return stream;
    }

    /// <summary>A recording consumer and a named producer with fast recovery on one stream, with their status logs.</summary>
    private sealed class Pipeline : IAsyncDisposable
    {
        private Pipeline(Consumer consumer, Producer producer, List<ulong> received)
        {
            Consumer = consumer;
            Producer = producer;
            Received = received;
            consumer.StatusChanged += ConsumerStatus.Record;
            producer.StatusChanged += ProducerStatus.Record;
        }

        public Consumer Consumer { get; }

        public Producer Producer { get; }

        public List<ulong> Received { get; }

        public StatusLog ConsumerStatus { get; } = new();

        public StatusLog ProducerStatus { get; } = new();

        public int ReceivedCount
        {
            get
            {
                lock (Received)
                {
                    return Received.Count;
                }
            }
        }

        public static async Task<Pipeline> StartAsync(StreamSystem system, string stream)
        {
            var received = new List<ulong>();
            var consumer = await system.CreateConsumerAsync(RecordingConsumerOptions(stream, received), Ct);
            var producer = await system.CreateProducerAsync(new ProducerOptions(stream) { Name = BrokerFixture.UniqueName(stream + "-p"), Recovery = FastRecovery }, Ct);
            return new Pipeline(consumer, producer, received);
        }

        public async Task PublishAsync(ulong from, ulong to)
        {
            for (var id = from; id <= to; id++)
            {
                await Producer.SendAsync(id, Body(id), Ct);
            }
        }

        public Task WaitUntilBothRecoveredAsync() => WaitUntilAsync(
            () => ProducerStatus.Count(StreamStatus.Recovered) >= 1 && ConsumerStatus.Count(StreamStatus.Recovered) >= 1,
            TimeSpan.FromSeconds(60), $"producer ({ProducerStatus}) and consumer ({ConsumerStatus}) recovered");

        public async Task AssertReceivedExactlyOnceInOrderAsync(int count)
        {
            await WaitUntilAsync(() => ReceivedCount >= count, TimeSpan.FromSeconds(30), $"{count} messages received");
            lock (Received)
            {
                AssertExactlyOnceInOrder(Received, count, "consumer");
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Producer.DisposeAsync();
            await Consumer.DisposeAsync();
        }
    }

    /// <summary>A provider whose secret the test switches; it can hand out a stale secret once, or fail a few times.</summary>
    private sealed class SwitchableSecret(string userName, string password)
    {
        private readonly Lock _lock = new();
        private string _password = password;
        private string? _staleOnce;
        private int _failures;

        public IStreamCredentialsProvider Provider => StreamCredentialsProvider.Create(_ => ValueTask.FromResult(Next()));

        public int FailuresLeft
        {
            get
            {
                lock (_lock)
                {
                    return _failures;
                }
            }
        }

        public void Set(string newPassword, string? staleOnce = null, int failures = 0)
        {
            lock (_lock)
            {
                _password = newPassword;
                _staleOnce = staleOnce;
                _failures = failures;
            }
        }

        private StreamCredentials Next()
        {
            lock (_lock)
            {
                if (_failures > 0)
                {
                    _failures--;
                    throw new InvalidOperationException("the secret store is unavailable");
                }

                var secret = _staleOnce ?? _password;
                _staleOnce = null;
                return new StreamCredentials(userName, secret);
            }
        }
    }

    /// <summary>A broker user of its own with every permission on vhost /, deleted at the end.</summary>
    private sealed class TestUser : IAsyncDisposable
    {
        private readonly ManagementClient _management;

        private TestUser(ManagementClient management, string name, string password)
        {
            _management = management;
            Name = name;
            Password = password;
        }

        public string Name { get; }

        public string Password { get; }

        public static async Task<TestUser> CreateAsync(BrokerFixture fixture)
        {
            var management = new ManagementClient(fixture.Endpoint.ManagementUri, fixture.Endpoint.UserName, fixture.Endpoint.Password);
            var user = new TestUser(management, BrokerFixture.UniqueName("creds-user"), $"first-{Guid.NewGuid():N}");
            await management.PutUserAsync(user.Name, user.Password, Ct);
            await management.GrantAllOnDefaultVirtualHostAsync(user.Name, Ct);
            return user;
        }

        public static string NewPassword() => $"rotated-{Guid.NewGuid():N}";

        public Task ChangePasswordAsync(string password) => _management.PutUserAsync(Name, password, Ct);

        public async ValueTask DisposeAsync()
        {
            await _management.DeleteUserAsync(Name, CancellationToken.None);
            _management.Dispose();
        }
    }
}
