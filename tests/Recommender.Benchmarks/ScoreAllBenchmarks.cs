using BenchmarkDotNet.Attributes;
using Recommender.Factorization;

namespace Recommender.Benchmarks;

/// <summary>Scoring one user against the whole catalog: the serving path's inner loop (target ≤ 0.5 ms at 50,000 items, k = 64).</summary>
[MemoryDiagnoser]
[MedianColumn]
public class ScoreAllBenchmarks
{
    private MatrixFactorizationModel _model = null!;
    private float[] _scores = [];
    private float[] _userVector = [];

    [Params(50_000)]
    public int Items { get; set; }

    [Params(64)]
    public int Rank { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // One epoch over one rating per item gives non-trivial factors; scoring costs the same as for a fully trained model.
        const int users = 64;
        var random = new Random(1);
        var userIds = new long[Items];
        var itemIds = new long[Items];
        var values = new float[Items];
        for (var j = 0; j < Items; j++)
        {
            userIds[j] = j % users;
            itemIds[j] = j;
            values[j] = 1 + 4 * random.NextSingle();
        }
        var data = TrainingData.FromIds(userIds, itemIds, values);
        _model = new MatrixFactorizationTrainer(new() { ApproximationRank = Rank, NumberOfIterations = 1, NumberOfThreads = 1 }).Fit(data);
        _scores = new float[_model.ItemCount];
        _userVector = _model.UserVector(0).ToArray();
    }

    [Benchmark]
    public void ScoreAll() => _model.ScoreAll(0, _scores);

    [Benchmark]
    public ScoredItem[] TopK100() => _model.TopK(_userVector, 0, 100);
}
