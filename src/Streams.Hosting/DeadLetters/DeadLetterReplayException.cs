using Streams.Client;

namespace Streams.Hosting;

/// <summary>A dead letter that cannot be replayed; the replay stopped at it (those before it were replayed).</summary>
public sealed class DeadLetterReplayException : StreamClientException
{
    /// <summary>Creates the exception for the dead letter at <paramref name="offset"/> of <paramref name="deadLetterStream"/>.</summary>
    /// <param name="deadLetterStream">The dead-letter stream.</param>
    /// <param name="offset">The dead letter's offset.</param>
    /// <param name="message">Why it cannot be replayed.</param>
    public DeadLetterReplayException(string deadLetterStream, ulong offset, string message)
        : base(message)
    {
        DeadLetterStream = deadLetterStream;
        Offset = offset;
    }

    /// <summary>The dead-letter stream.</summary>
    public string DeadLetterStream { get; }

    /// <summary>The offset of the dead letter that cannot be replayed.</summary>
    public ulong Offset { get; }
}
