using Recommender.Data.Models;

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

/// <summary>
/// Admins managing model versions: listing them, and activating (or rolling back to) one so that this process serves
/// it at once while the others follow the notification. The REST API and the models page both activate through here.
/// </summary>
public sealed class ModelAdministration(ModelStore models, ServingState state)
{
    /// <summary>Every model version with its status, options and holdout metrics.</summary>
    public Task<IReadOnlyList<ModelSummary>> ListAsync(CancellationToken ct = default) => models.ListAsync(ct);

    public async Task<ModelActivation> ActivateAsync(int version, CancellationToken ct = default)
    {
        var model = (await models.ListAsync(ct)).FirstOrDefault(m => m.Version == version);
        if (model is null)
            return new(ActivationOutcome.NoSuchModel, null);
        if (!await models.ActivateAsync(version, ct))
            return new(ActivationOutcome.NotActivatable, model);
        // This process swaps now; the others follow the notification.
        await state.ReloadAsync(ct: ct);
        return new(ActivationOutcome.Activated, model);
    }
}
