namespace Streams.Hosting.Internal.Control;

/// <summary>
/// <see cref="IStreamConsumerControl"/>: finds the controllers of the hosted consumers by name (all partitions of a
/// super stream consumer share it) and applies each call to all of them. A consumer paused by name stays paused for
/// the subscriptions that start later under that name (partitions discovered after the pause).
/// </summary>
internal sealed class StreamConsumerControl : IStreamConsumerControl
{
    private readonly object _lock = new();
    private readonly List<ConsumerController> _controllers = [];
    private readonly HashSet<string> _paused = new(StringComparer.Ordinal);

    /// <summary>A worker was created: its controller, paused when its name was paused.</summary>
    public void Add(ConsumerController controller)
    {
        lock (_lock)
        {
            _controllers.Add(controller);
            if (controller.Name is { } name && _paused.Contains(name))
            {
                controller.Gate.Pause();
            }
        }
    }

    /// <summary>A worker was disposed.</summary>
    public void Remove(ConsumerController controller)
    {
        lock (_lock)
        {
            _controllers.Remove(controller);
        }
    }

    public Task PauseAsync(string consumer, CancellationToken cancellationToken = default)
    {
        var controllers = Find(consumer, paused: true);
        return Task.WhenAll(controllers.Select(c => c.PauseAsync(cancellationToken)));
    }

    public Task ResumeAsync(string consumer, CancellationToken cancellationToken = default)
    {
        foreach (var controller in Find(consumer, paused: false))
        {
            controller.Resume();
        }

        return Task.CompletedTask;
    }

    public Task RewindAsync(string consumer, StreamRewindTarget target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        var controllers = Find(consumer, paused: null);
        return Task.WhenAll(controllers.Select(c => c.RewindAsync(target, cancellationToken)));
    }

    public Task PauseAllAsync(CancellationToken cancellationToken = default)
    {
        var controllers = All(paused: true);
        return Task.WhenAll(controllers.Select(c => c.PauseAsync(cancellationToken)));
    }

    public Task ResumeAllAsync(CancellationToken cancellationToken = default)
    {
        foreach (var controller in All(paused: false))
        {
            controller.Resume();
        }

        return Task.CompletedTask;
    }

    /// <summary>The controllers of <paramref name="consumer"/>; records the pause intent of the name.</summary>
    private ConsumerController[] Find(string consumer, bool? paused)
    {
        ArgumentException.ThrowIfNullOrEmpty(consumer);
        lock (_lock)
        {
            var found = _controllers.Where(c => string.Equals(c.Name, consumer, StringComparison.Ordinal)).ToArray();
            if (found.Length == 0)
            {
                var known = _controllers.Select(c => c.Name).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
                throw new StreamConsumerNotFoundException(consumer, known);
            }

            Remember(consumer, paused);
            return found;
        }
    }

    private ConsumerController[] All(bool paused)
    {
        lock (_lock)
        {
            var named = _controllers.Where(c => c.Name is not null).ToArray();
            foreach (var name in named.Select(c => c.Name!).Distinct(StringComparer.Ordinal))
            {
                Remember(name, paused);
            }

            return named;
        }
    }

    private void Remember(string name, bool? paused)
    {
        if (paused == true)
        {
            _paused.Add(name);
        }
        else if (paused == false)
        {
            _paused.Remove(name);
        }
    }
}
