using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streams.Client;

namespace Streams.Hosting.Internal;

/// <summary>
/// The application's <see cref="StreamSystem"/>: connected on first use (a failed connect is retried by the next
/// caller). The system reopens its management connection on demand; producers and consumers have their own.
/// </summary>
internal sealed class StreamSystemProvider : IAsyncDisposable
{
    private readonly IOptions<RabbitStreamsOptions> _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string? _applicationName;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private StreamSystem? _system;
    private bool _disposed;
    private readonly ICompressionCodec[] _codecs;

    public StreamSystemProvider(IOptions<RabbitStreamsOptions> options, ILoggerFactory loggerFactory, TimeProvider time, IHostEnvironment? environment = null, IEnumerable<ICompressionCodec>? codecs = null)
    {
        _codecs = codecs?.ToArray() ?? [];
        _applicationName = environment?.ApplicationName;
        _options = options;
        _loggerFactory = loggerFactory;
        _time = time;
        _logger = loggerFactory.CreateLogger("Streams.Hosting.Connection");
    }

    public async ValueTask<StreamSystem> GetAsync(CancellationToken cancellationToken)
    {
        var system = Volatile.Read(ref _system);
        if (system is not null)
        {
            return system;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_system is not null)
            {
                return _system;
            }

            var options = _options.Value;
            Log.Connecting(_logger, options);
            var clientOptions = options.ToStreamSystemOptions();
            clientOptions.LoggerFactory = _loggerFactory;
            clientOptions.TimeProvider = _time;
            clientOptions.ConnectionName ??= _applicationName;
            foreach (var codec in _codecs)
            {
                clientOptions.AddCompressionCodec(codec);
            }

            var connected = await StreamSystem.ConnectAsync(clientOptions, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _system, connected);
            return connected;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            if (_system is not null)
            {
                await _system.DisposeAsync().ConfigureAwait(false);
                _system = null;
            }
        }
        finally
        {
            _gate.Release();
        }
    }
}
