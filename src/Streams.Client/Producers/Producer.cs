using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streams.Client.Amqp;
using Streams.Client.Connections;
using Streams.Client.Producers;
using Streams.Client.Recovery;

namespace Streams.Client;

/// <summary>
/// Publishes messages to one stream. Messages from concurrent senders are packed into shared Publish frames;
/// at most <see cref="ProducerOptions.MaxUnconfirmed"/> messages await confirmation at a time (senders wait
/// asynchronously for room). Thread-safe.
/// </summary>
public sealed class Producer : IAsyncDisposable
{
    private const int DefaultFrameCapacity = 64 * 1024;
    private const int MinFrameCapacity = 1024;
    private const int Open = 0;
    private const int Draining = 1;
    private const int Closed = 2;

    private readonly IStreamConnector? _connector;
    private readonly RecoveryPolicy _recovery;
    private readonly RecoveryStreak _streak = new();
    private readonly bool _recoveryEnabled;
    private readonly bool _resend;
    private readonly StatusTracker _status;
    private readonly CancellationTokenSource _recoveryCts = new();
    private readonly Queue<PublishFrame> _written = new();
    private readonly ProducerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly PublishWindow _window;
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly Queue<PublishFrame> _sealed = new();
    private readonly Stack<PublishFrame> _framePool = new();
    private readonly PooledBufferWriter _subEntryScratch = new();
    private readonly ushort _version;
    private readonly int _frameMax;
    private readonly int _framePoolLimit;
    private readonly Func<Message, string?>? _filterValue;
    private readonly int _entriesPerFrame;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CompressionCodecRegistry _codecs = CompressionCodecRegistry.BuiltIn;

    // ProducerOptions.SubEntrySize > 1: the open sub-entry batch (null = one entry per message).
    private SubEntryBatcher? _batcher;

    // In-flight messages in send order (ring buffer); entries complete out of order, slots free from the head.
    private Entry[] _ring;
    private int _head;
    private int _count;
    private bool _monotonic = true;
    private ulong _lastAppendedId;
    private bool _anyAppended;
    private ulong _nextId;

    private PublishFrame? _current;
    private int _signaled;
    private long _framesWritten;
    private int _state;
    private int _disposed;
    private ResponseCode _closeCode = ResponseCode.Ok;
    private string? _closeReason;
    private byte _publisherId;
    private IStreamOperations _ops;

    // Recovery: the connection generation (bumped on each loss), whether frames may be written, the resumption the
    // write loop applies next, the sequence numbers of the first ring entry and of the last message handed to a write.
    private int _generation;
    private bool _connected = true;
    private Resumption? _resume;
    private long _headSeq;
    private long _writtenSeq = -1;
    private Task _recoveryTask = Task.CompletedTask;
    private Task _writer = Task.CompletedTask;
    private ITimer? _timeoutTimer;
    private (object Completion, ulong Id)[] _confirmScratch = new (object, ulong)[64];

    private Producer(IStreamOperations ops, IStreamConnector? connector, ProducerOptions options, ILogger logger)
    {
        _ops = ops;
        _connector = connector;
        _options = options;
        _logger = logger;
        _time = options.TimeProvider;
        _recovery = options.Recovery;
        _recoveryEnabled = connector is not null && options.Recovery.Enabled;
        _resend = _recoveryEnabled && options.Name is not null;
        _status = new StatusTracker("Producer", options.Stream, logger);
        _window = new PublishWindow(options.MaxUnconfirmed, Math.Max(1, Math.Min(options.BatchSize, options.MaxUnconfirmed / 4)));
        _ring = new Entry[(int)Math.Max(16, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)options.MaxUnconfirmed))];
        _filterValue = options.FilterValue;
        _version = _filterValue is null ? (ushort)1 : (ushort)2;
        _frameMax = ops.FrameMax <= 0 ? int.MaxValue : ops.FrameMax;
        // Every frame that can exist at once (the window bounds the messages not yet written), so frames are reused
        // instead of reallocated when the socket is slower than the senders.
        _framePoolLimit = Math.Clamp((options.MaxUnconfirmed / options.BatchSize) + 2, 4, 1024);
        // Entries per frame: messages, or with sub-entry batches as many batches as hold BatchSize messages.
        _entriesPerFrame = Math.Max(1, (options.BatchSize + options.SubEntrySize - 1) / options.SubEntrySize);
    }

    /// <summary>The stream this producer publishes to.</summary>
    public string Stream => _options.Stream;

    /// <summary>The publisher reference (deduplication name), if any.</summary>
    public string? Name => _options.Name;

    /// <summary>The number of messages awaiting confirmation.</summary>
    public int UnconfirmedCount
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>The publishing id the next message without an explicit id will get.</summary>
    public ulong NextPublishingId
    {
        get
        {
            lock (_lock)
            {
                return _nextId;
            }
        }
    }

    /// <summary>Whether the producer still accepts messages (also while it recovers).</summary>
    public bool IsOpen => Volatile.Read(ref _state) == Open;

    /// <summary>The current status: connected, reconnecting, recovered, failed or closed.</summary>
    public StreamStatus Status => _status.Status;

    /// <summary>
    /// Raised on every status change (connection lost, each reconnection attempt, recovered, failed, closed). Runs on
    /// the thread that observed the change: keep handlers short; exceptions are logged and ignored.
    /// </summary>
    public event EventHandler<StreamStatusChangedEventArgs>? StatusChanged;

    internal byte PublisherId => _publisherId;

    /// <summary>Publish frames written so far (diagnostics).</summary>
    internal long FramesWritten => Interlocked.Read(ref _framesWritten);

    internal static Task<Producer> CreateAsync(IStreamOperations ops, ProducerOptions options, ILogger? logger, CancellationToken cancellationToken) =>
        CreateAsync(ops, null, options, logger, cancellationToken);

    /// <summary>Declares a producer on <paramref name="ops"/>; with a <paramref name="connector"/> it can recover.</summary>
    internal static Task<Producer> CreateAsync(IStreamOperations ops, IStreamConnector? connector, ProducerOptions options, ILogger? logger, CancellationToken cancellationToken) =>
        CreateAsync(ops, connector, options, CompressionCodecRegistry.BuiltIn, logger, cancellationToken);

    /// <summary>Declares a producer on <paramref name="ops"/> that compresses sub-entry batches with <paramref name="codecs"/>.</summary>
    internal static async Task<Producer> CreateAsync(IStreamOperations ops, IStreamConnector? connector, ProducerOptions options, CompressionCodecRegistry codecs, ILogger? logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(codecs);
        ArgumentNullException.ThrowIfNull(ops);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.FilterValue is not null && !ops.PublishV2)
        {
            throw new NotSupportedException("Filter values need Publish v2 (RabbitMQ 3.13+), which this broker does not offer.");
        }

        var producer = new Producer(ops, connector, options, logger ?? NullLogger.Instance) { _codecs = codecs };
        if (options.SubEntrySize > 1)
        {
            // Fails before declaring anything when the codec is not registered (the message names the package).
            producer._batcher = new SubEntryBatcher(options.SubEntrySize, codecs.Get(options.Compression), producer._frameMax);
        }

        producer._publisherId = ops.RegisterPublisher(options.Stream, new Binding(producer, 0));
        try
        {
            await ops.DeclarePublisherAsync(producer._publisherId, options.Name, options.Stream, cancellationToken).ConfigureAwait(false);
            if (options.Name is not null)
            {
                ulong last = await ops.QueryPublisherSequenceAsync(options.Name, options.Stream, cancellationToken).ConfigureAwait(false);
                producer._nextId = last + 1;
            }
        }
        catch
        {
            ops.UnregisterPublisher(producer._publisherId);
            throw;
        }

        producer._writer = Task.Run(producer.WriteLoopAsync, CancellationToken.None);
        if (options.ConfirmTimeout != Timeout.InfiniteTimeSpan)
        {
            var period = TimeSpan.FromTicks(Math.Clamp(options.ConfirmTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
            producer._timeoutTimer = producer._time.CreateTimer(static s => ((Producer)s!).OnTimeoutTick(), producer, period, period);
        }

        ProducerLog.Declared(producer._logger, producer._publisherId, options.Stream, options.Name, producer._nextId);
        return producer;
    }

    /// <summary>Publishes <paramref name="body"/> and completes when the broker confirms it.</summary>
    /// <param name="body">The message bytes (normally an AMQP 1.0 encoded message); copied before this method returns or yields.</param>
    /// <param name="cancellationToken">Stops waiting (for room or for the confirmation); the message may still be published.</param>
    /// <exception cref="PublishException">The broker rejected the message.</exception>
    /// <exception cref="ConfirmationTimeoutException">No confirmation arrived within <see cref="ProducerOptions.ConfirmTimeout"/>.</exception>
    /// <exception cref="FrameTooLargeException">The message does not fit in a frame; nothing was sent.</exception>
    /// <exception cref="ProducerClosedException">The producer closed before the confirmation.</exception>
    public Task SendAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default) =>
        SendCoreAsync(null, Prepare(body), cancellationToken);

    /// <summary>Publishes <paramref name="message"/> (AMQP 1.0 encoded) and completes when the broker confirms it.</summary>
    /// <param name="message">The message; encoded before this method returns or yields.</param>
    /// <param name="cancellationToken">Stops waiting (for room or for the confirmation); the message may still be published.</param>
    /// <exception cref="PublishException">The broker rejected the message.</exception>
    /// <exception cref="ConfirmationTimeoutException">No confirmation arrived within <see cref="ProducerOptions.ConfirmTimeout"/>.</exception>
    /// <exception cref="FrameTooLargeException">The message does not fit in a frame; nothing was sent.</exception>
    /// <exception cref="ProducerClosedException">The producer closed before the confirmation.</exception>
    public Task SendAsync(Message message, CancellationToken cancellationToken = default) =>
        SendCoreAsync(null, Prepare(message), cancellationToken);

    /// <summary>Publishes <paramref name="message"/> with an explicit publishing id and completes when the broker confirms it.</summary>
    /// <param name="publishingId">The publishing id (must increase per <see cref="ProducerOptions.Name"/> for deduplication).</param>
    /// <param name="message">The message; encoded before this method returns or yields.</param>
    /// <param name="cancellationToken">Stops waiting; the message may still be published.</param>
    public Task SendAsync(ulong publishingId, Message message, CancellationToken cancellationToken = default) =>
        SendCoreAsync(publishingId, Prepare(message), cancellationToken);

    /// <summary>
    /// Publishes <paramref name="body"/> with an explicit publishing id (for deduplication: ids must increase per
    /// <see cref="ProducerOptions.Name"/>) and completes when the broker confirms it.
    /// </summary>
    /// <param name="publishingId">The publishing id.</param>
    /// <param name="body">The message bytes; copied before this method returns or yields.</param>
    /// <param name="cancellationToken">Stops waiting; the message may still be published.</param>
    public Task SendAsync(ulong publishingId, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default) =>
        SendCoreAsync(publishingId, Prepare(body), cancellationToken);

    /// <summary>
    /// Buffered publish: appends <paramref name="body"/> to the frame being filled and returns; <paramref name="onConfirm"/>
    /// runs when the outcome is known (on the read loop of the connection, which other producers of the system may share: keep it short and never block in it). The returned task completes at once
    /// unless <see cref="ProducerOptions.MaxUnconfirmed"/> messages are in flight, in which case it completes when there
    /// is room. Allocation-free on the fast path.
    /// </summary>
    /// <param name="body">The message bytes; copied before this method returns or yields.</param>
    /// <param name="onConfirm">Called once with the outcome.</param>
    /// <param name="cancellationToken">Stops waiting for room (the message is then not sent).</param>
    /// <exception cref="FrameTooLargeException">The message does not fit in a frame; nothing was sent.</exception>
    /// <exception cref="ProducerClosedException">The producer is closed.</exception>
    public ValueTask Send(ReadOnlyMemory<byte> body, Action<Confirmation> onConfirm, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onConfirm);
        return EnqueueAsync(null, Prepare(body), onConfirm, cancellationToken);
    }

    /// <summary>Buffered publish of an AMQP 1.0 message; see <see cref="Send(ReadOnlyMemory{byte}, Action{Confirmation}, CancellationToken)"/>.</summary>
    /// <param name="message">The message; encoded before this method returns or yields.</param>
    /// <param name="onConfirm">Called once with the outcome.</param>
    /// <param name="cancellationToken">Stops waiting for room (the message is then not sent).</param>
    public ValueTask Send(Message message, Action<Confirmation> onConfirm, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onConfirm);
        return EnqueueAsync(null, Prepare(message), onConfirm, cancellationToken);
    }

    /// <summary>Buffered publish with an explicit publishing id; see <see cref="Send(ReadOnlyMemory{byte}, Action{Confirmation}, CancellationToken)"/>.</summary>
    /// <param name="publishingId">The publishing id.</param>
    /// <param name="body">The message bytes; copied before this method returns or yields.</param>
    /// <param name="onConfirm">Called once with the outcome.</param>
    /// <param name="cancellationToken">Stops waiting for room (the message is then not sent).</param>
    public ValueTask Send(ulong publishingId, ReadOnlyMemory<byte> body, Action<Confirmation> onConfirm, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onConfirm);
        return EnqueueAsync(publishingId, Prepare(body), onConfirm, cancellationToken);
    }

    /// <summary>Buffered publish of an AMQP 1.0 message with an explicit publishing id.</summary>
    /// <param name="publishingId">The publishing id.</param>
    /// <param name="message">The message; encoded before this method returns or yields.</param>
    /// <param name="onConfirm">Called once with the outcome.</param>
    /// <param name="cancellationToken">Stops waiting for room (the message is then not sent).</param>
    public ValueTask Send(ulong publishingId, Message message, Action<Confirmation> onConfirm, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onConfirm);
        return EnqueueAsync(publishingId, Prepare(message), onConfirm, cancellationToken);
    }

    /// <summary>
    /// Publishes a caller-made batch (consecutive publishing ids, packed into as few frames as possible) and completes
    /// when every message is confirmed; fails with the first failure.
    /// </summary>
    /// <param name="bodies">The messages; copied before this method returns or yields.</param>
    /// <param name="cancellationToken">Stops waiting; messages already handed over may still be published.</param>
    public Task SendBatchAsync(IReadOnlyList<ReadOnlyMemory<byte>> bodies, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bodies);
        var prepared = new Outgoing[bodies.Count];
        for (int i = 0; i < prepared.Length; i++)
        {
            prepared[i] = Prepare(bodies[i]);
        }

        return SendBatchCoreAsync(prepared, cancellationToken);
    }

    /// <summary>Publishes a caller-made batch of AMQP 1.0 messages; see <see cref="SendBatchAsync(IReadOnlyList{ReadOnlyMemory{byte}}, CancellationToken)"/>.</summary>
    /// <param name="messages">The messages; encoded before this method returns or yields.</param>
    /// <param name="cancellationToken">Stops waiting; messages already handed over may still be published.</param>
    public Task SendBatchAsync(IReadOnlyList<Message> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var prepared = new Outgoing[messages.Count];
        for (int i = 0; i < prepared.Length; i++)
        {
            prepared[i] = Prepare(messages[i] ?? throw new ArgumentException("The batch contains a null message.", nameof(messages)));
        }

        return SendBatchCoreAsync(prepared, cancellationToken);
    }

    private async Task SendBatchCoreAsync(Outgoing[] bodies, CancellationToken cancellationToken)
    {
        if (bodies.Length == 0)
        {
            return;
        }

        ThrowIfClosed();
        var pending = new PendingCompletion(bodies.Length, _options.ConfirmTimeout);
        int index = 0;
        while (index < bodies.Length)
        {
            // Take what room there is at once (one lock, shared frames); wait only when there is none, with the
            // messages taken so far already in flight, so concurrent batches can never hold the window hostage.
            int take = 0;
            while (index + take < bodies.Length && _window.TryTake())
            {
                take++;
            }

            if (take == 0)
            {
                await _window.TakeAsync(cancellationToken).ConfigureAwait(false);
                take = 1;
            }

            long now = _time.GetTimestamp();
            lock (_lock)
            {
                if (_state != Open)
                {
                    _window.Release(take);
                    throw ClosedException();
                }

                for (int i = index; i < index + take; i++)
                {
                    AppendLocked(null, bodies[i], pending, now);
                }
            }

            Signal();
            index += take;
        }

        await pending.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes <paramref name="bodies"/> as one sub-entry batch (one publishing id, one entry of the stream's chunk,
    /// optionally compressed) and completes when the broker confirms it. Consumers see the individual messages.
    /// Sub-entry batches cannot carry filter values.
    /// </summary>
    /// <param name="bodies">The messages (1 to 65,535).</param>
    /// <param name="compression">The compression; codecs other than none and gzip must be registered on <see cref="StreamSystemOptions.CompressionCodecs"/>.</param>
    /// <param name="cancellationToken">Stops waiting; the batch may still be published.</param>
    /// <exception cref="UnsupportedCompressionException">No codec is registered for <paramref name="compression"/>.</exception>
    public Task SendSubEntryAsync(IReadOnlyList<ReadOnlyMemory<byte>> bodies, CompressionType compression, CancellationToken cancellationToken = default) =>
        SendSubEntryCoreAsync(null, bodies, compression, cancellationToken);

    /// <summary>Publishes AMQP 1.0 messages as one sub-entry batch; see <see cref="SendSubEntryAsync(IReadOnlyList{ReadOnlyMemory{byte}}, CompressionType, CancellationToken)"/>.</summary>
    /// <param name="messages">The messages (1 to 65,535).</param>
    /// <param name="compression">The compression.</param>
    /// <param name="cancellationToken">Stops waiting; the batch may still be published.</param>
    public Task SendSubEntryAsync(IReadOnlyList<Message> messages, CompressionType compression, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var encoded = new ReadOnlyMemory<byte>[messages.Count];
        for (int i = 0; i < encoded.Length; i++)
        {
            var message = messages[i] ?? throw new ArgumentException("The batch contains a null message.", nameof(messages));
            var bytes = new byte[AmqpMessageCodec.GetSize(message)];
            AmqpMessageCodec.Encode(message, bytes);
            encoded[i] = bytes;
        }

        return SendSubEntryCoreAsync(null, encoded, compression, cancellationToken);
    }

    /// <summary>Publishes a sub-entry batch with an explicit publishing id; see <see cref="SendSubEntryAsync(IReadOnlyList{ReadOnlyMemory{byte}}, CompressionType, CancellationToken)"/>.</summary>
    /// <param name="publishingId">The publishing id of the whole batch.</param>
    /// <param name="bodies">The messages (1 to 65,535).</param>
    /// <param name="compression">The compression.</param>
    /// <param name="cancellationToken">Stops waiting; the batch may still be published.</param>
    public Task SendSubEntryAsync(ulong publishingId, IReadOnlyList<ReadOnlyMemory<byte>> bodies, CompressionType compression, CancellationToken cancellationToken = default) =>
        SendSubEntryCoreAsync(publishingId, bodies, compression, cancellationToken);

    /// <summary>The last publishing id the broker stored for <see cref="ProducerOptions.Name"/> (0 when none).</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <exception cref="InvalidOperationException">The producer has no name.</exception>
    public Task<ulong> GetLastPublishingIdAsync(CancellationToken cancellationToken = default)
    {
        if (_options.Name is null)
        {
            throw new InvalidOperationException("GetLastPublishingIdAsync needs a named producer (ProducerOptions.Name).");
        }

        return Volatile.Read(ref _ops).QueryPublisherSequenceAsync(_options.Name, _options.Stream, cancellationToken);
    }

    /// <summary>
    /// Stops accepting messages, flushes the buffered ones and waits up to <see cref="ProducerOptions.DrainTimeout"/>
    /// for their confirmations; what is still unconfirmed then fails with <see cref="ConfirmationStatus.ProducerClosed"/>.
    /// Then deletes the publisher.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        bool wait;
        lock (_lock)
        {
            if (_state == Open)
            {
                _state = Draining;
                _closeReason = "the producer was disposed";
            }

            wait = _state == Draining && _count > 0;
            if (_count == 0)
            {
                _drained.TrySetResult();
            }
        }

        Signal();
        if (wait && _options.DrainTimeout != TimeSpan.Zero)
        {
            try
            {
                await _drained.Task.WaitAsync(_options.DrainTimeout, _time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // What is left fails below.
            }
        }

        await _recoveryCts.CancelAsync().ConfigureAwait(false);
        try
        {
            await _recoveryTask.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ProducerLog.WriteFailed(_logger, Stream, ex);
        }

        bool wasClosed = Volatile.Read(ref _state) == Closed;
        FailAll(ResponseCode.Ok, "the producer was disposed");
        _signal.Writer.TryComplete();
        try
        {
            await _writer.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ProducerLog.WriteFailed(_logger, Stream, ex);
        }

        if (_timeoutTimer is not null)
        {
            await _timeoutTimer.DisposeAsync().ConfigureAwait(false);
        }

        IStreamOperations ops;
        byte publisherId;
        bool connected;
        lock (_lock)
        {
            ops = _resume?.Ops ?? _ops;
            publisherId = _resume?.PublisherId ?? _publisherId;
            connected = _connected || _resume is not null;
            _resume = null;
        }

        if (!wasClosed && connected)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10), _time);
                await ops.DeletePublisherAsync(publisherId, cts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                ProducerLog.DeleteFailed(_logger, publisherId, Stream, ex);
            }
        }

        ops.UnregisterPublisher(publisherId);
        lock (_lock)
        {
            _current?.Dispose();
            _current = null;
            while (_sealed.TryDequeue(out var f))
            {
                f.Dispose();
            }

            while (_framePool.TryPop(out var f))
            {
                f.Dispose();
            }

            _subEntryScratch.Dispose();
            _batcher?.Dispose();
        }

        await ops.ReleaseAsync().ConfigureAwait(false);
        _recoveryCts.Dispose();
        _status.Raise(this, StatusChanged, _status.Change(StreamStatus.Closed, "disposed"));
    }

    private void OnConfirm(ReadOnlySpan<byte> publishingIds, int count)
    {
        if (_batcher is not null)
        {
            OnBatchOutcome(publishingIds, count, ConfirmationStatus.Confirmed, ResponseCode.Ok);
            return;
        }

        if (_confirmScratch.Length < count)
        {
            _confirmScratch = new (object, ulong)[Math.Max(count, _confirmScratch.Length * 2)];
        }

        var scratch = _confirmScratch;
        int n = 0;
        int freed;
        lock (_lock)
        {
            for (int i = 0; i < count; i++)
            {
                ulong id = BinaryPrimitives.ReadUInt64BigEndian(publishingIds[(i * 8)..]);
                if (TryCompleteLocked(id, out var completion))
                {
                    scratch[n++] = (completion, id);
                }
            }

            freed = AdvanceHeadLocked();
        }

        if (freed > 0)
        {
            _window.Release(freed);
        }

        for (int i = 0; i < n; i++)
        {
            Dispatch(scratch[i].Completion, new Confirmation(scratch[i].Id, ConfirmationStatus.Confirmed, ResponseCode.Ok));
            scratch[i] = default;
        }
    }

    private void OnError(ulong publishingId, ResponseCode code)
    {
        if (_batcher is not null)
        {
            Span<byte> id = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(id, publishingId);
            OnBatchOutcome(id, 1, ConfirmationStatus.Rejected, code);
            return;
        }

        object? completion;
        int freed;
        lock (_lock)
        {
            if (!TryCompleteLocked(publishingId, out completion))
            {
                completion = null;
            }

            freed = AdvanceHeadLocked();
        }

        if (freed > 0)
        {
            _window.Release(freed);
        }

        if (completion is not null)
        {
            Dispatch(completion, new Confirmation(publishingId, ConfirmationStatus.Rejected, code));
        }
    }

    /// <summary>
    /// The connection of <paramref name="generation"/> was lost (or the broker dropped the publisher after a
    /// MetadataUpdate). Without recovery the producer closes. With recovery it stops writing, fails what an unnamed
    /// producer already wrote (its fate is unknown), and starts one recovery for this generation.
    /// </summary>
    private void OnConnectionLost(int generation, ResponseCode code, string reason, bool connectionClosed)
    {
        if (!_recoveryEnabled)
        {
            FailAll(code, reason);
            if (connectionClosed)
            {
                _signal.Writer.TryComplete();
            }

            _status.Raise(this, StatusChanged, _status.Change(StreamStatus.Failed, reason));
            return;
        }

        IStreamOperations old;
        byte oldId;
        int next;
        int freed = 0;
        List<(object Completion, ulong Id)>? failed = null;
        lock (_lock)
        {
            if (generation != _generation || _state == Closed)
            {
                return;
            }

            next = ++_generation;
            _connected = false;
            if (_resume is { } pending)
            {
                old = pending.Ops;
                oldId = pending.PublisherId;
                _resume = null;
            }
            else
            {
                old = _ops;
                oldId = _publisherId;
            }

            if (!_resend)
            {
                int mask = _ring.Length - 1;
                long written = _writtenSeq - _headSeq;
                for (int i = 0; i < _count && i <= written; i++)
                {
                    ref var entry = ref _ring[(_head + i) & mask];
                    if (!entry.Done)
                    {
                        (failed ??= []).Add((entry.Completion!, entry.Id));
                        entry.Completion = null;
                        entry.Done = true;
                    }
                }

                freed = AdvanceHeadLocked();
            }
        }

        old.UnregisterPublisher(oldId);
        if (freed > 0)
        {
            _window.Release(freed);
        }

        if (failed is not null)
        {
            ProducerLog.FailedUnconfirmed(_logger, Stream, failed.Count);
            foreach (var (completion, id) in failed)
            {
                Dispatch(completion, new Confirmation(id, ConfirmationStatus.ConnectionLost, code));
            }
        }

        _status.Raise(this, StatusChanged, _status.Change(StreamStatus.Reconnecting, reason));
        _recoveryTask = Task.Run(() => RecoverAsync(old, next, reason), CancellationToken.None);
    }

    private async Task RecoverAsync(IStreamOperations old, int generation, string reason)
    {
        try
        {
            await old.ReleaseAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ProducerLog.WriteFailed(_logger, Stream, ex);
        }

        try
        {
            var resume = await Reconnector.RunAsync(
                _recovery,
                _recovery.TimeProvider ?? _time,
                Stream,
                _logger,
                attempt => _status.Raise(this, StatusChanged, _status.Change(StreamStatus.Reconnecting, reason, null, attempt)),
                (_, ct) => ReconnectAsync(generation, ct),
                _recoveryCts.Token,
                _streak,
                new StreamConnectionClosedException($"The producer on stream {Stream} lost its connection: {reason}.")).ConfigureAwait(false);
            bool stale;
            lock (_lock)
            {
                stale = generation != _generation || _state == Closed;
                if (!stale)
                {
                    _resume = resume;
                }
            }

            if (stale)
            {
                resume.Ops.UnregisterPublisher(resume.PublisherId);
                await resume.Ops.ReleaseAsync().ConfigureAwait(false);
                return;
            }

            Signal();
            _status.Raise(this, StatusChanged, _status.Change(StreamStatus.Recovered, $"re-declared after: {reason}"));
        }
        catch (OperationCanceledException) when (_recoveryCts.IsCancellationRequested)
        {
            // Disposed while recovering.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            bool deleted = ex is StreamDoesNotExistException;
            Exception error = deleted ? new StreamDeletedException(Stream) : ex;
            FailAll(
                deleted ? ResponseCode.StreamDoesNotExist : ResponseCode.StreamNotAvailable,
                deleted ? $"the stream {Stream} was deleted" : $"recovery failed: {ex.Message}",
                deleted ? ConfirmationStatus.StreamDeleted : ConfirmationStatus.ProducerClosed);
            _signal.Writer.TryComplete();
            _status.Raise(this, StatusChanged, _status.Change(StreamStatus.Failed, error.Message, error));
        }
    }

    private async Task<Resumption> ReconnectAsync(int generation, CancellationToken cancellationToken)
    {
        var ops = await _connector!.ConnectAsync(Stream, preferReplica: false, cancellationToken).ConfigureAwait(false);
        byte id = 0;
        bool registered = false;
        try
        {
            id = ops.RegisterPublisher(Stream, new Binding(this, generation));
            registered = true;
            await ops.DeclarePublisherAsync(id, _options.Name, Stream, cancellationToken).ConfigureAwait(false);
            ulong last = _options.Name is { } name
                ? await ops.QueryPublisherSequenceAsync(name, Stream, cancellationToken).ConfigureAwait(false)
                : 0;
            return new Resumption(ops, id, last);
        }
        catch
        {
            if (registered)
            {
                ops.UnregisterPublisher(id);
            }

            await ops.ReleaseAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static int FilterByteCount(string? filter) => filter is null ? -1 : Encoding.UTF8.GetByteCount(filter);

    private async Task SendCoreAsync(ulong? publishingId, Outgoing body, CancellationToken cancellationToken)
    {
        var pending = new PendingCompletion(1, _options.ConfirmTimeout);
        await EnqueueAsync(publishingId, body, pending, cancellationToken).ConfigureAwait(false);
        await pending.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private ValueTask EnqueueAsync(ulong? publishingId, in Outgoing body, object completion, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        if (_window.TryTake())
        {
            Append(publishingId, body, completion);
            return default;
        }

        return EnqueueSlowAsync(publishingId, body, completion, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask EnqueueSlowAsync(ulong? publishingId, Outgoing body, object completion, CancellationToken cancellationToken)
    {
        await _window.TakeAsync(cancellationToken).ConfigureAwait(false);
        Append(publishingId, body, completion);
    }

    private void Append(ulong? publishingId, in Outgoing body, object completion)
    {
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            if (_state != Open)
            {
                _window.Release(1);
                throw ClosedException();
            }

            AppendLocked(publishingId, body, completion, now);
        }

        Signal();
    }

    private void AppendLocked(ulong? publishingId, in Outgoing body, object completion, long now)
    {
        if (_batcher is { } batcher)
        {
            AppendToBatchLocked(batcher, publishingId, body, completion, now);
            return;
        }

        ulong id = publishingId ?? _nextId;
        int needed = (_version == 1 ? PublishFrame.V1MessageOverhead : PublishFrame.V2MessageOverhead(body.FilterBytes)) + body.Length;
        var frame = CurrentFrameLocked(needed);
        var destination = _version == 1
            ? frame.AppendV1(id, body.Length)
            : frame.AppendV2(id, body.Filter, body.FilterBytes, body.Length);
        body.WriteTo(destination);

        AddEntryLocked(id, completion, now);
        frame.LastSequence = _headSeq + _count - 1;
        if (frame.Count >= _options.BatchSize)
        {
            SealCurrentLocked();
        }
    }

    private async Task SendSubEntryCoreAsync(ulong? publishingId, IReadOnlyList<ReadOnlyMemory<byte>> bodies, CompressionType compression, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bodies);
        if (bodies.Count is 0 or > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(bodies), bodies.Count, "A sub-entry batch holds 1 to 65,535 messages.");
        }

        var codec = _codecs.Get(compression);
        ThrowIfClosed();

        // Encode (and compress) outside the lock, with a placeholder id patched in below; reuse a pooled frame.
        PublishFrame? pooled;
        lock (_lock)
        {
            _framePool.TryPop(out pooled);
        }

        var frame = pooled ?? new PublishFrame(DefaultFrameCapacity);
        try
        {
            lock (_subEntryScratch)
            {
                frame.Reset(_publisherId, 1, DefaultFrameCapacity);
                frame.AppendSubEntry(0, bodies, codec, _subEntryScratch);
            }

            if (frame.Length > _frameMax)
            {
                throw new FrameTooLargeException(frame.Length, _frameMax);
            }
        }
        catch
        {
            frame.Dispose();
            throw;
        }

        var pending = new PendingCompletion(1, _options.ConfirmTimeout);
        try
        {
            if (!_window.TryTake())
            {
                await _window.TakeAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            frame.Dispose();
            throw;
        }

        long now = _time.GetTimestamp();
        lock (_lock)
        {
            if (_state != Open)
            {
                _window.Release(1);
                frame.Dispose();
                throw ClosedException();
            }

            ulong id = publishingId ?? _nextId;
            frame.PatchFirstPublishingId(id);
            frame.PatchPublisherId(_publisherId);
            CloseBatchLocked();
            SealCurrentLocked();
            _sealed.Enqueue(frame);
            AddEntryLocked(id, pending, now);
            frame.LastSequence = _headSeq + _count - 1;
        }

        Signal();
        await pending.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private Outgoing Prepare(ReadOnlyMemory<byte> body)
    {
        CheckFrameSize(body.Length, -1);
        return new Outgoing(body, null, body.Length, null, -1);
    }

    private Outgoing Prepare(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        string? filter = _filterValue?.Invoke(message);
        int filterBytes = FilterByteCount(filter);
        if (filterBytes > short.MaxValue)
        {
            throw new ArgumentException("A filter value is limited to 32,767 UTF-8 bytes.", nameof(message));
        }

        int length = AmqpMessageCodec.GetSize(message);
        CheckFrameSize(length, filterBytes);
        return new Outgoing(default, message, length, filter, filterBytes);
    }

    private void CheckFrameSize(int length, int filterBytes)
    {
        if (_batcher is { } batcher)
        {
            if (!batcher.FitsAlone(length))
            {
                long needed = PublishFrame.HeaderSize + PublishFrame.SubEntryOverhead + SubEntryBatcher.RecordOverhead + (long)length + (_frameMax - PublishFrame.HeaderSize - PublishFrame.SubEntryOverhead - batcher.MaxRecordsLength);
                throw new FrameTooLargeException((int)Math.Min(needed, int.MaxValue), _frameMax);
            }

            return;
        }

        long size = PublishFrame.HeaderSize + (long)length
            + (_version == 1 ? PublishFrame.V1MessageOverhead : PublishFrame.V2MessageOverhead(filterBytes));
        if (size > _frameMax)
        {
            throw new FrameTooLargeException((int)Math.Min(size, int.MaxValue), _frameMax);
        }
    }

    private void ThrowIfClosed()
    {
        if (Volatile.Read(ref _state) != Open)
        {
            throw ClosedException();
        }
    }

    private ProducerClosedException ClosedException() =>
        new(null, _closeCode, $"The producer on stream {Stream} is closed: {_closeReason ?? "closed"}.");

    private void Signal()
    {
        if (Interlocked.Exchange(ref _signaled, 1) == 0)
        {
            _signal.Writer.TryWrite(true);
        }
    }

    private PublishFrame CurrentFrameLocked(int needed)
    {
        if (_current is { } current)
        {
            if (current.Remaining >= needed)
            {
                return current;
            }

            SealCurrentLocked();
        }

        // Room for a full frame of entries like this one, within the frame max.
        long wanted = PublishFrame.HeaderSize + ((long)needed * _entriesPerFrame);
        int capacity = (int)Math.Min(_frameMax, Math.Clamp(wanted, MinFrameCapacity, DefaultFrameCapacity));
        capacity = Math.Max(capacity, (int)Math.Min(_frameMax, (long)PublishFrame.HeaderSize + needed));
        var frame = _framePool.TryPop(out var pooled) ? pooled : new PublishFrame(capacity);
        frame.Reset(_publisherId, _version, capacity);
        _current = frame;
        return frame;
    }

    private void SealCurrentLocked()
    {
        if (_current is { } current)
        {
            _current = null;
            if (current.Count > 0)
            {
                _sealed.Enqueue(current);
            }
            else
            {
                _framePool.Push(current);
            }
        }
    }

    private PublishFrame? TakeFrame(out IStreamOperations ops, out int generation)
    {
        lock (_lock)
        {
            if (_resume is { } resume)
            {
                ApplyResumptionLocked(resume);
            }

            ops = _ops;
            generation = _generation;
            if (!_connected)
            {
                return null;
            }

            if (_batcher is { Count: > 0 } && _sealed.Count == 0)
            {
                // The connection is free: the open batch goes now rather than wait for more messages.
                CloseBatchLocked();
            }

            PublishFrame? frame = null;
            if (_sealed.TryDequeue(out var next))
            {
                frame = next;
            }
            else if (_current is { Count: > 0 } current)
            {
                _current = null;
                frame = current;
            }

            if (frame is not null && frame.LastSequence > _writtenSeq)
            {
                _writtenSeq = frame.LastSequence;
            }

            return frame;
        }
    }

    /// <summary>
    /// Switches to the recovered connection (on the write loop, so no frame is being written): frames written but not
    /// fully confirmed go first, in their original order and with their original publishing ids, then the rest.
    /// </summary>
    private void ApplyResumptionLocked(Resumption resume)
    {
        _resume = null;
        _ops = resume.Ops;
        _publisherId = resume.PublisherId;
        _connected = true;
        if (_written.Count > 0)
        {
            var notWritten = _sealed.ToArray();
            _sealed.Clear();
            while (_written.TryDequeue(out var frame))
            {
                _sealed.Enqueue(frame);
            }

            foreach (var frame in notWritten)
            {
                _sealed.Enqueue(frame);
            }
        }

        foreach (var frame in _sealed)
        {
            frame.PatchPublisherId(resume.PublisherId);
        }

        _current?.PatchPublisherId(resume.PublisherId);
        _writtenSeq = _headSeq - 1;
        if (_options.Name is not null && resume.LastStored >= _nextId)
        {
            _nextId = resume.LastStored + 1;
        }

        ProducerLog.Resumed(_logger, Stream, resume.PublisherId, _sealed.Count, resume.LastStored);
    }

    private void ReturnFrameLocked(PublishFrame frame)
    {
        if (_framePool.Count < _framePoolLimit && frame.Capacity <= 4 * DefaultFrameCapacity)
        {
            _framePool.Push(frame);
        }
        else
        {
            frame.Dispose();
        }
    }

    private async Task WriteLoopAsync()
    {
        var reader = _signal.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            reader.TryRead(out _);
            Volatile.Write(ref _signaled, 0);
            while (TakeFrame(out var ops, out int generation) is { } frame)
            {
                try
                {
                    if (Volatile.Read(ref _state) != Closed)
                    {
                        await ops.WriteAsync(frame.Seal(), CancellationToken.None).ConfigureAwait(false);
                        _framesWritten++;
                    }
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    ProducerLog.WriteFailed(_logger, Stream, ex);
                    OnConnectionLost(generation, ResponseCode.Ok, $"writing to the connection failed: {ex.Message}", connectionClosed: false);
                }
                finally
                {
                    lock (_lock)
                    {
                        // A named producer keeps written frames until every message in them is settled: a recovery
                        // re-sends them (deduplication drops what the broker already has).
                        if (_resend && _state != Closed && frame.LastSequence >= _headSeq)
                        {
                            _written.Enqueue(frame);
                        }
                        else
                        {
                            ReturnFrameLocked(frame);
                        }
                    }
                }
            }
        }
    }

    private void AddEntryLocked(ulong id, object completion, long now)
    {
        if (_count == _ring.Length)
        {
            GrowRingLocked();
        }

        if (_count == 0)
        {
            _monotonic = true;
        }
        else if (id <= _lastAppendedId)
        {
            _monotonic = false;
        }

        if (!_anyAppended || id >= _nextId)
        {
            _nextId = id + 1;
        }

        _anyAppended = true;
        _lastAppendedId = id;
        ref var entry = ref _ring[(_head + _count) & (_ring.Length - 1)];
        entry.Id = id;
        entry.Completion = completion;
        entry.Timestamp = now;
        entry.Done = false;
        _count++;
    }

    private void GrowRingLocked()
    {
        var bigger = new Entry[_ring.Length * 2];
        for (int i = 0; i < _count; i++)
        {
            bigger[i] = _ring[(_head + i) & (_ring.Length - 1)];
        }

        _ring = bigger;
        _head = 0;
    }

    private bool TryCompleteLocked(ulong id, out object completion)
    {
        int found = FindLocked(id);
        if (found < 0 || _ring[found].Done)
        {
            completion = null!;
            return false;
        }

        ref var entry = ref _ring[found];
        completion = entry.Completion!;
        entry.Completion = null;
        entry.Done = true;
        return true;
    }

    /// <summary>The ring index of the in-flight message with publishing id <paramref name="id"/>, or −1.</summary>
    private int FindLocked(ulong id)
    {
        int mask = _ring.Length - 1;
        int found = -1;
        if (_count > 0)
        {
            if (!_ring[_head].Done && _ring[_head].Id == id)
            {
                found = _head;
            }
            else if (_monotonic)
            {
                int lo = 0;
                int hi = _count - 1;
                while (lo <= hi)
                {
                    int mid = (lo + hi) >>> 1;
                    ulong midId = _ring[(_head + mid) & mask].Id;
                    if (midId == id)
                    {
                        found = (_head + mid) & mask;
                        break;
                    }

                    if (midId < id)
                    {
                        lo = mid + 1;
                    }
                    else
                    {
                        hi = mid - 1;
                    }
                }
            }
            else
            {
                for (int i = 0; i < _count; i++)
                {
                    int index = (_head + i) & mask;
                    if (!_ring[index].Done && _ring[index].Id == id)
                    {
                        found = index;
                        break;
                    }
                }
            }
        }

        return found;
    }

    /// <summary>
    /// Sub-entry mode: each confirmed (or rejected) id is the last message of a batch; every message of the batch still
    /// in flight completes with that outcome, in send order, under its own id.
    /// </summary>
    private void OnBatchOutcome(ReadOnlySpan<byte> publishingIds, int count, ConfirmationStatus status, ResponseCode code)
    {
        // The scratch is only used by the connection's read loop, like OnConfirm's (grown under the lock as needed).
        var scratch = _confirmScratch;
        int n = 0;
        int freed;
        lock (_lock)
        {
            int mask = _ring.Length - 1;
            for (int i = 0; i < count; i++)
            {
                int found = FindLocked(BinaryPrimitives.ReadUInt64BigEndian(publishingIds[(i * 8)..]));
                if (found < 0)
                {
                    continue;
                }

                // The batch's messages are the ones just before its last in the ring (those still there).
                int members = Math.Min(Math.Max(_ring[found].Batch - 1, 0), (found - _head) & mask);
                if (scratch.Length < n + members + 1)
                {
                    Array.Resize(ref scratch, Math.Max(scratch.Length * 2, n + members + 1));
                    _confirmScratch = scratch;
                }

                for (int k = members; k >= 0; k--)
                {
                    ref var entry = ref _ring[(found - k) & mask];
                    if (!entry.Done)
                    {
                        scratch[n++] = (entry.Completion!, entry.Id);
                        entry.Completion = null;
                        entry.Done = true;
                    }
                }
            }

            freed = AdvanceHeadLocked();
        }

        if (freed > 0)
        {
            _window.Release(freed);
        }

        for (int i = 0; i < n; i++)
        {
            Dispatch(scratch[i].Completion, new Confirmation(scratch[i].Id, status, code));
            scratch[i] = default;
        }
    }

    /// <summary>Sub-entry mode: adds the message to the open batch, closing the batch first when it would not fit and after when it is full.</summary>
    private void AppendToBatchLocked(SubEntryBatcher batcher, ulong? publishingId, in Outgoing body, object completion, long now)
    {
        if (batcher.Count > 0 && !batcher.Fits(body.Length))
        {
            CloseBatchLocked();
        }

        ulong id = publishingId ?? _nextId;
        body.WriteTo(batcher.Add(id, _headSeq + _count, body.Length));
        AddEntryLocked(id, completion, now);
        if (batcher.Count >= batcher.Size)
        {
            CloseBatchLocked();
        }
    }

    /// <summary>Compresses the open batch (if any) into the current frame as one sub-entry whose publishing id is its last message's.</summary>
    private void CloseBatchLocked()
    {
        if (_batcher is not { Count: > 0 } batcher)
        {
            return;
        }

        var data = batcher.Compress(out var compression, out bool expanded);
        if (expanded)
        {
            ProducerLog.SubEntryNotCompressed(_logger, Stream, _options.Compression, batcher.Count, batcher.RecordsLength, _frameMax);
        }

        var frame = CurrentFrameLocked(PublishFrame.SubEntryOverhead + data.Length);
        frame.AppendSubEntry(batcher.LastId, compression, batcher.Count, batcher.RecordsLength, data);
        long last = batcher.LastSequence;
        if (last >= _headSeq)
        {
            _ring[(_head + (int)(last - _headSeq)) & (_ring.Length - 1)].Batch = (ushort)batcher.Count;
        }

        frame.LastSequence = Math.Max(frame.LastSequence, last);
        batcher.Reset();
        if (frame.Count >= _entriesPerFrame)
        {
            SealCurrentLocked();
        }
    }

    private int AdvanceHeadLocked()
    {
        int freed = 0;
        int mask = _ring.Length - 1;
        while (_count > 0 && _ring[_head].Done)
        {
            _ring[_head] = default;
            _head = (_head + 1) & mask;
            _count--;
            freed++;
        }

        _headSeq += freed;
        while (_written.Count > 0 && _written.Peek().LastSequence < _headSeq)
        {
            ReturnFrameLocked(_written.Dequeue());
        }

        if (_count == 0 && _state == Draining)
        {
            _drained.TrySetResult();
        }

        return freed;
    }

    private void OnTimeoutTick()
    {
        List<(object Completion, ulong Id)>? expired = null;
        int freed;
        long now = _time.GetTimestamp();
        var timeout = _options.ConfirmTimeout;
        lock (_lock)
        {
            int mask = _ring.Length - 1;
            for (int i = 0; i < _count; i++)
            {
                ref var entry = ref _ring[(_head + i) & mask];
                if (entry.Done)
                {
                    continue;
                }

                if (_time.GetElapsedTime(entry.Timestamp, now) < timeout)
                {
                    break;
                }

                (expired ??= []).Add((entry.Completion!, entry.Id));
                entry.Completion = null;
                entry.Done = true;
            }

            freed = AdvanceHeadLocked();
        }

        if (freed > 0)
        {
            _window.Release(freed);
        }

        if (expired is not null)
        {
            ProducerLog.TimedOut(_logger, Stream, expired.Count, timeout);
            foreach (var (completion, id) in expired)
            {
                Dispatch(completion, new Confirmation(id, ConfirmationStatus.TimedOut, ResponseCode.Ok));
            }
        }
    }

    private void FailAll(ResponseCode code, string reason, ConfirmationStatus status = ConfirmationStatus.ProducerClosed)
    {
        List<(object Completion, ulong Id)> failed = [];
        bool wasOpen;
        lock (_lock)
        {
            wasOpen = _state != Closed;
            if (wasOpen)
            {
                _state = Closed;
                _closeCode = code;
                _closeReason ??= reason;
            }

            int mask = _ring.Length - 1;
            for (int i = 0; i < _count; i++)
            {
                ref var entry = ref _ring[(_head + i) & mask];
                if (!entry.Done)
                {
                    failed.Add((entry.Completion!, entry.Id));
                }

                entry = default;
            }

            _headSeq += _count;
            _head = 0;
            _count = 0;
            _batcher?.Reset();
            _drained.TrySetResult();
            while (_sealed.TryDequeue(out var frame))
            {
                _framePool.Push(frame);
            }

            while (_written.TryDequeue(out var frame))
            {
                _framePool.Push(frame);
            }

            if (_current is { } current)
            {
                _current = null;
                _framePool.Push(current);
            }
        }

        if (wasOpen)
        {
            // Wake every sender waiting for room: each finds the producer closed.
            _window.Open();
            if (failed.Count > 0 || code != ResponseCode.Ok)
            {
                ProducerLog.Closed(_logger, Stream, reason, failed.Count);
            }
        }

        foreach (var (completion, id) in failed)
        {
            Dispatch(completion, new Confirmation(id, status, code));
        }
    }

    private void Dispatch(object completion, in Confirmation confirmation)
    {
        if (completion is Action<Confirmation> callback)
        {
            try
            {
                callback(confirmation);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                ProducerLog.CallbackFailed(_logger, Stream, ex);
            }
        }
        else
        {
            ((PendingCompletion)completion).Complete(confirmation);
        }
    }

    private readonly struct Outgoing(ReadOnlyMemory<byte> raw, Message? message, int length, string? filter, int filterBytes)
    {
        public int Length => length;

        public string? Filter => filter;

        public int FilterBytes => filterBytes;

        public void WriteTo(Span<byte> destination)
        {
            if (message is null)
            {
                raw.Span.CopyTo(destination);
            }
            else
            {
                AmqpMessageCodec.Encode(message, destination);
            }
        }
    }

    /// <summary>A recovered connection, applied by the write loop: the new operations, publisher id and last stored id.</summary>
    private sealed record Resumption(IStreamOperations Ops, byte PublisherId, ulong LastStored);

    /// <summary>Routes one connection's publisher frames to the producer, tagged with the connection generation.</summary>
    private sealed class Binding(Producer producer, int generation) : IPublisherFrameHandler
    {
        public void OnConfirm(ReadOnlySpan<byte> publishingIds, int count) => producer.OnConfirm(publishingIds, count);

        public void OnError(ulong publishingId, ResponseCode code) => producer.OnError(publishingId, code);

        public void OnMetadataUpdate(ResponseCode code) =>
            producer.OnConnectionLost(generation, code, $"the stream {producer.Stream} is no longer available on this connection ({code})", connectionClosed: false);

        public void OnConnectionClosed(ConnectionClosedEventArgs reason) =>
            producer.OnConnectionLost(generation, reason.Code ?? ResponseCode.Ok, $"the connection closed ({reason})", connectionClosed: true);
    }

    private struct Entry
    {
        public ulong Id;
        public object? Completion;
        public long Timestamp;
        public bool Done;

        /// <summary>On the last message of a sub-entry batch: the messages in the batch (0 otherwise).</summary>
        public ushort Batch;
    }
}
