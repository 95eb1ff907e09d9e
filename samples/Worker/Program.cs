// A worker service on a RabbitMQ super stream:
//   - "invoices" is a super stream of 3 partitions (invoices-0..2), created at start;
//   - InvoiceHandler consumes every partition as a single active consumer (SAC) named "invoice-processor": run
//     several instances and the broker spreads the partitions between them, one active consumer per partition,
//     the others taking over from the stored offset when one stops;
//   - a handler failure is retried, then the message goes to the partition's dead-letter stream
//     (invoices-N.dlq) with the error in its headers, and the consumer moves on (RabbitStreams:Consumers:FailurePolicy).
// For the demo, InvoiceGenerator publishes Invoices:PublishOnStart invoices when the worker starts (one of them invalid).
// Run: dotnet run --project samples/Worker
using Streams.Hosting;
using Worker;

var builder = Host.CreateApplicationBuilder(args);

var invoices = builder.Configuration.GetSection(InvoicesOptions.SectionName).Get<InvoicesOptions>() ?? new InvoicesOptions();
builder.Services.AddOptions<InvoicesOptions>().BindConfiguration(InvoicesOptions.SectionName);
builder.Services.AddRabbitStreams(builder.Configuration.GetSection("RabbitStreams"))
    .AddSuperStream(invoices.SuperStream, invoices.Partitions)
    .AddConsumersFromAssemblyContaining<InvoiceHandler>();                 // [StreamConsumer] classes: InvoiceHandler on {Invoices:SuperStream}
builder.Services.AddHostedService<InvoiceGenerator>();

var host = builder.Build();
host.Run();
