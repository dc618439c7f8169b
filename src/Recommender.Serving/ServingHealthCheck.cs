using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Recommender.Serving;

/// <summary>Unhealthy until the first snapshot is loaded; degraded while a refused model is being skipped.</summary>
internal sealed class ServingHealthCheck(ServingState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!state.IsLoaded)
            return Task.FromResult(HealthCheckResult.Unhealthy("model and catalog not loaded yet"));
        var current = state.Current;
        var model = current.ModelVersion?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "popularity";
        return Task.FromResult(state.ModelProblem is { } problem
            ? HealthCheckResult.Degraded($"serving model {model}; the active model was refused: {problem}")
            : HealthCheckResult.Healthy($"serving model {model} over {current.Pipeline.Catalog.Count} items"));
    }
}
