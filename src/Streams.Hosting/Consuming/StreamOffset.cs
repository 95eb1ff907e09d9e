namespace Streams.Hosting;

/// <summary>Where a consumer starts when no offset is stored for its name (attribute-friendly form of <see cref="Streams.Client.OffsetSpecification"/>).</summary>
public enum StreamOffset
{
    /// <summary>The first message still retained in the stream.</summary>
    First,

    /// <summary>The last chunk of the stream.</summary>
    Last,

    /// <summary>Only messages published after the consumer subscribed.</summary>
    Next,
}
