using System.Diagnostics;
using Recommender.Factorization;

namespace Recommender.Core.Evaluation;

/// <summary>Settings of an offline evaluation; each default is the one the CLI documents.</summary>
public sealed record EvaluationOptions
{
    /// <summary>List length the metrics are computed at. Default 10.</summary>
    public int K { get; init; } = 10;

    /// <summary>First seed for training, tie-breaks, the learner simulation and a random split. Default 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Runs, with seeds <see cref="Seed"/>, <see cref="Seed"/> + 1, …; every figure is their mean with its standard deviation. Default 3.</summary>
    public int Seeds { get; init; } = 3;

    /// <summary>How train and test are separated. Default <see cref="SplitKind.Temporal"/>.</summary>
    public SplitKind Split { get; init; } = SplitKind.Temporal;

    /// <summary>
    /// Latent factors of the one-class MF model. Default 8: NDCG is within 1% of rank 16 on both data sets, and at 16
    /// MovieTweetings' closest matches are already so spread out that no list can be 1.3× as varied (see the README).
    /// </summary>
    public int Rank { get; init; } = 8;

    /// <summary>ALS iterations. Default the trainer's (20), as <c>train</c> uses them: what is measured is what is served.</summary>
    public int Iterations { get; init; } = new MatrixFactorizationOptions().NumberOfIterations;

    /// <summary>L2 regularisation of the one-class MF model. Default 0.05 (the trainer's).</summary>
    public double Lambda { get; init; } = 0.05;

    /// <summary>Confidence weight of a positive in one-class ALS. Default 5 (the trainer's).</summary>
    public double Alpha { get; init; } = 5;

    /// <summary>Frequency-scaled (weighted-λ) regularisation. Default false.</summary>
    public bool FrequencyScaled { get; init; }

    /// <summary>
    /// Choose <see cref="Rank"/>, <see cref="Lambda"/> and <see cref="Alpha"/> on the validation split
    /// (<see cref="EngagementTuning"/>), as the baselines are tuned and as <c>train</c> chooses them. Default true; false
    /// uses them as given.
    /// </summary>
    public bool TuneEngagement { get; init; } = true;

    /// <summary>
    /// With <see cref="TuneEngagement"/>, also choose engagement's popularity mix on the validation split. Default false:
    /// engagement is measured with the objective's own defaults, which is what a reader gets.
    /// </summary>
    public bool TuneMix { get; init; }

    /// <summary>
    /// The (rank, λ, α) grid <see cref="TuneEngagement"/> searches: <c>train</c>'s own for the ranking model,
    /// <see cref="RankingSearch.Default"/>; a flag fixes a setting by leaving one value (<see cref="RankingSearch.Except"/>).
    /// </summary>
    public RankingSearch EngagementSearch { get; init; } = RankingSearch.Default;

    /// <summary>Evaluate at most this many test users (0 = all), taken in a seeded order. Default 0.</summary>
    public int MaxUsers { get; init; }

    /// <summary>Worker threads. Default: all cores.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Objectives to evaluate, in report order. "popularity" is engagement scored by popularity alone; "itemknn",
    /// "ease", "rp3beta" and "puresvd" are the <see cref="Baselines"/>, each tuned on the validation split.
    /// </summary>
    public IReadOnlyList<string> Objectives { get; init; } = ["popularity", "itemknn", "ease", "rp3beta", "puresvd", "engagement", "learning", "diversity", "no_profiling", "blend"];

    /// <summary>Settings per objective id; missing ids use the objective's defaults.</summary>
    public IReadOnlyDictionary<string, ObjectiveParameters> Parameters { get; init; } = new Dictionary<string, ObjectiveParameters>();

    /// <summary>Serving clock, so recency is reproducible. Default null: the time of the data set's newest rating.</summary>
    public DateTimeOffset? Now { get; init; }

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
/// <param name="CalibrationKl">KL divergence from the user's history topic mix to the list's (smoothed 0.01, Steck 2018; with a topic tree, the mean over topics and subjects: <see cref="TopicMix"/>).</param>
/// <param name="LowCredibilityShare">Share of shown items below the low-credibility threshold; null without credibility data.</param>
/// <param name="MedianMilliseconds">Median time of a whole pipeline call (candidates, objective, record).</param>
public sealed record ObjectiveMetrics(
    string Objective, int Users, double Ndcg, double Recall, double Ild, double Coverage, double Novelty, double Arp, double Aplt,
    double ExposureGini, double CalibrationKl, double? LowCredibilityShare, double MedianMilliseconds);

/// <summary>The result of <see cref="OfflineEvaluator.Run"/>: means over the seeds, and their standard deviations.</summary>
/// <param name="Data">Data set name.</param>
/// <param name="ModelVersion">The first seed's MF model.</param>
/// <param name="TrainRows">Training rows (first seed's split).</param>
/// <param name="TestRows">Test rows kept.</param>
/// <param name="DroppedTestRows">Test rows dropped for a user or item unseen in training.</param>
/// <param name="TestUsers">Users measured.</param>
/// <param name="Options">The settings, with the serving clock filled in.</param>
/// <param name="Seeds">The seeds run.</param>
/// <param name="Objectives">Each metric's mean over the seeds.</param>
/// <param name="Spread">Each metric's sample standard deviation over the seeds (0 with one seed), in the same order.</param>
/// <param name="Baselines">The hyperparameters each baseline chose on the validation split, per seed.</param>
/// <param name="Learners">Learner simulation means over the seeds; null when skipped.</param>
/// <param name="LearnersSpread">Their standard deviations.</param>
/// <param name="LearnerRuns">Every simulation run (parameter set × simulation seed × evaluation seed); null when skipped.</param>
public sealed record EvaluationReport(
    string Data, string ModelVersion, int TrainRows, int TestRows, int DroppedTestRows, int TestUsers, EvaluationOptions Options, IReadOnlyList<int> Seeds,
    IReadOnlyList<ObjectiveMetrics> Objectives, IReadOnlyList<ObjectiveMetrics> Spread, IReadOnlyList<TunedBaseline> Baselines,
    IReadOnlyList<LearnerResult>? Learners, IReadOnlyList<LearnerResult>? LearnersSpread, IReadOnlyList<LearnerRun>? LearnerRuns = null);

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
        // Implicit strengths are the confidence ALS weighs a positive by; ratings above the threshold are plain positives.
        var positives = data.ImplicitStrength ? data.Split.Train : TemporalSplit.Positives(data.Split.Train, data.PositiveThreshold);
        var model = EngagementTuning.Train(positives, options);
        var popularity = data.Catalog.Items.ToDictionary(i => i.Id, i => data.Catalog.Popularity(i.Id));
        return new MatrixFactorizationRelevanceModel(model, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"mf-oneclass-r{options.Rank}-i{options.Iterations}-l{options.Lambda}{(options.FrequencyScaled ? "w" : "")}-a{options.Alpha}-s{options.Seed}"), popularity,
            data.ImplicitStrength ? null : data.PositiveThreshold);
    }

    /// <summary>
    /// Evaluates <see cref="EvaluationOptions.Seeds"/> times and reports each figure's mean and spread.
    /// <paramref name="load"/> gives the data for a seed; a temporal or newcomers split is loaded once, a random one per seed.
    /// </summary>
    public static EvaluationReport Run(Func<int, EvaluationData> load, EvaluationOptions options, LearnerSimulationOptions? learnerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(load);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Seeds < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.Seeds, "Seeds must be at least 1.");
        var seeds = Enumerable.Range(options.Seed, options.Seeds).ToList();
        EvaluationData? data = null;
        Dictionary<string, TunedBaseline>? tuned = null;
        var runs = new List<SeedRun>();
        foreach (var seed in seeds)
        {
            if (data is null || options.Split == SplitKind.Random)
            {
                data = load(seed);
                // Tuning looks only at the validation split; on a temporal or newcomers split that is the same for every seed.
                tuned = [];
            }
            var seeded = options with { Seed = seed, Now = options.Now ?? data.LastRating };
            // Tuned only when an objective is served by the MF model (baselines and popularity do not use it).
            if (options.TuneEngagement && options.Objectives.Any(o => o != PopularityBaseline && !Baselines.IsBaseline(o)))
            {
                // Like a baseline's, the choice is made once per validation split and reported for every seed.
                if (!tuned!.TryGetValue(EngagementTuning.Id, out var choice))
                    tuned[EngagementTuning.Id] = choice = EngagementTuning.Tune(data, seeded);
                seeded = EngagementTuning.Apply(seeded, choice.Hyperparameters);
            }
            runs.Add(RunOnce(data, seeded, learnerOptions is null ? null : learnerOptions with { Seed = seed }, tuned!));
        }
        var first = runs[0];
        var objectives = Enumerable.Range(0, first.Metrics.Count).Select(o => runs.Select(r => r.Metrics[o]).ToList()).ToList();
        var learners = first.Learners is null ? null : Enumerable.Range(0, first.Learners.Objectives.Count).Select(o => runs.Select(r => r.Learners!.Objectives[o]).ToList()).ToList();
        return new EvaluationReport(
            data!.Name, first.ModelVersion, first.TrainRows, first.TestRows, first.DroppedTestRows, first.TestUsers,
            options with { Now = options.Now ?? data.LastRating }, seeds,
            [.. objectives.Select(m => Summarize(m, Mean))], [.. objectives.Select(m => Summarize(m, StandardDeviation))],
            [.. runs.SelectMany(r => r.Baselines)],
            learners?.Select(l => Summarize(l, Mean)).ToList(), learners?.Select(l => Summarize(l, StandardDeviation)).ToList(),
            first.Learners is null ? null : [.. runs.Zip(seeds).SelectMany(p => p.First.Learners!.Runs.Select(r => r with { ModelSeed = p.Second }))]);
    }

    private sealed record SeedRun(string ModelVersion, int TrainRows, int TestRows, int DroppedTestRows, int TestUsers,
        List<ObjectiveMetrics> Metrics, List<TunedBaseline> Baselines, LearnerSimulationReport? Learners);

    private static SeedRun RunOnce(EvaluationData data, EvaluationOptions options, LearnerSimulationOptions? learnerOptions, Dictionary<string, TunedBaseline> tuned)
    {
        var model = TrainModel(data, options);
        var registry = new ObjectiveRegistry(ObjectiveRegistry.BuiltIn());
        var pipeline = new RecommendationPipeline(model, data.Catalog, registry);
        var popularityPipeline = new RecommendationPipeline(new PopularityModel(data.Catalog), data.Catalog, registry);
        var now = options.Now ?? data.LastRating;

        var users = TestUsers(data, options);
        var metrics = new ListMetrics(model, data.Catalog, data.Split.Train.Users.Count, options.LowCredibility);
        var results = new List<ObjectiveMetrics>();
        var chosen = new List<TunedBaseline>();
        if (options.TuneEngagement && tuned.TryGetValue(EngagementTuning.Id, out var engagement))
            chosen.Add(engagement with { Seed = options.Seed });
        Positives? positives = null;
        HashSet<int>[]? consumed = null;
        foreach (var objective in options.Objectives)
        {
            var lists = new int[users.Count][];
            var millis = new double[users.Count];
            if (Baselines.IsBaseline(objective))
            {
                if (!tuned.TryGetValue(objective, out var baseline))
                    tuned[objective] = baseline = Baselines.Tune(objective, data.Validation, data.PositiveThreshold, options.K, options.Seed, options.Threads);
                chosen.Add(baseline with { Seed = options.Seed });
                positives ??= Positives.From(data.Split.Train, data.PositiveThreshold);
                consumed ??= Baselines.Consumed(data.Split.Train);
                var ranker = Baselines.Fit(objective, positives, baseline.Hyperparameters, options.Seed, options.Threads);
                var clock = Stopwatch.StartNew();
                var top = Baselines.TopLists(ranker, positives, consumed, [.. users.Select(u => u.Index)], options.K, options.Threads);
                Array.Fill(millis, clock.Elapsed.TotalMilliseconds * Math.Max(1, options.Threads) / Math.Max(1, users.Count));
                for (var j = 0; j < users.Count; j++)
                    lists[j] = [.. top[j].Select(i => model.TryGetItemIndex(data.Split.Train.Items.IdAt(i), out var index) ? index : -1).Where(i => i >= 0)];
            }
            else
            {
                var (chosenPipeline, id) = objective == PopularityBaseline ? (popularityPipeline, "engagement") : (pipeline, objective);
                var parameters = options.Parameters.TryGetValue(objective, out var p) ? p : ObjectiveParameters.Empty;
                Parallel.For(0, users.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Threads) }, j =>
                {
                    var clock = Stopwatch.StartNew();
                    var served = chosenPipeline.Recommend(new RecommendationRequest(users[j].State, id, parameters, options.K, options.Seed, now));
                    millis[j] = clock.Elapsed.TotalMilliseconds;
                    lists[j] = ModelIndices(served, model);
                });
            }
            var observed = users.Select((u, j) => new ListObservation(lists[j], u.HistoryItems, u.Relevant)).ToList();
            results.Add(metrics.Measure(objective, observed, options.K, Median(millis)));
        }
        var learners = learnerOptions is null ? null : LearnerSimulator.Run(data, model, registry, learnerOptions);
        return new SeedRun(model.Version, data.Split.Train.Count, data.Split.Test.Count, data.Split.DroppedTestRows, users.Count, results, chosen, learners);
    }

    private static double Mean(IReadOnlyList<double> values) => values.Average();

    /// <summary>Sample standard deviation (n − 1); 0 for a single value.</summary>
    private static double StandardDeviation(IReadOnlyList<double> values)
    {
        if (values.Count < 2)
            return 0;
        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }

    private static ObjectiveMetrics Summarize(List<ObjectiveMetrics> runs, Func<IReadOnlyList<double>, double> f)
    {
        double F(Func<ObjectiveMetrics, double> field) => f([.. runs.Select(field)]);
        var first = runs[0];
        return new ObjectiveMetrics(
            first.Objective, first.Users, F(m => m.Ndcg), F(m => m.Recall), F(m => m.Ild), F(m => m.Coverage), F(m => m.Novelty), F(m => m.Arp), F(m => m.Aplt),
            F(m => m.ExposureGini), F(m => m.CalibrationKl), first.LowCredibilityShare is null ? null : F(m => m.LowCredibilityShare ?? 0), F(m => m.MedianMilliseconds));
    }

    private static LearnerResult Summarize(List<LearnerResult> runs, Func<IReadOnlyList<double>, double> f)
    {
        double F(Func<LearnerResult, double> field) => f([.. runs.Select(field)]);
        return new LearnerResult(runs[0].Objective, runs[0].Learners, F(l => l.MeanItems), F(l => l.MedianItems), F(l => l.MasteredShare));
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

    /// <summary>A served list as the model's item indices, the form the list metrics take; items the model does not know are left out.</summary>
    internal static int[] ModelIndices(ServedList served, MatrixFactorizationRelevanceModel model) =>
        [.. served.Items.Select(i => model.TryGetItemIndex(i.ItemId, out var index) ? index : -1).Where(i => i >= 0)];

    /// <summary>Users with at least one positive test rating, with their training history as their state.</summary>
    internal static List<TestUser> TestUsers(EvaluationData data, EvaluationOptions options) =>
        TestUsers(data.Split.Train, data.Split.Test, data.PositiveThreshold, options.MaxUsers, options.Seed);

    /// <summary>Users of <paramref name="test"/> with a positive, at most <paramref name="maxUsers"/> (0 = all) in a seeded order, with their <paramref name="train"/> history.</summary>
    internal static List<TestUser> TestUsers(TrainingData train, TrainingData test, float threshold, int maxUsers, int seed)
    {
        var relevant = new Dictionary<int, HashSet<int>>();
        for (var j = 0; j < test.Count; j++)
        {
            if (test.Values[j] >= threshold)
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
        if (maxUsers > 0 && ordered.Count > maxUsers)
        {
            ordered = [.. ordered.OrderBy(u => Ranking.RankingMath.TieBreak(seed, u)).Take(maxUsers).Order()];
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
