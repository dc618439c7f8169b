using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Recommender.Serving;

/// <summary>
/// Unhealthy until the first snapshot is loaded; degraded while a refused model is being skipped, and for a while after
/// a feed had to be served without the database.
/// </summary>
internal sealed class ServingHealthCheck(ServingState state, RecommenderMetrics metrics) : IHealthCheck
{
    private static readonly TimeSpan RecentlyWithoutDatabase = TimeSpan.FromSeconds(30);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!state.IsLoaded)
            return Task.FromResult(HealthCheckResult.Unhealthy("model and catalog not loaded yet"));
        var current = state.Current;
        var model = current.ModelVersion?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "popularity";
        var data = new Dictionary<string, object> { ["model"] = model, ["feedsWithoutDatabase"] = metrics.FeedsWithoutDatabase };
        if (state.ModelProblem is { } problem)
            return Task.FromResult(HealthCheckResult.Degraded($"serving model {model}; the active model was refused: {problem}", data: data));
        if (metrics.LastWithoutDatabase is { } last && DateTimeOffset.UtcNow - last < RecentlyWithoutDatabase)
        {
            return Task.FromResult(HealthCheckResult.Degraded(
                $"serving model {model}; {metrics.FeedsWithoutDatabase} feeds served without personal data (database unreachable), the last at {last:O}", data: data));
        }
        return Task.FromResult(HealthCheckResult.Healthy($"serving model {model} over {current.Pipeline.Catalog.Count} items", data));
    }
}
