using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Streams.Hosting.Tests.Telemetry;

/// <summary>
/// Issue 18: every log event of our packages has its own id (4001–4004 were used twice, by recovery and by super
/// streams), and the README's table lists each one, so a log filter or an alert on an id means one thing.
/// </summary>
public sealed class LogEventIdTests
{
    private static IEnumerable<(int Id, string Level, string Message, string Where)> Events() =>
        new[] { typeof(Streams.Client.StreamSystem).Assembly, typeof(IStreamPublisher).Assembly }
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(x => x.Attribute is not null)
            .Select(x => (x.Attribute!.EventId, x.Attribute.Level.ToString(), x.Attribute.Message, $"{x.Method.DeclaringType!.FullName}.{x.Method.Name}"));

    [Fact]
    public void Every_event_id_is_used_once()
    {
        var events = Events().ToList();
        Assert.True(events.Count > 50, $"only {events.Count} [LoggerMessage] methods found");
        var duplicates = events.GroupBy(e => e.Id).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Where))}");
        Assert.Empty(duplicates);
    }

    [Fact]
    public void The_readme_table_lists_every_event_id()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "Streams.Hosting.sln")))
        {
            root = root.Parent ?? throw new InvalidOperationException("repository root not found");
        }

        var table = File.ReadAllLines(Path.Combine(root.FullName, "docs", "log-events.md"))
            .Where(l => l.StartsWith("| ", StringComparison.Ordinal) && char.IsDigit(l[2]))
            .Select(l => int.Parse(l[2..l.IndexOf(' ', 2)], System.Globalization.CultureInfo.InvariantCulture))
            .ToHashSet();
        Assert.Empty(Events().Select(e => e.Id).Where(id => !table.Contains(id)).Order().Select(id => $"event {id} is missing from docs/log-events.md"));
    }
}
