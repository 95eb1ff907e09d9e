using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using Streams.Hosting;

namespace WebApi.Orders;

/// <summary>The body of <c>POST /orders</c>.</summary>
public sealed record PlaceOrder([Required] string Id, [Required] string Customer, [Range(0.01, double.MaxValue)] decimal Amount);

/// <summary>The event published to the stream: what happened, as JSON.</summary>
public sealed record OrderPlaced(string Id, string Customer, decimal Amount, DateTimeOffset PlacedAt);

/// <summary>What <c>GET /orders/{id}</c> returns: the projected order and where it came from in the stream.</summary>
public sealed record OrderView(string Id, string Customer, decimal Amount, DateTimeOffset PlacedAt, ulong Offset);

/// <summary>The <c>Orders</c> configuration section.</summary>
public sealed class OrdersOptions
{
    public const string SectionName = "Orders";
    public const string DefaultStream = "orders";

    /// <summary>The stream the orders are published to and projected from (<c>Orders:Stream</c>, default <c>orders</c>).</summary>
    public string Stream { get; set; } = DefaultStream;
}

/// <summary>An in-memory read model: rebuilt from the stream at every start.</summary>
public sealed class OrderReadModel
{
    private readonly ConcurrentDictionary<string, OrderView> _orders = new(StringComparer.Ordinal);

    public int Count => _orders.Count;

    public void Apply(OrderView order) => _orders[order.Id] = order;

    public OrderView? Find(string id) => _orders.GetValueOrDefault(id);
}

/// <summary>
/// Projects <see cref="OrderPlaced"/> events into the <see cref="OrderReadModel"/>. The read model lives in memory, so
/// the consumer has no <c>Name</c>: nothing is stored and every start replays the stream from the first message. A
/// projection into a database would take a Name and resume after its last stored offset instead.
/// </summary>
[StreamConsumer("{Orders:Stream}", Offset = StreamOffset.First)] // the stream named by the Orders:Stream setting
public sealed class OrderProjection(OrderReadModel readModel, ILogger<OrderProjection> logger) : IStreamHandler<OrderPlaced>
{
    public Task HandleAsync(OrderPlaced message, StreamContext context, CancellationToken cancellationToken)
    {
        readModel.Apply(new OrderView(message.Id, message.Customer, message.Amount, message.PlacedAt, context.Offset));
        logger.LogInformation("Projected order {OrderId} from {Stream}@{Offset}", message.Id, context.Stream, context.Offset);
        return Task.CompletedTask;
    }
}

/// <summary>The confirmations "sent" so far (an in-memory outbox standing in for e-mail).</summary>
public sealed class ConfirmationOutbox
{
    private readonly ConcurrentQueue<(string OrderId, ulong Offset)> _sent = new();

    public IReadOnlyList<(string OrderId, ulong Offset)> Sent => [.. _sent];

    public void Send(string orderId, ulong offset) => _sent.Enqueue((orderId, offset));
}

/// <summary>
/// Sends one confirmation per placed order. Named, so its offset is stored: a restart goes on after the last order
/// confirmed. The operations endpoints steer it by that name: pause it while the mail server is down, resume it,
/// or rewind it to send the confirmations again from a point in time (see the README's curl commands).
/// </summary>
[StreamConsumer("{Orders:Stream}", Name = ConsumerName)]
public sealed class OrderConfirmationSender(ConfirmationOutbox outbox, ILogger<OrderConfirmationSender> logger) : IStreamHandler<OrderPlaced>
{
    public const string ConsumerName = "order-confirmations";

    public Task HandleAsync(OrderPlaced message, StreamContext context, CancellationToken cancellationToken)
    {
        outbox.Send(message.Id, context.Offset);
        logger.LogInformation("Confirmation sent for order {OrderId} ({Stream}@{Offset})", message.Id, context.Stream, context.Offset);
        return Task.CompletedTask;
    }
}
