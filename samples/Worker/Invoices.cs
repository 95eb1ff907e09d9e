using Microsoft.Extensions.Options;
using Streams.Hosting;

namespace Worker;

/// <summary>The <c>Invoices</c> configuration section.</summary>
public sealed class InvoicesOptions
{
    public const string SectionName = "Invoices";
    public const string DefaultSuperStream = "invoices";

    /// <summary>The super stream (<c>Invoices:SuperStream</c>, default <c>invoices</c>).</summary>
    public string SuperStream { get; set; } = DefaultSuperStream;

    /// <summary>Its number of partitions when it is created (<c>Invoices:Partitions</c>, default 3).</summary>
    public int Partitions { get; set; } = 3;

    /// <summary>Demo invoices published when the worker starts (<c>Invoices:PublishOnStart</c>, default 10; 0 for none).</summary>
    public int PublishOnStart { get; set; } = 10;
}

/// <summary>An invoice to process. A negative amount is invalid: its handling fails and it is dead-lettered.</summary>
public sealed record InvoiceIssued(string Id, string Customer, decimal Amount);

public sealed class InvalidInvoiceException(string message) : Exception(message);

/// <summary>
/// Processes invoices from every partition of the super stream. <c>Name</c> is the consumer's offset-tracking
/// reference and SAC group: after a restart it resumes after its last stored offset, and with several instances each
/// partition is consumed by exactly one of them.
/// </summary>
[StreamConsumer("{Invoices:SuperStream}", Name = "invoice-processor", SuperStream = true, SingleActiveConsumer = true, Offset = StreamOffset.First)]
public sealed class InvoiceHandler(ILogger<InvoiceHandler> logger) : IStreamHandler<InvoiceIssued>
{
    public Task HandleAsync(InvoiceIssued invoice, StreamContext context, CancellationToken cancellationToken)
    {
        if (invoice.Amount < 0)
        {
            // Retried per the failure policy, then dead-lettered to {partition}.dlq; the next invoices go on.
            throw new InvalidInvoiceException($"Invoice {invoice.Id} has a negative amount ({invoice.Amount}).");
        }

        logger.LogInformation("Processed invoice {InvoiceId} for {Customer} ({Amount}) from {Partition}@{Offset}",
            invoice.Id, invoice.Customer, invoice.Amount, context.Partition, context.Offset);
        return Task.CompletedTask;
    }
}

/// <summary>Demo only: publishes a few invoices at start, routed by customer (same customer, same partition, in order).</summary>
public sealed class InvoiceGenerator(IStreamPublisher publisher, IOptions<InvoicesOptions> options, ILogger<InvoiceGenerator> logger) : BackgroundService
{
    private static readonly string[] Customers = ["ada", "grace", "donald", "linus", "barbara"];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var count = options.Value.PublishOnStart;
        var run = Guid.NewGuid().ToString("N")[..8];
        for (var i = 1; i <= count; i++)
        {
            var customer = Customers[i % Customers.Length];
            var amount = i == count ? -1m : 10m * i; // the last one is invalid, to show dead-lettering
            var invoice = new InvoiceIssued($"{run}-{i}", customer, amount);
            await publisher.PublishAsync(options.Value.SuperStream, invoice, new PublishOptions { RoutingKey = customer, MessageId = invoice.Id }, stoppingToken);
        }

        if (count > 0)
        {
            logger.LogInformation("Published {Count} demo invoices to {SuperStream}", count, options.Value.SuperStream);
        }
    }
}
