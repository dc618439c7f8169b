using System.Text.Json;
using Recommender.Data;
using Recommender.Data.Models;

namespace Recommender.Web;

/// <summary>A model version's holdout figures, as the overview chart plots them.</summary>
public sealed record ModelPoint(int Version, bool IsActive, string Status, DateTimeOffset TrainedAt, double? TestRmse, double? GlobalMeanRmse, double? TestMae,
    ModelSettings? Settings = null, double? TestNdcg = null, double? PopularityNdcg = null, ModelLoss? Loss = null,
    DateTimeOffset? ActivatedAt = null, ModelActivator? ActivatedBy = null, TrainingData? Data = null, string? Decision = null,
    HoldoutGap? Gap = null);

/// <summary>
/// A ranking model's lead over popularity on its holdout and the standard error of that lead (per person, paired), over
/// <paramref name="People"/> people: recorded from 7 December 2026 on, null for models trained before. Whether the lead
/// is more than chance is said in <see cref="AdminText.Baseline"/>, on the figures as it writes them.
/// </summary>
public sealed record HoldoutGap(double Lead, double StandardError, int People);

/// <summary>
/// What a model was trained on, as its run recorded it: <paramref name="Trained"/> ratings or actions (of the kind
/// <paramref name="Feedback"/> names) from <paramref name="People"/> people on <paramref name="Items"/> items, and
/// <paramref name="HeldOut"/> more, the newest, held out to measure it.
/// </summary>
public sealed record TrainingData(long Trained, long HeldOut, int People, int Items, string Feedback);

/// <summary>
/// The settings a model was trained with, and whether they were chosen on a validation split (with its RMSE, or its
/// NDCG@10 for a ranking model) or given. <paramref name="Alpha"/> is set for a ranking (one-class) model only;
/// <paramref name="TooFewValidationPairs"/> when a search chose nothing because its validation split was too small.
/// </summary>
public sealed record ModelSettings(int Rank, double Lambda, int Iterations, bool Chosen, double? ValidationRmse, double? Alpha = null, double? ValidationNdcg = null,
    int? TooFewValidationPairs = null);

/// <summary>Read-only figures for the admin overview.</summary>
public sealed class AdminStatistics(SettingsStore settings, AccountStore accounts)
{
    /// <summary>How many people are the demo's simulated readers, whose lists and clicks <c>up</c> generated.</summary>
    public Task<long> SimulatedReadersAsync(CancellationToken ct = default) => accounts.CountSimulatedAsync(ct);

    /// <summary>Whether this person is one of the demo's simulated readers.</summary>
    public Task<bool> IsSimulatedAsync(long userId, CancellationToken ct = default) => accounts.IsSimulatedAsync(userId, ct);

    public Task<IReadOnlyList<ObjectiveUsage>> PeoplePerObjectiveAsync(string defaultObjective, CancellationToken ct = default) =>
        settings.PeoplePerGoalAsync(defaultObjective, ct);

    /// <summary>Holdout metrics per version, oldest first; NaN (nothing measured) becomes null.</summary>
    public static IReadOnlyList<ModelPoint> Points(IEnumerable<ModelSummary> models) =>
        [.. models.OrderBy(m => m.Version).Select(m =>
        {
            using var doc = JsonDocument.Parse(m.Metrics);
            using var options = JsonDocument.Parse(m.Options);
            return new ModelPoint(m.Version, m.IsActive, m.Status, new DateTimeOffset(DateTime.SpecifyKind(m.CreatedAt, DateTimeKind.Utc)), Read(doc.RootElement, "testRmse"), Read(doc.RootElement, "globalMeanRmse"), Read(doc.RootElement, "testMae"),
                Settings(options.RootElement, doc.RootElement, m.TrainedWith), Read(doc.RootElement, "testNdcg"), Read(doc.RootElement, "popularityNdcg"), m.TrainedWith,
                m.ActivatedAt is { } activated ? new DateTimeOffset(DateTime.SpecifyKind(activated, DateTimeKind.Utc)) : null, m.ActivatedWith, Data(doc.RootElement), m.Decision,
                Gap(doc.RootElement));
        })];

    private static HoldoutGap? Gap(JsonElement metrics) =>
        Read(metrics, "testNdcg") is { } ndcg && Read(metrics, "popularityNdcg") is { } popularity
            && Read(metrics, "popularityGapError") is { } error && Read(metrics, "heldOutPeople") is { } people
            ? new HoldoutGap(ndcg - popularity, error, (int)people)
            : null;

    /// <summary>The sizes a training run stored with its metrics; null for a run that stored none (one that failed).</summary>
    private static TrainingData? Data(JsonElement metrics) =>
        Read(metrics, "trainRatings") is { } trained && Read(metrics, "users") is { } people && Read(metrics, "items") is { } items
            ? new TrainingData((long)trained, (long)(Read(metrics, "testRatings") ?? 0), (int)people, (int)items,
                metrics.TryGetProperty("feedback", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()! : "ratings")
            : null;

    /// <summary>From the model row's options (the values trained with) and its metrics' "selection" (present when they were chosen).</summary>
    private static ModelSettings? Settings(JsonElement options, JsonElement metrics, ModelLoss? loss)
    {
        if (Read(options, "approximationRank") is not { } rank || Read(options, "lambda") is not { } lambda || Read(options, "numberOfIterations") is not { } iterations)
            return null;
        var selection = metrics.ValueKind == JsonValueKind.Object && metrics.TryGetProperty("selection", out var found) && found.ValueKind == JsonValueKind.Object
            ? found : (JsonElement?)null;
        var chosen = selection is not null;
        var best = selection is { } s && s.TryGetProperty("best", out var b) ? b : (JsonElement?)null;
        var alpha = loss?.Objective == ModelLoss.OneClass ? Read(options, "alpha") : null;
        return new ModelSettings((int)rank, lambda, (int)iterations, chosen, best is { } r ? Read(r, "validationRmse") : null, alpha, best is { } n ? Read(n, "validationNdcg") : null,
            Read(metrics, "tooFewValidationPairs") is { } few ? (int)few : null);
    }

    private static double? Read(JsonElement metrics, string name) =>
        metrics.ValueKind == JsonValueKind.Object && metrics.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.GetDouble() is var d && double.IsFinite(d)
            ? d : null;
}
