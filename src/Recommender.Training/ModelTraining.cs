using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Recommender.Core;
using Recommender.Data;
using Recommender.Data.Models;
using Recommender.Factorization;

namespace Recommender.Training;

/// <summary>
/// What a training run measured on its temporal holdout, and how it chose its settings (<see cref="Selection"/>, null
/// when all were given). <see cref="TooFewValidationPairs"/> is set when a search was asked for and chose nothing
/// because its validation split held fewer pairs than a choice needs (how many it held); the given settings stood.
/// A ranking model's holdout also records <see cref="HeldOutPeople"/>, the people it measured, and
/// <see cref="PopularityGapError"/>, the standard error of its lead over popularity (per person, paired), so a page can
/// say whether the gap is more than chance; both null for models trained before they were recorded.
/// </summary>
public sealed record ModelMetrics(
    long TrainRatings,
    long TestRatings,
    int Users,
    int Items,
    double? TestRmse,
    double? TestMae,
    double? GlobalMeanRmse,
    double TrainSeconds,
    HyperparameterChoice? Selection = null,
    string Feedback = ModelMetrics.Ratings,
    double? TestNdcg = null,
    double? TestRecall = null,
    double? PopularityNdcg = null,
    int? TooFewValidationPairs = null,
    string? HoldoutSplit = null,
    int? HeldOutPeople = null,
    double? PopularityGapError = null)
{
    /// <summary>
    /// <see cref="HoldoutSplit"/> of a ranking model measured on the latest 10% in time with newcomers' earlier pairs
    /// trained on (<see cref="TemporalSplit.SplitWithNewcomers"/>); null is the plain cut in time models before it had.
    /// </summary>
    public const string TimeWithNewcomers = "time-with-newcomers";

    /// <summary><see cref="Feedback"/> of a model trained on explicit ratings (RMSE is its measure).</summary>
    public const string Ratings = "ratings";

    /// <summary><see cref="Feedback"/> of a model trained on activity as implicit feedback (NDCG@10 against popularity is its measure).</summary>
    public const string Activity = "activity";

    /// <summary><see cref="Feedback"/> of a ranking model trained on the ratings of <see cref="ImplicitFeedback.PositiveRating"/> or more (NDCG@10 against popularity is its measure).</summary>
    public const string PositiveRatings = "positive-ratings";

    /// <summary>A model row's stored metrics (NaN written as the string "NaN"); null for a run that stored none or unreadable ones.</summary>
    public static ModelMetrics? Read(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
            return null;
        try
        {
            return JsonSerializer.Deserialize<ModelMetrics>(json, ModelTraining.Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>What the holdout measured, in one line: NDCG@10 against popularity for a ranking model, RMSE for a rating model.</summary>
    public string Holdout() => Feedback is Activity or PositiveRatings
        ? TestNdcg is { } ndcg ? string.Create(CultureInfo.InvariantCulture, $"NDCG@{ModelTraining.HoldoutK} {ndcg:F4} (popularity {PopularityNdcg:F4}) on {TestRatings:N0} pairs") : "nothing held out to measure on"
        : TestRmse is { } rmse && double.IsFinite(rmse) ? string.Create(CultureInfo.InvariantCulture, $"RMSE {rmse:F3} (global mean {GlobalMeanRmse:F3}) on {TestRatings:N0} ratings") : "nothing held out to measure on";
}

/// <summary>The outcome of one training run.</summary>
public sealed record TrainingReport(int Version, bool Activated, string Decision, ModelMetrics? Metrics);

/// <summary>
/// One training run: read rating events with binary COPY, hold out the latest 10% in time (for the ranking model,
/// newcomers after the cut keep their earlier half in training), train and measure on it,
/// then train the final model on everything, store it, and activate it only if it passes the quality gate. With the
/// one-class loss (<see cref="DefaultOptions"/>, what the product trains) that is the ranking model: one-class ALS on
/// the ratings of <see cref="ImplicitFeedback.PositiveRating"/> or more, or, without enough of them, on activity (asks,
/// answers, comments, favourites, edits, clicks…) as implicit feedback (<see cref="ImplicitFeedback"/>); it is measured
/// by NDCG@10, must beat popularity and be no worse than the active model by more than <see cref="GateTolerance"/>, and
/// given a <see cref="RankingSearch"/> its rank, λ and α are first chosen on a validation split cut the same way from the
/// training rows (never the holdout). With the squared loss it is the rating model (SGD), measured by RMSE against the
/// active model's, and given a <see cref="HyperparameterSearch"/> its rank, λ and iterations are chosen the same way.
/// The model row's options record the values chosen.
/// </summary>
public sealed class ModelTraining(ModelStore models, EventStore events)
{
    /// <summary>
    /// The settings the product trains with (<c>train</c>, <c>up</c> and the background trainer): the one-class ranking
    /// model, on ratings of <see cref="ImplicitFeedback.PositiveRating"/> or more, or on activity without them, with the
    /// rest of its settings chosen by <see cref="RankingSearch"/>. That is the model <c>evaluate</c> measures as
    /// engagement's relevance. <see cref="LossFunction.SquareLossRegression"/> trains the rating model instead.
    /// </summary>
    public static MatrixFactorizationOptions DefaultOptions() => new() { LossFunction = LossFunction.SquareLossOneClass };

    /// <summary>Fewer ratings than this and there is nothing worth factorising; feeds keep using popularity.</summary>
    public const int MinimumRatings = 100;

    /// <summary>A new model may be at most 2% worse on holdout RMSE than the active one (holdouts move as data arrives).</summary>
    public const double GateTolerance = 0.02;

    // Metrics may be NaN (nothing to measure); JSON has no NaN, so it is written as the string "NaN".
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>
    /// <see cref="TrainAsync(MatrixFactorizationOptions, IProgress{TrainingProgress}?, CancellationToken)"/> unless another process is training this database, in which case null: one run at a
    /// time across the service's replicas and the CLI. Holding the lock also proves that a run still marked
    /// 'training' is not running (its process was killed), so such runs are marked failed first.
    /// </summary>
    public Task<TrainingReport?> TrainExclusiveAsync(MatrixFactorizationOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default) =>
        TrainExclusiveAsync(options, null, null, progress, ct);

    /// <summary>
    /// As <see cref="TrainExclusiveAsync(MatrixFactorizationOptions, IProgress{TrainingProgress}?, CancellationToken)"/>, choosing the ratings
    /// model's settings by <paramref name="search"/> and the ranking model's by <paramref name="rankingSearch"/> when they are not null.
    /// </summary>
    public async Task<TrainingReport?> TrainExclusiveAsync(MatrixFactorizationOptions options, HyperparameterSearch? search, RankingSearch? rankingSearch = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
    {
        await using var held = await models.TryLockTrainingAsync(ct);
        if (held is null)
            return null;
        await models.FailInterruptedAsync(ct);
        return await TrainAsync(options, search, rankingSearch, progress, ct);
    }

    /// <summary>Trains with <paramref name="options"/> as given.</summary>
    public Task<TrainingReport> TrainAsync(MatrixFactorizationOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default) =>
        TrainAsync(options, null, null, progress, ct);

    /// <summary>
    /// Trains, choosing the ratings model's rank, λ and iterations by <paramref name="search"/>, or the ranking model's
    /// rank, λ and α by <paramref name="rankingSearch"/>, first when it is not null.
    /// </summary>
    public async Task<TrainingReport> TrainAsync(MatrixFactorizationOptions options, HyperparameterSearch? search, RankingSearch? rankingSearch = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
    {
        options.Validate();
        var version = await models.BeginAsync("mf-sgd", ModelLoss.Of(options), JsonSerializer.Serialize(options, Json), ct);
        try
        {
            var (users, items, values, times) = await events.ReadRatingsAsync(ct);
            var ranking = options.LossFunction == LossFunction.SquareLossOneClass;
            var positives = values.Count(v => v >= ImplicitFeedback.PositiveRating);
            if (ranking && positives >= MinimumRatings)
            {
                return await TrainRankingAsync(version, options, rankingSearch, RatingsAlgorithm, ModelMetrics.PositiveRatings,
                    () => RatingTable.FromRows(users, items, values, times), ImplicitFeedback.PositiveRating, progress, ct);
            }
            if ((ranking || values.Length < MinimumRatings) && await TrainOnActivityAsync(version, options, rankingSearch, progress, ct) is { } fromActivity)
                return fromActivity;
            if (ranking)
            {
                await models.FailAsync(version, $"only {positives} ratings of {ImplicitFeedback.PositiveRating} or more and too little activity; at least {MinimumRatings} are needed", ct);
                return new TrainingReport(version, false, $"not trained: only {positives} ratings of {ImplicitFeedback.PositiveRating} or more and too little activity (need {MinimumRatings})", null);
            }
            if (values.Length < MinimumRatings)
            {
                await models.FailAsync(version, $"only {values.Length} ratings; at least {MinimumRatings} are needed", ct);
                return new TrainingReport(version, false, $"not trained: only {values.Length} ratings (need {MinimumRatings})", null);
            }

            var (model, metrics, chosen) = await Task.Run(() => Fit(options, search, users, items, values, times, progress, ct), ct);
            if (metrics.Selection is not null)
                await models.RecordOptionsAsync(version, JsonSerializer.Serialize(chosen, Json), ct);
            var (passes, decision) = await GateAsync(metrics, ct);
            await models.CompleteAsync(version, model, JsonSerializer.Serialize(metrics, Json), passes ? "ready" : "rejected", decision, ct);
            var activated = passes && await models.ActivateAsync(version, ModelActivator.ByTraining, ct);
            return new TrainingReport(version, activated, decision, metrics);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await models.FailAsync(version, e.Message, CancellationToken.None);
            throw;
        }
        catch (OperationCanceledException)
        {
            await models.FailAsync(version, "cancelled", CancellationToken.None);
            throw;
        }
    }

    private static (MatrixFactorizationModel Model, ModelMetrics Metrics, MatrixFactorizationOptions Chosen) Fit(MatrixFactorizationOptions options,
        HyperparameterSearch? search, long[] users, long[] items, float[] values, long[] times, IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var selection = search is null ? null : Select(search, options, users, items, values, times, progress, ct);
        if (selection is not null)
            options = selection.Apply(options);
        var trainer = new MatrixFactorizationTrainer(options);
        var split = TemporalSplit.Split(RatingTable.FromRows(users, items, values, times));
        var holdoutModel = trainer.Fit(split.Train, progress, ct);
        var test = split.Test.Values.AsSpan(0, split.Test.Count);
        double? rmse = null, mae = null, baselineRmse = null;
        // With no holdout row whose user and item were seen in training there is nothing to measure; the gate decides.
        if (test.Length > 0)
        {
            var predicted = RankingMetrics.Predict(holdoutModel, split.Test);
            var baseline = new float[test.Length];
            Array.Fill(baseline, (float)split.Train.Values.AsSpan(0, split.Train.Count).ToArray().Average());
            (rmse, mae, baselineRmse) = (RankingMetrics.Rmse(predicted, test), RankingMetrics.Mae(predicted, test), RankingMetrics.Rmse(baseline, test));
        }

        // The served model learns from every rating; the holdout model only measured.
        var all = RatingTable.FromRows(users, items, values, times);
        var model = trainer.Fit(all.AsTrainingData(), progress, ct);
        var metrics = new ModelMetrics(split.Train.Count, split.Test.Count, model.UserCount, model.ItemCount,
            rmse, mae, baselineRmse, clock.Elapsed.TotalSeconds, selection);
        return (model, metrics, options);
    }

    /// <summary>
    /// The search on a validation split cut in time from the rows the holdout model trains on (their earliest 90%
    /// train, the rest validate), so the holdout measures a choice it played no part in. Null when the validation
    /// split is empty (too little data to choose from): the given settings stand.
    /// </summary>
    private static HyperparameterChoice? Select(HyperparameterSearch search, MatrixFactorizationOptions options,
        long[] users, long[] items, float[] values, long[] times, IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        var validation = TemporalSplit.Split(TemporalSplit.EarliestRows(RatingTable.FromRows(users, items, values, times)));
        return validation.Test.Count == 0 ? null : search.Run(validation.Train, validation.Test, options, progress, ct);
    }

    /// <summary>
    /// Trains on activity as implicit feedback when there is enough of it; null when there is not (the caller then
    /// reports too few ratings). The holdout is the latest 10% of (person, item) pairs by their first event, newcomers' earlier half trained on.
    /// </summary>
    private async Task<TrainingReport?> TrainOnActivityAsync(int version, MatrixFactorizationOptions options, RankingSearch? search, IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        var cells = ImplicitFeedback.Cells(await events.ReadActivityAsync(ImplicitFeedback.Kinds, ct));
        if (cells.Count < MinimumRatings)
            return null;
        return await TrainRankingAsync(version, options, search, ActivityAlgorithm, ModelMetrics.Activity,
            () => RatingTable.FromRows([.. cells.Select(c => c.UserId)], [.. cells.Select(c => c.ItemId)],
                [.. cells.Select(c => c.Strength)], [.. cells.Select(c => c.FirstUnixSeconds)]), null, progress, ct);
    }

    /// <summary>
    /// Trains the one-class ranking model on <paramref name="table"/>: every row a positive weighed by its strength
    /// (activity), or, given <paramref name="positiveRating"/>, the ratings at or above it as plain positives, with every
    /// rated item counted as seen (what <c>evaluate</c> measures). Measured by NDCG@10 on the latest 10% in time (<see cref="TemporalSplit.SplitWithNewcomers"/>).
    /// </summary>
    private async Task<TrainingReport> TrainRankingAsync(int version, MatrixFactorizationOptions options, RankingSearch? search, string algorithm, string feedback,
        Func<RatingTable> table, float? positiveRating, IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        var implicitOptions = options.Clone();
        implicitOptions.LossFunction = LossFunction.SquareLossOneClass;
        await models.DescribeAsync(version, algorithm, ModelLoss.Of(implicitOptions), JsonSerializer.Serialize(implicitOptions, Json), ct);
        var (model, metrics, chosen) = await Task.Run(() => FitRanking(implicitOptions, search, table, positiveRating, feedback, progress, ct), ct);
        if (metrics.Selection is not null)
            await models.RecordOptionsAsync(version, JsonSerializer.Serialize(chosen, Json), ct);
        var (passes, decision) = await GateRankingAsync(metrics, ct);
        await models.CompleteAsync(version, model, JsonSerializer.Serialize(metrics, Json), passes ? "ready" : "rejected", decision, ct);
        var activated = passes && await models.ActivateAsync(version, ModelActivator.ByTraining, ct);
        return new TrainingReport(version, activated, decision, metrics);
    }

    /// <summary>The algorithm recorded for models trained on activity.</summary>
    public const string ActivityAlgorithm = "mf-als-activity";

    /// <summary>The algorithm recorded for ranking models trained on ratings (those of <see cref="ImplicitFeedback.PositiveRating"/> or more as positives).</summary>
    public const string RatingsAlgorithm = "mf-als-ratings";

    /// <summary>List length of the holdout NDCG and recall of activity models.</summary>
    public const int HoldoutK = 10;

    private static (MatrixFactorizationModel Model, ModelMetrics Metrics, MatrixFactorizationOptions Chosen) FitRanking(MatrixFactorizationOptions options,
        RankingSearch? search, Func<RatingTable> table, float? positiveRating, string feedback, IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        TrainingData Positives(TrainingData rows) => positiveRating is { } t ? TemporalSplit.Positives(rows, t) : rows;
        // The holdout is the latest 10% in time, but people who arrived after the cut (a new platform's readers, all of the
        // demo's) are measured on their later pairs given their earlier ones: under a plain cut they have no history and
        // would not be measured at all. The validation split is cut the same way from the holdout model's rows. The model learns from the positives;
        // every row is something the person has seen, and the later positives are what it should find.
        // Null when it is too small to choose from; the given settings then stand.
        HyperparameterChoice? selection = null;
        int? tooFew = null;
        if (search is not null)
        {
            var validation = TemporalSplit.SplitWithNewcomers(TemporalSplit.EarlierWithNewcomers(table()));
            var relevant = Positives(validation.Test);
            selection = search.Run(Positives(validation.Train), validation.Train, relevant, options, ct);
            tooFew = selection is null ? relevant.Count : null;
        }
        if (selection is not null)
            options = selection.Apply(options);
        var trainer = new MatrixFactorizationTrainer(options);
        var split = TemporalSplit.SplitWithNewcomers(table());
        var holdoutModel = trainer.Fit(Positives(split.Train), progress, ct);
        var test = Positives(split.Test);
        double? ndcg = null, recall = null, popularityNdcg = null, gapError = null;
        int? people = null;
        if (test.Count > 0)
        {
            var report = RankingMetrics.Evaluate(holdoutModel, split.Train, test, HoldoutK, options.NumberOfThreads ?? 0);
            (ndcg, recall, people) = (report.Ndcg, report.Recall, report.Users);
            var popularity = PopularityNdcgByUser(split.Train, test, HoldoutK);
            popularityNdcg = popularity.Values.Average();
            gapError = RankingMetrics.PairedStandardError(report.NdcgByUser, popularity);
        }
        var model = trainer.Fit(Positives(table().AsTrainingData()), progress, ct);
        var metrics = new ModelMetrics(split.Train.Count, split.Test.Count, model.UserCount, model.ItemCount,
            null, null, null, clock.Elapsed.TotalSeconds, selection, feedback, ndcg, recall, popularityNdcg, tooFew, ModelMetrics.TimeWithNewcomers,
            people, gapError);
        return (model, metrics, options);
    }

    /// <summary>Each person's NDCG@k of ranking every item by its training pairs (the same list for everyone, minus what each person already has).</summary>
    private static Dictionary<int, double> PopularityNdcgByUser(TrainingData train, TrainingData test, int k)
    {
        var counts = new int[train.Items.Count];
        var seen = new Dictionary<int, HashSet<int>>();
        for (var j = 0; j < train.Count; j++)
        {
            counts[train.ItemIndices[j]]++;
            (seen.TryGetValue(train.UserIndices[j], out var s) ? s : seen[train.UserIndices[j]] = []).Add(train.ItemIndices[j]);
        }
        var byPopularity = Enumerable.Range(0, counts.Length).OrderByDescending(i => counts[i]).ThenBy(i => i).ToArray();
        var relevant = new Dictionary<int, HashSet<int>>();
        for (var j = 0; j < test.Count; j++)
            (relevant.TryGetValue(test.UserIndices[j], out var r) ? r : relevant[test.UserIndices[j]] = []).Add(test.ItemIndices[j]);
        return relevant.ToDictionary(p => p.Key, p =>
        {
            var had = seen.GetValueOrDefault(p.Key);
            var ranked = byPopularity.Where(i => had?.Contains(i) != true).Take(k).ToArray();
            return RankingMetrics.NdcgAtK(ranked, p.Value, k);
        });
    }

    /// <summary>A ranking model serves only if it ranks the holdout better than popularity, and no worse than the active ranking model.</summary>
    private async Task<(bool Passes, string Decision)> GateRankingAsync(ModelMetrics metrics, CancellationToken ct)
    {
        if (metrics.TestNdcg is not { } ndcg || metrics.PopularityNdcg is not { } popular)
            return (false, "rejected: no holdout pair whose person and item were seen in training, so it cannot be measured");
        var pairs = string.Create(CultureInfo.InvariantCulture, $" on {metrics.TestRatings:N0} held-out pairs");
        if (ndcg <= popular)
            return (false, $"rejected: holdout NDCG@{HoldoutK} {ndcg:F4} does not beat popularity's {popular:F4}{pairs}");
        var active = await models.GetActiveMetricsAsync(ct);
        var activeMetrics = active is { } a ? ModelMetrics.Read(a.Metrics) : null;
        // A figure measured on another kind of holdout (a model from before newcomers were measured) is not comparable.
        var otherHoldout = activeMetrics?.TestNdcg is not null && activeMetrics.HoldoutSplit != metrics.HoldoutSplit;
        var activeNdcg = otherHoldout ? null : activeMetrics?.TestNdcg;
        if (active is null || activeNdcg is null || ndcg >= activeNdcg * (1 - GateTolerance))
            return (true, $"activated: holdout NDCG@{HoldoutK} {ndcg:F4} vs popularity's {popular:F4}"
                + (activeNdcg is { } v ? $" and {v:F4} for active model {active!.Value.Version}" : "") + pairs
                + (otherHoldout ? $" (active model {active!.Value.Version} was measured on another holdout, so it is not compared)" : ""));
        return (false, $"rejected: holdout NDCG@{HoldoutK} {ndcg:F4} is worse than {activeNdcg:F4} for active model {active.Value.Version} by more than {GateTolerance:P0}{pairs}");
    }

    private async Task<(bool Passes, string Decision)> GateAsync(ModelMetrics metrics, CancellationToken ct)
    {
        var active = await models.GetActiveMetricsAsync(ct);
        if (active is null)
            return (true, "activated: no model was active");
        if (metrics.TestRmse is not { } rmse || !double.IsFinite(rmse))
            return (false, $"rejected: no holdout ratings to compare it with active model {active.Value.Version}");
        var (activeVersion, activeMetrics) = active.Value;
        // A ranking model (or one with nothing measured) has no RMSE to compare with: the new rating model is activated.
        if (JsonSerializer.Deserialize<ModelMetrics>(activeMetrics, Json)?.TestRmse is not { } activeRmse || !double.IsFinite(activeRmse))
            return (true, $"activated: holdout RMSE {rmse:F4}; active model {activeVersion} has no RMSE to compare with");
        if (rmse <= activeRmse * (1 + GateTolerance))
            return (true, $"activated: holdout RMSE {rmse:F4} vs {activeRmse:F4} for active model {activeVersion}");
        return (false, $"rejected: holdout RMSE {rmse:F4} is worse than {activeRmse:F4} for active model {activeVersion} by more than {GateTolerance:P0}");
    }
}
