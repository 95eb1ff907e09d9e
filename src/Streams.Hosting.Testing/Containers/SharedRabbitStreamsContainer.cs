namespace Streams.Hosting.Testing.Containers;

/// <summary>
/// The one broker of a test process: started by the first <see cref="RabbitStreamsFixture"/> that needs it, shared by
/// every fixture after it (class, collection and assembly fixtures alike), and removed when the process exits. A failed
/// start is remembered, so every later fixture fails at once with the same explanation instead of waiting again.
/// </summary>
internal static class SharedRabbitStreamsContainer
{
    private static readonly Lock Gate = new();
    private static Task<RabbitStreamsContainer>? _start;

    public static Task<RabbitStreamsContainer> AcquireAsync()
    {
        lock (Gate)
        {
            if (_start is null)
            {
                // Not the caller's token: the broker outlives the fixture that happened to start it.
                _start = RabbitStreamsContainer.StartNewAsync(new RabbitStreamsContainerOptions(), CancellationToken.None);
                AppDomain.CurrentDomain.ProcessExit += StopAtExit;
            }

            return _start;
        }
    }

    private static void StopAtExit(object? sender, EventArgs e)
    {
        Task<RabbitStreamsContainer>? start;
        lock (Gate)
        {
            start = _start;
        }

        if (start is not { IsCompletedSuccessfully: true })
        {
            return;
        }

        // ProcessExit is synchronous; the container is removed through the Docker API before the process ends.
        if (!start.Result.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(30)))
        {
            Console.Error.WriteLine($"Streams.Hosting.Testing: the RabbitMQ container {start.Result.ContainerId} was not removed within 30 s; remove it with `docker rm -f {start.Result.ContainerId}`.");
        }
    }
}
