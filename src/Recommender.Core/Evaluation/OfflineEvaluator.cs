using System.Diagnostics;
using Recommender.Factorization;

namespace Recommender.Core.Evaluation;

/// <summary>Settings of an offline evaluation; each default is the one the CLI documents.</summary>
public sealed record EvaluationOptions
{
    /// <summary>List length the metrics are computed at. Default 10.</summary>
    public int K { get; init; } = 10;

    /// <summary>Seed for training, tie-breaks and the learner simulation. Default 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>
    /// Latent factors of the one-class MF model. Default 8: NDCG is within 1% of rank 16 on both data sets, and at 16
    /// MovieTweetings' closest matches are already so spread out that no list can be 1.3× as varied (see the README).
    /// </summary>
    public int Rank { get; init; } = 8;

    /// <summary>ALS iterations. Default 10.</summary>
    public int Iterations { get; init; } = 10;

    /// <summary>Evaluate at most this many test users (0 = all), taken in a seeded order. Default 0.</summary>
    public int MaxUsers { get; init; }

    /// <summary>Worker threads. Default: all cores.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Objectives to evaluate, in report order. "popularity" is the baseline: engagement scored by popularity alone.</summary>
    public IReadOnlyList<string> Objectives { get; init; } = ["popularity", "engagement", "learning", "diversity", "no_profiling", "blend"];

    /// <summary>Settings per objective id; missing ids use the objective's defaults.</summary>
    public IReadOnlyDictionary<string, ObjectiveParameters> Parameters { get; init; } = new Dictionary<string, ObjectiveParameters>();

    /// <summary>Serving clock, so recency is reproducible. Default 2013-09-01 (end of MovieTweetings-100K).</summary>
    public DateTimeOffset Now { get; init; } = new(2013, 9, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Items below this credibility count as low-credibility. Default 0.4.</summary>
    public double LowCredibility { get; init; } = 0.4;
}

/// <summary>Accuracy and beyond-accuracy measurements for one objective over the test users.</summary>
/// <param name="Objective">Objective id, or "popularity" for the baseline.</param>
/// <param name="Users">Test users measured.</param>
/// <param name="Ndcg">NDCG@K, binary gain: test positives are relevant.</param>
/// <param name="Recall">Recall@K.</param>
/// <param name="Ild">Intra-list diversity: 1 − mean pairwise cosine of item factors.</param>
/// <param name="Coverage">Share of the model's items shown to at least one user.</param>
/// <param name="Novelty">Mean −log2 of the share of training users who rated the item.</param>
/// <param name="Arp">Average recommendation popularity: mean training interactions of shown items.</param>
/// <param name="Aplt">Share of shown items from the long tail (outside the 20% most popular items).</param>
/// <param name="ExposureGini">Gini of position-discounted exposure (1/log2(rank+1)) over the model's items: 0 equal, 1 all on one item.</param>
/// <param name="CalibrationKl">KL divergence from the user's history topic mix to the list's (smoothed 0.01, Steck 2018).</param>
/// <param name="LowCredibilityShare">Share of shown items below the low-credibility threshold; null without credibility data.</param>
/// <param name="MedianMilliseconds">Median time of a whole pipeline call (candidates, objective, record).</param>
public sealed record ObjectiveMetrics(
    string Objective, int Users, double Ndcg, double Recall, double Ild, double Coverage, double Novelty, double Arp, double Aplt,
    double ExposureGini, double CalibrationKl, double? LowCredibilityShare, double MedianMilliseconds);

/// <summary>The result of <see cref="OfflineEvaluator.Run"/>.</summary>
public sealed record EvaluationReport(
    string Data, string ModelVersion, int TrainRows, int TestRows, int TestUsers, EvaluationOptions Options,
    IReadOnlyList<ObjectiveMetrics> Objectives, LearnerSimulationReport? Learners);

/// <summary>
/// Offline comparison of objectives on the global temporal split: trains a one-class MF model on the training
/// positives, serves every test user through the same <see cref="RecommendationPipeline"/> the service uses, and
/// measures each objective's lists.
/// </summary>
public static class OfflineEvaluator
{
    public const string PopularityBaseline = "popularity";

    /// <summary>Trains the evaluation model: one-class ALS on training ratings at or above the data's positive threshold.</summary>
    public static MatrixFactorizationRelevanceModel TrainModel(EvaluationData data, EvaluationOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        var positives = TemporalSplit.Positives(data.Split.Train, data.PositiveThreshold);
        var mfOptions = new MatrixFactorizationOptions
        {
            ApproximationRank = options.Rank,
            NumberOfIterations = options.Iterations,
            LossFunction = LossFunction.SquareLossOneClass,
            NumberOfThreads = options.Threads,
            Seed = options.Seed,
        };
        var model = new MatrixFactorizationTrainer(mfOptions).Fit(positives);
        var popularity = data.Catalog.Items.ToDictionary(i => i.Id, i => data.Catalog.Popularity(i.Id));
        return new MatrixFactorizationRelevanceModel(model, $"mf-oneclass-r{options.Rank}-i{options.Iterations}-s{options.Seed}", popularity);
    }

    public static EvaluationReport Run(EvaluationData data, EvaluationOptions options, LearnerSimulationOptions? learnerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        var model = TrainModel(data, options);
        var registry = new ObjectiveRegistry(ObjectiveRegistry.BuiltIn());
        var pipeline = new RecommendationPipeline(model, data.Catalog, registry);
        var popularityPipeline = new RecommendationPipeline(new PopularityModel(data.Catalog), data.Catalog, registry);

        var users = TestUsers(data, options);
        var metrics = new ListMetrics(model, data.Catalog, data.Split.Train.Users.Count, options.LowCredibility);
        var results = new List<ObjectiveMetrics>();
        foreach (var objective in options.Objectives)
        {
            var (chosenPipeline, id) = objective == PopularityBaseline ? (popularityPipeline, "engagement") : (pipeline, objective);
            var parameters = options.Parameters.TryGetValue(objective, out var p) ? p : ObjectiveParameters.Empty;
            var lists = new int[users.Count][];
            var millis = new double[users.Count];
            Parallel.For(0, users.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Threads) }, j =>
            {
                var clock = Stopwatch.StartNew();
                var served = chosenPipeline.Recommend(new RecommendationRequest(users[j].State, id, parameters, options.K, options.Seed, options.Now));
                millis[j] = clock.Elapsed.TotalMilliseconds;
                lists[j] = [.. served.Items.Select(i => model.TryGetItemIndex(i.ItemId, out var index) ? index : -1).Where(i => i >= 0)];
            });
            var observed = users.Select((u, j) => new ListObservation(lists[j], u.HistoryItems, u.Relevant)).ToList();
            results.Add(metrics.Measure(objective, observed, options.K, Median(millis)));
        }
        var learners = learnerOptions is null ? null : LearnerSimulator.Run(data, model, registry, learnerOptions);
        return new EvaluationReport(data.Name, model.Version, data.Split.Train.Count, data.Split.Test.Count, users.Count, options, results, learners);
    }

    private static double Median(double[] values)
    {
        if (values.Length == 0)
        {
            return 0;
        }
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    internal sealed record TestUser(int Index, UserState State, HashSet<int> Relevant, int[] HistoryItems);

    /// <summary>Users with at least one positive test rating, with their training history as their state.</summary>
    internal static List<TestUser> TestUsers(EvaluationData data, EvaluationOptions options)
    {
        var train = data.Split.Train;
        var test = data.Split.Test;
        var relevant = new Dictionary<int, HashSet<int>>();
        for (var j = 0; j < test.Count; j++)
        {
            if (test.Values[j] >= data.PositiveThreshold)
            {
                (relevant.TryGetValue(test.UserIndices[j], out var set) ? set : relevant[test.UserIndices[j]] = []).Add(test.ItemIndices[j]);
            }
        }
        var history = new Dictionary<int, List<int>>();
        for (var j = 0; j < train.Count; j++)
        {
            if (relevant.ContainsKey(train.UserIndices[j]))
            {
                (history.TryGetValue(train.UserIndices[j], out var list) ? list : history[train.UserIndices[j]] = []).Add(j);
            }
        }
        var ordered = relevant.Keys.Order().ToList();
        if (options.MaxUsers > 0 && ordered.Count > options.MaxUsers)
        {
            ordered = [.. ordered.OrderBy(u => Ranking.RankingMath.TieBreak(options.Seed, u)).Take(options.MaxUsers).Order()];
        }
        var epoch = DateTimeOffset.UnixEpoch;
        return [.. ordered.Select(u =>
        {
            var userId = train.Users.IdAt(u);
            var rows = history.TryGetValue(u, out var r) ? r : [];
            var interactions = rows.Select(j => new Interaction(userId, train.Items.IdAt(train.ItemIndices[j]), EventKind.Rating, train.Values[j], epoch)).ToList();
            var state = new UserState(userId, interactions, new Dictionary<string, TopicSkill>());
            return new TestUser(u, state, relevant[u], [.. rows.Select(j => train.ItemIndices[j])]);
        })];
    }

    /// <summary>Gini coefficient of non-negative values: 0 when all are equal, approaching 1 when one holds everything.</summary>
    public static double Gini(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Order().ToArray();
        var sum = sorted.Sum();
        if (sorted.Length == 0 || sum == 0)
        {
            return 0;
        }
        var weighted = 0.0;
        for (var i = 0; i < sorted.Length; i++)
        {
            weighted += (2.0 * (i + 1) - sorted.Length - 1) * sorted[i];
        }
        return weighted / (sorted.Length * sum);
    }
}
