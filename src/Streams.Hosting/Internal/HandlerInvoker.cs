using System.Runtime.CompilerServices;
using Streams.Client;

namespace Streams.Hosting.Internal;

/// <summary>Calls a handler without reflection per message (one closed generic per message type).</summary>
internal abstract class HandlerInvoker
{
    public static HandlerInvoker Create(Type messageType) =>
        (HandlerInvoker)Activator.CreateInstance(typeof(HandlerInvoker<>).MakeGenericType(messageType))!;

    public abstract object? Deserialize(MessageSerialization serialization, Message message);

    public abstract Task InvokeAsync(object handler, object? message, StreamContext context, CancellationToken cancellationToken);

    public abstract Task InvokeBatchAsync(object handler, IReadOnlyList<(object? Message, StreamContext Context)> items, CancellationToken cancellationToken);
}

#pragma warning disable CA1812 // Instantiated through MakeGenericType.
internal sealed class HandlerInvoker<T> : HandlerInvoker
#pragma warning restore CA1812
{
    public override object? Deserialize(MessageSerialization serialization, Message message) => serialization.FromMessage<T>(message);

    // The worker hands over a handler it validated as IStreamHandler<T> at registration and a message this invoker
    // deserialized as T: no need for the (shared-generic, hence slow) checked casts per message.
    public override Task InvokeAsync(object handler, object? message, StreamContext context, CancellationToken cancellationToken) =>
        Unsafe.As<IStreamHandler<T>>(handler).HandleAsync(typeof(T).IsValueType ? (T)message! : Unsafe.As<object?, T>(ref message)!, context, cancellationToken);

    public override Task InvokeBatchAsync(object handler, IReadOnlyList<(object? Message, StreamContext Context)> items, CancellationToken cancellationToken)
    {
        var messages = new StreamMessage<T>[items.Count];
        for (var i = 0; i < messages.Length; i++)
        {
            messages[i] = new StreamMessage<T>((T)items[i].Message!, items[i].Context);
        }

        return ((IStreamBatchHandler<T>)handler).HandleAsync(messages, cancellationToken);
    }
}
