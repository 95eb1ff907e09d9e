using System.Collections.Frozen;

namespace Streams.Hosting.AspNetCore.Dashboard;

/// <summary>The dashboard's files, embedded in the assembly (Dashboard/Assets): no CDN, nothing on disk.</summary>
internal static class DashboardAssets
{
    private const string Prefix = "Streams.Hosting.AspNetCore.Dashboard.Assets.";

    /// <summary>The files served under <c>{pattern}/assets/</c>, with their content types.</summary>
    public static FrozenDictionary<string, Asset> Served { get; } = new Dictionary<string, Asset>(StringComparer.Ordinal)
    {
        ["dashboard.css"] = new(Load("dashboard.css"), "text/css; charset=utf-8"),
        ["dashboard.js"] = new(Load("dashboard.js"), "text/javascript; charset=utf-8"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The page template (rendered by <see cref="DashboardPage"/>).</summary>
    public static string PageTemplate { get; } = System.Text.Encoding.UTF8.GetString(Load("dashboard.html"));

    private static byte[] Load(string name)
    {
        using var stream = typeof(DashboardAssets).Assembly.GetManifestResourceStream(Prefix + name)
            ?? throw new InvalidOperationException($"The dashboard asset '{Prefix + name}' is not embedded in {typeof(DashboardAssets).Assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>One embedded file.</summary>
    /// <param name="Content">Its bytes.</param>
    /// <param name="ContentType">Its media type.</param>
    internal sealed record Asset(byte[] Content, string ContentType);
}
