using BenchmarkDotNet.Attributes;
using Recommender.Core;
using Recommender.Core.Ranking;
using Recommender.Factorization;

namespace Recommender.Benchmarks;

/// <summary>
/// Re-ranking 500 candidates to 20 with each built-in objective (target: ≤ 1 ms median), and one whole pipeline call
/// (candidate generation over a 3,706-item catalog included) for comparison, without and with a learned second stage
/// the size the trainer makes by default (100 trees of 15 leaves over every re-ranker feature): the difference is what
/// rescoring the candidates costs a personal feed; and the whole pipeline again over a catalog with 10% more items that
/// arrived after the model was trained (the newest, so they are among the recent candidates), which are scored by their
/// stand-ins (<see cref="NewItems"/>).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class RerankBenchmarks
{
    private RecommendationPipeline _pipeline = null!;
    private RecommendationPipeline _reranked = null!;
    private RecommendationPipeline _withNewItems = null!;
    private Reranker _reranker = null!;
    private ReaderLevel _readerLevel = null!;
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
        _reranker = new Reranker(1, RandomEnsemble(rng, trees: 100, leaves: 15));
        _reranked = new RecommendationPipeline(model, catalog, _pipeline.Objectives, reranker: _reranker);
        _readerLevel = ReaderLevel.Of(catalog, consumed);
        var arrived = Enumerable.Range(items + 1, items / 10).Select(i => new ItemInfo(
            i, i.ToString(System.Globalization.CultureInfo.InvariantCulture), $"Item {i}",
            [$"topic-{i % topics:00}"], 1 + i % 5, $"s{i % 40}", rng.NextDouble(), null, DateTimeOffset.UnixEpoch.AddDays(items + i)));
        _withNewItems = new RecommendationPipeline(model, new Catalog([.. catalogItems, .. arrived], popularity), _pipeline.Objectives);
    }

    // Trees of the trained size with random splits; how the ensemble was learned does not change what it costs to evaluate.
    private static TreeEnsemble RandomEnsemble(Random rng, int trees, int leaves)
    {
        var nodes = leaves - 1;
        var nextLeaf = 0;
        var left = new int[nodes];
        var right = new int[nodes];
        for (var i = 0; i < nodes; i++)
        {
            left[i] = 2 * i + 1 < nodes ? 2 * i + 1 : ~nextLeaf++;
            right[i] = 2 * i + 2 < nodes ? 2 * i + 2 : ~nextLeaf++;
        }
        return new TreeEnsemble(RerankerFeatures.Names, 0, [.. Enumerable.Range(0, trees).Select(_ => new TreeEnsemble.Tree(0.1,
            [.. Enumerable.Range(0, nodes).Select(_ => rng.Next(RerankerFeatures.Count))],
            [.. Enumerable.Range(0, nodes).Select(_ => (float)(rng.NextDouble() * 4 - 1))],
            [.. left], [.. right], [.. Enumerable.Range(0, leaves).Select(_ => rng.NextDouble() - 0.5)]))]);
    }

    [Benchmark]
    public int Rerank500To20() => _objective.Rank(_request).Count;

    [Benchmark]
    public int WholePipeline() => _pipeline.Recommend(_pipelineRequest).Items.Count;

    [Benchmark]
    public int Rescore500() => _reranker.Rescore(_request.Candidates, _request.Catalog, new HashSet<string> { "topic-03" }, _readerLevel, _request.Now).Count;

    [Benchmark]
    public int WholePipelineWith10PercentNewItems() => _withNewItems.Recommend(_pipelineRequest).Items.Count;

    [Benchmark]
    public int WholePipelineWithLearnedSecondStage() => _reranked.Recommend(_pipelineRequest).Items.Count;
}
