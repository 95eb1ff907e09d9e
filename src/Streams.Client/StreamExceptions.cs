namespace Streams.Client;

/// <summary>The broker answered a request with a response code other than OK.</summary>
public class StreamProtocolException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">The response code.</param>
    /// <param name="message">What went wrong.</param>
    public StreamProtocolException(ResponseCode code, string message)
        : base(message)
    {
        Code = code;
    }

    /// <summary>The response code sent by the broker.</summary>
    public ResponseCode Code { get; }

    /// <summary>Creates the most specific exception for <paramref name="code"/>.</summary>
    internal static StreamProtocolException Create(ResponseCode code, string operation, string? stream = null)
    {
        var target = stream is null ? string.Empty : $" on stream '{stream}'";
        var message = $"{operation}{target} failed: {Describe(code)} (code 0x{(ushort)code:x2}).";
        return code switch
        {
            ResponseCode.StreamDoesNotExist => new StreamDoesNotExistException(stream, message),
            ResponseCode.StreamAlreadyExists => new StreamAlreadyExistsException(stream, message),
            ResponseCode.StreamNotAvailable => new StreamNotAvailableException(stream, message),
            ResponseCode.AuthenticationFailure or ResponseCode.SaslMechanismNotSupported or ResponseCode.SaslError
                or ResponseCode.SaslAuthenticationFailureLoopback or ResponseCode.SaslChallenge
                or ResponseCode.SaslCannotChangeMechanism or ResponseCode.SaslCannotChangeUsername
                => new AuthenticationFailureException(code, message),
            ResponseCode.VirtualHostAccessFailure => new VirtualHostAccessFailureException(message),
            ResponseCode.AccessRefused => new AccessRefusedException(message),
            ResponseCode.PreconditionFailed => new PreconditionFailedException(message),
            ResponseCode.PublisherDoesNotExist => new PublisherDoesNotExistException(message),
            ResponseCode.SubscriptionIdDoesNotExist or ResponseCode.SubscriptionIdAlreadyExists => new SubscriptionIdException(code, message),
            _ => new StreamProtocolException(code, message),
        };
    }

    /// <summary>A short English description of a response code.</summary>
    internal static string Describe(ResponseCode code) => code switch
    {
        ResponseCode.Ok => "OK",
        ResponseCode.StreamDoesNotExist => "the stream does not exist",
        ResponseCode.SubscriptionIdAlreadyExists => "the subscription id already exists",
        ResponseCode.SubscriptionIdDoesNotExist => "the subscription id does not exist",
        ResponseCode.StreamAlreadyExists => "the stream already exists",
        ResponseCode.StreamNotAvailable => "the stream is not available",
        ResponseCode.SaslMechanismNotSupported => "the SASL mechanism is not supported",
        ResponseCode.AuthenticationFailure => "authentication failure (bad user name or password)",
        ResponseCode.SaslError => "SASL error",
        ResponseCode.SaslChallenge => "SASL challenge not supported",
        ResponseCode.SaslAuthenticationFailureLoopback => "this user may only connect from localhost",
        ResponseCode.VirtualHostAccessFailure => "the virtual host does not exist or the user has no access to it",
        ResponseCode.UnknownFrame => "unknown frame",
        ResponseCode.FrameTooLarge => "frame too large",
        ResponseCode.InternalError => "internal broker error",
        ResponseCode.AccessRefused => "access refused",
        ResponseCode.PreconditionFailed => "precondition failed",
        ResponseCode.PublisherDoesNotExist => "the publisher does not exist",
        ResponseCode.NoOffset => "no offset stored",
        ResponseCode.SaslCannotChangeMechanism => "re-authentication cannot change the SASL mechanism",
        ResponseCode.SaslCannotChangeUsername => "re-authentication cannot change the user name",
        _ => "unknown response code",
    };
}

/// <summary>Authentication failed (bad credentials, unsupported mechanism, loopback-only user...).</summary>
public sealed class AuthenticationFailureException : StreamProtocolException
{
    /// <summary>Creates the exception.</summary>
    public AuthenticationFailureException(ResponseCode code, string message)
        : base(code, message)
    {
    }
}

/// <summary>The virtual host does not exist or the user may not access it.</summary>
public sealed class VirtualHostAccessFailureException : StreamProtocolException
{
    /// <summary>Creates the exception.</summary>
    public VirtualHostAccessFailureException(string message)
        : base(ResponseCode.VirtualHostAccessFailure, message)
    {
    }
}

/// <summary>The stream does not exist.</summary>
public sealed class StreamDoesNotExistException : StreamProtocolException
{
    /// <summary>Creates the exception.</summary>
    public StreamDoesNotExistException(string? stream, string message)
        : base(ResponseCode.StreamDoesNotExist, message)
    {
        Stream = stream;
    }

    /// <summary>The stream name, when known.</summary>
    public string? Stream { get; }
}

/// <summary>The stream already exists (thrown only when the caller asked for it).</summary>
public sealed class StreamAlreadyExistsException : StreamProtocolException
{
    /// <summary>Creates the exception.</summary>
    public StreamAlreadyExistsException(string? stream, string message)
        : base(ResponseCode.StreamAlreadyExists, message)
    {
        Stream = stream;
    }

    /// <summary>The stream name, when known.</summary>
    public string? Stream { get; }
}

/// <summary>The stream exists but is not available (no leader, member missing).</summary>
public sealed class StreamNotAvailableException : StreamProtocolException
{
    /// <summary>Creates the exception.</summary>
    public StreamNotAvailableException(string? stream, string message)
        : base(ResponseCode.StreamNotAvailable, message)
    {
        Stream = stream;
    }

    /// <summary>The stream name, when known.</summary>
    public string? Stream { get; }
}

/// <summary>The user lacks a permission.</summary>
public sealed class AccessRefusedException : StreamProtocolException
{
    /// <summary>Creates the exception.</summary>
    public AccessRefusedException(string message)
        : base(ResponseCode.AccessRefused, message)
    {
    }
}

/// <summary>A precondition failed (bad arguments, duplicate ids or references, limits...).</summary>
public class PreconditionFailedException : StreamProtocolException
{
    /// <summary>Creates the exception.</summary>
    public PreconditionFailedException(string message)
        : base(ResponseCode.PreconditionFailed, message)
    {
    }
}

/// <summary>A stream with this name exists with different arguments (the broker answered precondition failed).</summary>
public sealed class StreamAlreadyExistsWithDifferentArgumentsException : PreconditionFailedException
{
    /// <summary>Creates the exception.</summary>
    public StreamAlreadyExistsWithDifferentArgumentsException(string stream, string message)
        : base(message)
    {
        Stream = stream;
    }

    /// <summary>The stream name.</summary>
    public string Stream { get; }
}

/// <summary>The publisher id is not known on the connection.</summary>
public sealed class PublisherDoesNotExistException : StreamProtocolException
{
    /// <summary>Creates the exception.</summary>
    public PublisherDoesNotExistException(string message)
        : base(ResponseCode.PublisherDoesNotExist, message)
    {
    }
}

/// <summary>The subscription id already exists or does not exist on the connection.</summary>
public sealed class SubscriptionIdException : StreamProtocolException
{
    /// <summary>Creates the exception.</summary>
    public SubscriptionIdException(ResponseCode code, string message)
        : base(code, message)
    {
    }
}

/// <summary>A request got no answer in time.</summary>
public sealed class StreamTimeoutException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    public StreamTimeoutException(string message)
        : base(message)
    {
    }
}

/// <summary>The connection is closed (or closed while the operation was pending).</summary>
public sealed class StreamConnectionClosedException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    public StreamConnectionClosedException(string message, ConnectionClosedEventArgs? reason = null)
        : base(message, reason?.Exception!)
    {
        Reason = reason;
    }

    /// <summary>Why the connection closed, when known.</summary>
    public ConnectionClosedEventArgs? Reason { get; }
}

/// <summary>A frame is larger than the frame max negotiated with the broker; nothing was sent.</summary>
public sealed class FrameTooLargeException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    public FrameTooLargeException(int frameSize, int frameMax)
        : base($"The frame is {frameSize} bytes but the negotiated frame max is {frameMax} bytes; nothing was sent. Send smaller batches or messages.")
    {
        FrameSize = frameSize;
        FrameMax = frameMax;
    }

    /// <summary>The size of the refused frame, size prefix included.</summary>
    public int FrameSize { get; }

    /// <summary>The negotiated frame max.</summary>
    public int FrameMax { get; }
}

/// <summary>The broker sent a frame the client could not parse.</summary>
public sealed class StreamProtocolFormatException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    public StreamProtocolFormatException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// The broker broke the protocol in a way that is well-formed on the wire but not allowed, e.g. it sent a subscription
/// more chunks than the credit the client granted. The client closes the connection (kind
/// <see cref="ConnectionCloseKind.ProtocolViolation"/>) and producers and consumers recover as after any connection loss.
/// </summary>
public sealed class StreamProtocolViolationException : StreamClientException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What the broker did.</param>
    public StreamProtocolViolationException(string message)
        : base(message)
    {
    }
}
