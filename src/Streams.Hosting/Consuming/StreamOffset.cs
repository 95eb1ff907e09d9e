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

/// <summary>Conversions of <see cref="StreamOffset"/>.</summary>
internal static class StreamOffsetExtensions
{
    /// <summary>The client's offset specification for <paramref name="offset"/>.</summary>
    public static Streams.Client.OffsetSpecification ToSpecification(this StreamOffset offset) => offset switch
    {
        StreamOffset.Last => Streams.Client.OffsetSpecification.Last,
        StreamOffset.Next => Streams.Client.OffsetSpecification.Next,
        _ => Streams.Client.OffsetSpecification.First,
    };
}
