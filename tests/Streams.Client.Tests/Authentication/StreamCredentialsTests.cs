using Streams.Client.Authentication;

namespace Streams.Client.Tests.Authentication;

/// <summary>Issue 16 item 3: the credentials types validate their input and never show the secret.</summary>
public sealed class StreamCredentialsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Credentials_validate_their_arguments()
    {
        Assert.Throws<ArgumentNullException>(() => new StreamCredentials(null!, "p"));
        Assert.Throws<ArgumentException>(() => new StreamCredentials(string.Empty, "p"));
        Assert.Throws<ArgumentNullException>(() => new StreamCredentials("u", null!));
        Assert.Equal("userName", Assert.Throws<ArgumentException>(() => new StreamCredentials("u\0x", "p")).ParamName);
        Assert.Equal("password", Assert.Throws<ArgumentException>(() => new StreamCredentials("u", "p\0x")).ParamName);
        Assert.Equal(string.Empty, new StreamCredentials("u", string.Empty).Password);
    }

    [Fact]
    public void ToString_shows_the_user_but_never_the_secret()
    {
        var credentials = new StreamCredentials("orders-service", "s3cr3t-token");
        Assert.Contains("orders-service", credentials.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t-token", credentials.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t-token", StreamCredentialsProvider.Static("orders-service", "s3cr3t-token").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Factories_validate_their_arguments()
    {
        Assert.Throws<ArgumentNullException>(() => StreamCredentialsProvider.Create(null!));
        Assert.Throws<ArgumentException>(() => StreamCredentialsProvider.Static(string.Empty, "p"));
        Assert.Throws<ArgumentNullException>(() => new RotatingStreamCredentialsProvider(null!));
        Assert.Throws<ArgumentNullException>(() => new RotatingStreamCredentialsProvider(new StreamCredentials("u", "p")).Update(null!));
    }

    [Fact]
    public async Task The_rotating_provider_returns_the_latest_credentials_and_announces_each_update()
    {
        var provider = new RotatingStreamCredentialsProvider(new StreamCredentials("u", "one"));
        var changes = 0;
        provider.CredentialsChanged += (_, _) => changes++;
        Assert.Equal("one", (await provider.GetCredentialsAsync(Ct)).Password);

        provider.Update(new StreamCredentials("u", "two"));
        Assert.Equal("two", (await provider.GetCredentialsAsync(Ct)).Password);
        Assert.Equal(1, changes);
    }

    [Fact]
    public async Task The_resolver_turns_a_throwing_a_null_and_a_silent_provider_into_StreamCredentialsException()
    {
        var throwing = StreamCredentialsProvider.Create(_ => throw new InvalidOperationException("boom"));
        var ex = await Assert.ThrowsAsync<StreamCredentialsException>(() => CredentialsResolver.GetAsync(throwing, TimeSpan.FromSeconds(5), TimeProvider.System, Ct).AsTask());
        Assert.IsType<InvalidOperationException>(ex.InnerException);

        var asyncThrowing = StreamCredentialsProvider.Create(async _ =>
        {
            await Task.Yield();
            throw new TimeoutException("vault timed out");
        });
        Assert.IsType<TimeoutException>((await Assert.ThrowsAsync<StreamCredentialsException>(
            () => CredentialsResolver.GetAsync(asyncThrowing, TimeSpan.FromSeconds(5), TimeProvider.System, Ct).AsTask())).InnerException);

        var returningNull = StreamCredentialsProvider.Create(_ => ValueTask.FromResult<StreamCredentials>(null!));
        await Assert.ThrowsAsync<StreamCredentialsException>(() => CredentialsResolver.GetAsync(returningNull, TimeSpan.FromSeconds(5), TimeProvider.System, Ct).AsTask());

        // A provider that never answers (and ignores its token) is cut off by the deadline.
        var never = new TaskCompletionSource<StreamCredentials>();
        var silent = StreamCredentialsProvider.Create(_ => new ValueTask<StreamCredentials>(never.Task));
        var timedOut = await Assert.ThrowsAsync<StreamCredentialsException>(() => CredentialsResolver.GetAsync(silent, TimeSpan.FromMilliseconds(50), TimeProvider.System, Ct).AsTask());
        Assert.Contains("did not return credentials within", timedOut.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_the_caller_cancels_instead_of_reporting_a_provider_failure()
    {
        using var cts = new CancellationTokenSource();
        var waiting = StreamCredentialsProvider.Create(async token =>
        {
            await Task.Delay(Timeout.Infinite, token);
            return new StreamCredentials("u", "p");
        });
        var call = CredentialsResolver.GetAsync(waiting, TimeSpan.FromMinutes(1), TimeProvider.System, cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }
}
