namespace Streams.Hosting.AspNetCore;

/// <summary>Options of <c>MapRabbitStreamsDashboard</c>.</summary>
public sealed class RabbitStreamsDashboardOptions
{
    /// <summary>The shortest <see cref="RefreshInterval"/>.</summary>
    public static readonly TimeSpan MinimumRefreshInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>How often the page polls the status (at least <see cref="MinimumRefreshInterval"/>). Default 2 seconds.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);
}
