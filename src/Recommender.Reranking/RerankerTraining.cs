using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.LightGbm;
using Recommender.Core;
using Recommender.Core.Ranking;
using Recommender.Data;
using Recommender.Data.Models;
using Recommender.Factorization;

namespace Recommender.Reranking;

/// <summary>Settings of a re-ranker run; every one has its default here.</summary>
public sealed record RerankerOptions
{
    /// <summary>Boosting rounds. Default 100.</summary>
    public int NumberOfIterations { get; init; } = 100;

    /// <summary>Leaves per tree. Default 15: a few features, so shallow trees.</summary>
    public int NumberOfLeaves { get; init; } = 15;

    /// <summary>Smallest number of served items in a leaf. Default 20, so one reader's lists cannot make a rule.</summary>
    public int MinimumExampleCountPerLeaf { get; init; } = 20;

    public double LearningRate { get; init; } = 0.1;

    /// <summary>Latest share of the lists (by the time they were served) held out for the gate. Default 0.2.</summary>
    public double HoldoutFraction { get; init; } = 0.2;

    /// <summary>
    /// An event counts as the outcome of a list if it happened within this long after it was served, and before the
    /// reader's next list (which takes the credit from then on). Default 7 days.
    /// </summary>
    public TimeSpan OutcomeWindow { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Fewer lists with an outcome than this and there is nothing to learn from. Default 50.</summary>
    public int MinimumLists { get; init; } = 50;

    /// <summary>
    /// How many of a reader's latest consumptions before a list count for the level they read at: serving's history
    /// length, so training sees what serving sees. Default 500.
    /// </summary>
    public int HistoryLength { get; init; } = 500;
}

/// <summary>What a re-ranker run measured on the later lists it was not trained on.</summary>
/// <param name="ModelVersion">The MF model whose scores it learned to refine; serving uses it only beside that model.</param>
/// <param name="TrainLists">Lists the measured model was trained on (the earlier ones).</param>
/// <param name="HoldoutLists">Later lists it was measured on.</param>
/// <param name="TrainItems">Served items in the training lists.</param>
/// <param name="HoldoutFrom">When the first held-out list was served.</param>
/// <param name="MfNdcg">NDCG@10 of the held-out lists ordered by the MF score alone.</param>
/// <param name="RerankerNdcg">NDCG@10 of the same lists ordered by the re-ranker.</param>
/// <param name="StandardError">Standard error of the mean per-list difference; the gate asks for a gain of at least twice it.</param>
/// <param name="TrainSeconds">Both fits, measured and served.</param>
public sealed record RerankerMetrics(
    int ModelVersion, int TrainLists, int HoldoutLists, long TrainItems, DateTime HoldoutFrom,
    double MfNdcg, double RerankerNdcg, double StandardError, double TrainSeconds)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>The metrics a run stored, or null for a run that stored none (failed or interrupted: <c>{"error": …}</c>).</summary>
    public static RerankerMetrics? FromJson(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("rerankerNdcg", out _)
            ? doc.RootElement.Deserialize<RerankerMetrics>(Json)
            : null;
    }

    /// <summary>The run's error as stored by a failed or interrupted run, or null.</summary>
    public static string? ErrorOf(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var e) ? e.GetString() : null;
    }
}

/// <summary>The outcome of one re-ranker run; <see cref="Version"/> is null when nothing was trained.</summary>
public sealed record RerankerReport(int? Version, bool Activated, string Decision, RerankerMetrics? Metrics);

/// <summary>
/// Trains the learned second stage: a LightGBM LambdaRank model over the lists served to readers the active MF model
/// knows, with graded gains from what followed each list (see <see cref="Gain"/>). It is measured on the latest lists
/// (<see cref="RerankerOptions.HoldoutFraction"/>) against ordering them by MF alone and activated only when it ranks
/// them better by more than chance; then the model trained on every list is stored as a plain tree ensemble that
/// serving evaluates without ML.NET.
/// </summary>
public sealed class RerankerTraining(RerankerStore rerankers, ModelStore models, CatalogStore catalogs, ServedListStore servedLists, EventStore events, SettingsStore settings)
{
    /// <summary>List length of the gate's NDCG.</summary>
    public const int K = 10;

    /// <summary>Graded gain of an event that followed a served item: the strongest one counts; impressions, views and "not interested" are 0.</summary>
    public static int Gain(EventKind kind) => kind switch
    {
        EventKind.Complete or EventKind.Like => 3,
        EventKind.Rating => 2,
        EventKind.Click => 1,
        _ => 0,
    };

    /// <summary>The kinds with a positive <see cref="Gain"/>, and their gains.</summary>
    private static readonly Dictionary<EventKind, int> Gains = Enum.GetValues<EventKind>().Where(k => Gain(k) > 0).ToDictionary(k => k, Gain);

    /// <summary>As <see cref="TrainAsync"/>, unless another process holds the training lock (then null): one run at a time, as for MF.</summary>
    public async Task<RerankerReport?> TrainExclusiveAsync(RerankerOptions? options = null, CancellationToken ct = default)
    {
        await using var held = await models.TryLockTrainingAsync(ct);
        if (held is null)
            return null;
        await rerankers.FailInterruptedAsync(ct);
        return await TrainAsync(options, ct);
    }

    public async Task<RerankerReport> TrainAsync(RerankerOptions? options = null, CancellationToken ct = default)
    {
        options ??= new RerankerOptions();
        if (await models.LoadActiveAsync(ct) is not { } active)
            return new RerankerReport(null, false, "not trained: no MF model is active, so there are no scores to refine", null);
        var catalog = await catalogs.LoadRankingCatalogAsync(ct);
        var (lists, unknownReaders) = await ReadListsAsync(active.Model, catalog, options, ct);
        if (lists.Count < options.MinimumLists)
            return new RerankerReport(null, false, $"not trained: only {lists.Count} served lists with an outcome (need {options.MinimumLists})"
                + (unknownReaders > 0
                    ? $"; {unknownReaders} more are of readers model v{active.Version} was not trained on, and count once a model that knows them is serving"
                    : ""), null);

        var version = await rerankers.BeginAsync(active.Version, ct);
        try
        {
            var (ensemble, metrics) = await Task.Run(() => Fit(options, active.Version, lists, ct), ct);
            var passes = metrics.RerankerNdcg - metrics.MfNdcg > 2 * metrics.StandardError && metrics.RerankerNdcg > metrics.MfNdcg;
            var figures = $"held-out NDCG@{K} {metrics.RerankerNdcg:F4} vs {metrics.MfNdcg:F4} for MF alone (± {metrics.StandardError:F4}) on {metrics.HoldoutLists} lists";
            await rerankers.CompleteAsync(version, ensemble, JsonSerializer.Serialize(metrics, RerankerMetrics.Json), passes ? "ready" : "rejected", ct);
            var activated = passes && await rerankers.ActivateAsync(version, ct);
            return new RerankerReport(version, activated,
                (activated ? "activated: " : "rejected: ") + figures + (passes ? "" : $"; it must beat MF alone by more than twice the standard error"), metrics);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await rerankers.FailAsync(version, e.Message, CancellationToken.None);
            throw;
        }
        catch (OperationCanceledException)
        {
            await rerankers.FailAsync(version, "cancelled", CancellationToken.None);
            throw;
        }
    }

    /// <summary>One served list ready to learn from: its time, and per item the features and the gain that followed.</summary>
    internal sealed record ServedGroup(DateTime ServedAt, float[][] Features, int[] Gains);

    /// <summary>
    /// Served lists of readers the MF model knows, with at least one positive gain, oldest first; and how many lists with
    /// a positive gain were set aside because the model does not know their reader (it has no score to refine for them).
    /// </summary>
    private async Task<(List<ServedGroup> Lists, int UnknownReaders)> ReadListsAsync(MatrixFactorizationModel model, Catalog catalog, RerankerOptions options, CancellationToken ct)
    {
        var rows = await servedLists.OutcomesAsync(Gains, options.OutcomeWindow, ct);
        var readerTopics = await settings.OnboardingTopicsAsync(ct);
        var history = await events.ConsumptionsAsync(ct);
        var groups = new List<ServedGroup>();
        var unknownReaders = 0;
        foreach (var list in rows.GroupBy(r => r.ListId))
        {
            var first = list.First();
            if (!model.TryGetUserIndex(first.UserId, out var user))
            {
                unknownReaders += list.Any(r => r.Gain > 0) ? 1 : 0;
                continue;
            }
            var topics = new HashSet<string>(readerTopics.GetValueOrDefault(first.UserId) ?? [], StringComparer.Ordinal);
            var servedAt = new DateTimeOffset(DateTime.SpecifyKind(first.CreatedAt, DateTimeKind.Utc));
            var level = ReaderLevel.Of(catalog, ReadBefore(history, first.UserId, first.CreatedAt, options.HistoryLength));
            var features = new List<float[]>();
            var listGains = new List<int>();
            foreach (var row in list)
            {
                // Serving rescores only candidates the MF model knows; items it does not know teach nothing it can use.
                if (!model.TryGetItemIndex(row.ItemId, out var item))
                    continue;
                var x = new float[RerankerFeatures.Count];
                RerankerFeatures.Compute(catalog, row.ItemId, model.Score(user, item), PopularityAt(history, row.ItemId, first.CreatedAt), topics, level, servedAt, x);
                features.Add(x);
                listGains.Add(row.Gain);
            }
            if (features.Count >= 2 && listGains.Any(g => g > 0))
                groups.Add(new ServedGroup(first.CreatedAt, [.. features], [.. listGains]));
        }
        return (groups, unknownReaders);
    }

    /// <summary>Interactions with the item strictly before <paramref name="at"/>.</summary>
    private static int PopularityAt(Consumptions history, long itemId, DateTime at) =>
        history.TimesByItem.TryGetValue(itemId, out var times) ? CountBefore(times.AsSpan(), at.Ticks, t => t) : 0;

    /// <summary>
    /// The items the reader consumed strictly before <paramref name="at"/>, among their latest <paramref name="length"/>
    /// consumptions, each once: serving counts an item read twice once too.
    /// </summary>
    private static IEnumerable<long> ReadBefore(Consumptions history, long userId, DateTime at, int length)
    {
        if (!history.ByReader.TryGetValue(userId, out var read))
            return [];
        var end = CountBefore(read.AsSpan(), at.Ticks, c => c.Ticks);
        return read[Math.Max(0, end - length)..end].Select(c => c.ItemId).Distinct();
    }

    private static int CountBefore<T>(ReadOnlySpan<T> ascending, long ticks, Func<T, long> time)
    {
        int lo = 0, hi = ascending.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (time(ascending[mid]) < ticks)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo;
    }

    internal static (TreeEnsemble Ensemble, RerankerMetrics Metrics) Fit(RerankerOptions options, int modelVersion, List<ServedGroup> lists, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var cut = Math.Clamp((int)Math.Round(lists.Count * (1 - options.HoldoutFraction)), 1, lists.Count - 1);
        var train = lists[..cut];
        var holdout = lists[cut..];
        var ml = new MLContext(seed: 1);

        var measured = Train(ml, options, train, ct);
        var mf = new List<double>();
        var learned = new List<double>();
        foreach (var list in holdout)
        {
            mf.Add(Ndcg(list.Features.Select(x => (double)x[0]).ToArray(), list.Gains, K));
            learned.Add(Ndcg(list.Features.Select(x => measured.Score(x)).ToArray(), list.Gains, K));
        }
        var differences = learned.Zip(mf, (a, b) => a - b).ToArray();
        var mean = differences.Average();
        var se = differences.Length < 2 ? double.PositiveInfinity
            : Math.Sqrt(differences.Sum(d => (d - mean) * (d - mean)) / (differences.Length - 1) / differences.Length);

        ct.ThrowIfCancellationRequested();
        // The served re-ranker learns from every list; the one above only measured.
        var final = Train(ml, options, lists, ct);
        var metrics = new RerankerMetrics(modelVersion, train.Count, holdout.Count, train.Sum(l => (long)l.Gains.Length), holdout[0].ServedAt,
            mf.Average(), learned.Average(), se, clock.Elapsed.TotalSeconds);
        return (final, metrics);
    }

    private sealed class Row
    {
        public uint Group { get; set; }

        public float Label { get; set; }

        public float[] Features { get; set; } = [];
    }

    /// <summary>LightGBM LambdaRank through ML.NET, converted to a <see cref="TreeEnsemble"/> that is checked to give ML.NET's scores.</summary>
    private static TreeEnsemble Train(MLContext ml, RerankerOptions options, IReadOnlyList<ServedGroup> lists, CancellationToken ct)
    {
        var rows = lists.SelectMany((list, g) => list.Features.Select((x, i) => new Row { Group = (uint)g, Label = list.Gains[i], Features = x })).ToList();
        // The vector's length is the feature list's, declared here rather than repeated in an attribute.
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, RerankerFeatures.Count);
        var data = ml.Data.LoadFromEnumerable(rows, schema);
        var keyed = ml.Transforms.Conversion.MapValueToKey("GroupKey", nameof(Row.Group)).Fit(data).Transform(data);
        var trainer = ml.Ranking.Trainers.LightGbm(new LightGbmRankingTrainer.Options
        {
            LabelColumnName = nameof(Row.Label),
            FeatureColumnName = nameof(Row.Features),
            RowGroupColumnName = "GroupKey",
            NumberOfIterations = options.NumberOfIterations,
            NumberOfLeaves = options.NumberOfLeaves,
            MinimumExampleCountPerLeaf = options.MinimumExampleCountPerLeaf,
            LearningRate = options.LearningRate,
            NumberOfThreads = 1,
            Seed = 1,
            Silent = true,
        });
        ct.ThrowIfCancellationRequested();
        var ranker = trainer.Fit(keyed);
        var ensemble = Convert(ranker.Model.TrainedTreeEnsemble);

        // The conversion is only trusted where it reproduces ML.NET's own scores.
        var expected = ranker.Transform(keyed).GetColumn<float>("Score").ToArray();
        for (var i = 0; i < rows.Count; i++)
        {
            var got = ensemble.Score(rows[i].Features);
            if (Math.Abs(got - expected[i]) > 1e-3 * (1 + Math.Abs(expected[i])))
                throw new InvalidOperationException($"The converted tree ensemble scores row {i} {got}, ML.NET {expected[i]}; not storing it.");
        }
        return ensemble;
    }

    private static TreeEnsemble Convert(Microsoft.ML.Trainers.FastTree.RegressionTreeEnsemble trained)
    {
        var trees = trained.Trees.Select((t, i) => new TreeEnsemble.Tree(
            trained.TreeWeights[i],
            [.. t.NumericalSplitFeatureIndexes],
            [.. t.NumericalSplitThresholds],
            [.. t.LeftChild],
            [.. t.RightChild],
            [.. t.LeafValues])).ToList();
        return new TreeEnsemble(RerankerFeatures.Names, trained.Bias, trees);
    }

    /// <summary>NDCG@k with gain 2^g − 1 of the list ordered by <paramref name="scores"/> (ties keep the served order).</summary>
    internal static double Ndcg(double[] scores, int[] gains, int k)
    {
        var order = Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(k);
        var ideal = gains.OrderByDescending(g => g).Take(k).ToArray();
        double Dcg(IEnumerable<int> g) => g.Select((v, r) => (Math.Pow(2, v) - 1) / Math.Log2(r + 2)).Sum();
        var best = Dcg(ideal);
        return best == 0 ? 0 : Dcg(order.Select(i => gains[i])) / best;
    }
}
