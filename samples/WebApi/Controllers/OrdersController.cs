using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Streams.Hosting;
using WebApi.Orders;

namespace WebApi.Controllers;

[ApiController]
[Route("orders")]
public sealed class OrdersController(IStreamPublisher publisher, OrderReadModel readModel, IOptions<OrdersOptions> options, TimeProvider clock) : ControllerBase
{
    /// <summary>Publishes the order; answers 202 once the broker confirmed it (the read model follows shortly).</summary>
    [HttpPost]
    [ProducesResponseType(StatusCodes.Status202Accepted)]
    [ProducesResponseType(StatusCodes.Status503ServiceUnavailable)]
    public async Task<IActionResult> Post(PlaceOrder order, CancellationToken cancellationToken)
    {
        var placed = new OrderPlaced(order.Id, order.Customer, order.Amount, clock.GetUtcNow());
        try
        {
            await publisher.PublishAsync(options.Value.Stream, placed, new PublishOptions { MessageId = order.Id }, cancellationToken);
        }
        catch (StreamPublishException ex)
        {
            return Problem(ex.Message, statusCode: StatusCodes.Status503ServiceUnavailable, title: "The order could not be published");
        }

        return AcceptedAtAction(nameof(Get), new { id = order.Id }, new { order.Id });
    }

    /// <summary>The projected order, or 404 until the projection has seen it.</summary>
    [HttpGet("{id}")]
    [ProducesResponseType<OrderView>(StatusCodes.Status200OK)]
    [ProducesResponseType(StatusCodes.Status404NotFound)]
    public ActionResult<OrderView> Get(string id) => readModel.Find(id) is { } order ? order : NotFound();
}
