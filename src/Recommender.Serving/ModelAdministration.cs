using Recommender.Data.Models;
using Recommender.Reranking;

namespace Recommender.Serving;

/// <summary>What came of asking to activate a model version.</summary>
public enum ActivationOutcome
{
    Activated,
    NoSuchModel,

    /// <summary>The model exists but is not a trained model that passed its gate.</summary>
    NotActivatable,
}

/// <summary>The outcome, with the model as it was before the request (null when there is no such version).</summary>
public sealed record ModelActivation(ActivationOutcome Outcome, ModelSummary? Model);

/// <summary>A re-ranker run as admins see it: what its gate measured, or why it stored nothing.</summary>
public sealed record RerankerRun(int Version, int? ModelVersion, string Status, bool IsActive, DateTime CreatedAt, DateTime? ActivatedAt,
    RerankerMetrics? Metrics, string? Error);

/// <summary>
/// Admins managing model versions: listing them, and activating (or rolling back to) one so that this process serves
/// it at once while the others follow the notification. The REST API and the models page both activate through here.
/// </summary>
public sealed class ModelAdministration(ModelStore models, RerankerStore rerankers, ServingState state)
{
    /// <summary>Every re-ranker run, newest first, with its gate's figures (re-ranker against MF alone on later lists).</summary>
    public async Task<IReadOnlyList<RerankerRun>> RerankersAsync(CancellationToken ct = default) =>
        [.. (await rerankers.ListAsync(ct)).Select(r => new RerankerRun(r.Version, r.ModelVersion, r.Status, r.IsActive, r.CreatedAt,
            r.ActivatedAt, RerankerMetrics.FromJson(r.Metrics), RerankerMetrics.ErrorOf(r.Metrics)))];

    /// <summary>Every model version with its status, options and holdout metrics.</summary>
    public Task<IReadOnlyList<ModelSummary>> ListAsync(CancellationToken ct = default) => models.ListAsync(ct);

    public async Task<ModelActivation> ActivateAsync(int version, ModelActivator by, CancellationToken ct = default)
    {
        var model = (await models.ListAsync(ct)).FirstOrDefault(m => m.Version == version);
        if (model is null)
            return new(ActivationOutcome.NoSuchModel, null);
        if (!await models.ActivateAsync(version, by, ct))
            return new(ActivationOutcome.NotActivatable, model);
        // This process swaps now; the others follow the notification.
        await state.ReloadAsync(ct: ct);
        return new(ActivationOutcome.Activated, model);
    }
}
