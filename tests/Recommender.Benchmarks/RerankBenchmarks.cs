using BenchmarkDotNet.Attributes;
using Recommender.Core;
using Recommender.Factorization;

namespace Recommender.Benchmarks;

/// <summary>
/// Re-ranking 500 candidates to 20 with each built-in objective (target: ≤ 1 ms median), and one whole pipeline call
/// (candidate generation over a 3,706-item catalog included) for comparison.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class RerankBenchmarks
{
    private RecommendationPipeline _pipeline = null!;
    private RankingRequest _request = null!;
    private RecommendationRequest _pipelineRequest = null!;
    private IObjective _objective = null!;

    [Params("engagement", "learning", "diversity", "no_profiling", "blend")]
    public string Objective { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        // MovieLens-1M shaped: 3,706 items, 24 topics, a rank-32 model trained on random positives.
        const int items = 3706, users = 2000, topics = 24;
        var rng = new Random(42);
        var catalogItems = Enumerable.Range(1, items).Select(i => new ItemInfo(
            i, i.ToString(System.Globalization.CultureInfo.InvariantCulture), $"Item {i}",
            [$"topic-{i % topics:00}", $"topic-{(i * 7) % topics:00}"], 1 + i % 5, $"s{i % 40}",
            rng.NextDouble(), (i % 10) switch { 0 => -1, 1 => 1, _ => 0 }, DateTimeOffset.UnixEpoch.AddDays(i))).ToList();
        var rows = Enumerable.Range(0, 100_000).Select(_ => ((long)rng.Next(1, users + 1), (long)(1 + (int)(items * Math.Pow(rng.NextDouble(), 2))))).Distinct().ToList();
        var data = TrainingData.FromIds([.. rows.Select(r => r.Item1)], [.. rows.Select(r => r.Item2)], [.. rows.Select(_ => 1f)]);
        var mf = new MatrixFactorizationTrainer(new MatrixFactorizationOptions
        {
            ApproximationRank = 32,
            NumberOfIterations = 3,
            LossFunction = LossFunction.SquareLossOneClass,
            NumberOfThreads = 1,
        }).Fit(data);
        var popularity = rows.GroupBy(r => r.Item2).ToDictionary(g => g.Key, g => g.Count());
        var catalog = new Catalog(catalogItems, popularity);
        var model = new MatrixFactorizationRelevanceModel(mf, "bench", popularity);
        _pipeline = new RecommendationPipeline(model, catalog, new ObjectiveRegistry(ObjectiveRegistry.BuiltIn()));

        var history = rows.Where(r => r.Item1 == 7).Select(r => new Interaction(7, r.Item2, EventKind.Rating, 1, DateTimeOffset.UnixEpoch)).ToList();
        var user = new UserState(7, history, new Dictionary<string, TopicSkill>());
        var parameters = ObjectiveParameters.Empty.With("topics", ["topic-03"]);
        _pipelineRequest = new RecommendationRequest(user, Objective, parameters, 20, 1, DateTimeOffset.UnixEpoch.AddDays(4000));

        // The 500 best candidates for this user, exactly as the pipeline's first stage builds them.
        model.TryGetUserIndex(7, out var u);
        var scores = new float[model.ItemCount];
        model.ScoreAll(u, scores);
        var consumed = history.Select(h => h.ItemId).ToHashSet();
        var candidates = Enumerable.Range(0, model.ItemCount).Where(i => !consumed.Contains(model.ItemIdAt(i)))
            .OrderByDescending(i => scores[i]).Take(500)
            .Select(i => new Candidate(model.ItemIdAt(i), scores[i], model.ItemVector(i))).ToList();
        _request = new RankingRequest(user, parameters, candidates, consumed, catalog, model, true, 20, 1, _pipelineRequest.Now);
        _objective = _pipeline.Objectives[Objective];
    }

    [Benchmark]
    public int Rerank500To20() => _objective.Rank(_request).Count;

    [Benchmark]
    public int WholePipeline() => _pipeline.Recommend(_pipelineRequest).Items.Count;
}
