namespace Recommender.Factorization;

/// <summary>Averages over test users from <see cref="RankingMetrics.Evaluate"/>.</summary>
public sealed record RankingReport(int K, int Users, double Ndcg, double Recall, double MeanAveragePrecision, double CatalogCoverage)
{
    /// <summary>Each evaluated user's NDCG@k, by user index: what <see cref="Ndcg"/> averages, for a paired comparison with another ranking.</summary>
    public IReadOnlyDictionary<int, double> NdcgByUser { get; init; } = new Dictionary<int, double>();
}

/// <summary>
/// Offline accuracy metrics. Ranking metrics use binary relevance over the full catalog (never sampled negatives),
/// which is the protocol the benchmarks compare against LIBMF with.
/// </summary>
public static class RankingMetrics
{
    /// <summary>Root mean squared error.</summary>
    public static double Rmse(ReadOnlySpan<float> predicted, ReadOnlySpan<float> actual)
    {
        RequireSameLength(predicted, actual);
        double sum = 0;
        for (var j = 0; j < predicted.Length; j++)
        {
            double e = predicted[j] - actual[j];
            sum += e * e;
        }
        return Math.Sqrt(sum / predicted.Length);
    }

    /// <summary>Mean absolute error.</summary>
    public static double Mae(ReadOnlySpan<float> predicted, ReadOnlySpan<float> actual)
    {
        RequireSameLength(predicted, actual);
        double sum = 0;
        for (var j = 0; j < predicted.Length; j++)
            sum += Math.Abs(predicted[j] - actual[j]);
        return sum / predicted.Length;
    }

    /// <summary>NDCG@k with binary gain and log2 discount: DCG over the first k ranked items divided by the ideal DCG.</summary>
    public static double NdcgAtK(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k)
    {
        ArgumentNullException.ThrowIfNull(relevant);
        if (relevant.Count == 0)
            return 0;
        double dcg = 0, ideal = 0;
        var limit = Math.Min(k, ranked.Length);
        for (var pos = 0; pos < limit; pos++)
        {
            if (relevant.Contains(ranked[pos]))
                dcg += 1 / Math.Log2(pos + 2);
        }
        for (var pos = 0; pos < Math.Min(k, relevant.Count); pos++)
            ideal += 1 / Math.Log2(pos + 2);
        return dcg / ideal;
    }

    /// <summary>Recall@k: relevant items in the first k, over all relevant items.</summary>
    public static double RecallAtK(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k)
    {
        ArgumentNullException.ThrowIfNull(relevant);
        return relevant.Count == 0 ? 0 : (double)Hits(ranked, relevant, k) / relevant.Count;
    }

    /// <summary>Average precision@k: mean of precision at each hit in the first k, over min(k, relevant).</summary>
    public static double AveragePrecisionAtK(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k)
    {
        ArgumentNullException.ThrowIfNull(relevant);
        if (relevant.Count == 0)
            return 0;
        double sum = 0;
        var hits = 0;
        var limit = Math.Min(k, ranked.Length);
        for (var pos = 0; pos < limit; pos++)
        {
            if (relevant.Contains(ranked[pos]))
                sum += (double)++hits / (pos + 1);
        }
        return sum / Math.Min(k, relevant.Count);
    }

    /// <summary>Share of the catalog that appears in at least one list.</summary>
    public static double CatalogCoverage(IEnumerable<IReadOnlyList<int>> lists, int catalogSize)
    {
        ArgumentNullException.ThrowIfNull(lists);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(catalogSize);
        var seen = new HashSet<int>();
        foreach (var list in lists)
            seen.UnionWith(list);
        return (double)seen.Count / catalogSize;
    }

    /// <summary>
    /// RMSE and MAE of <paramref name="model"/> on every test row (users and items must be in the model), the same
    /// figures as <see cref="Rmse"/> and <see cref="Mae"/> on <see cref="Predict"/>, without an array of predictions
    /// or of the test values: on 20M ratings those two were the last 15 MB of the bench's peak.
    /// </summary>
    public static (double Rmse, double Mae) Errors(MatrixFactorizationModel model, TrainingData test)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(test);
        double squares = 0, absolutes = 0;
        for (var j = 0; j < test.Count; j++)
        {
            double e = model.Score(test.UserIndices[j], test.ItemIndices[j]) - test.Value(j);
            squares += e * e;
            absolutes += Math.Abs(e);
        }
        return (Math.Sqrt(squares / test.Count), absolutes / test.Count);
    }

    /// <summary>Predicted value of every test row (users and items must be in the model).</summary>
    public static float[] Predict(MatrixFactorizationModel model, TrainingData test)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(test);
        var predicted = new float[test.Count];
        for (var j = 0; j < predicted.Length; j++)
            predicted[j] = model.Score(test.UserIndices[j], test.ItemIndices[j]);
        return predicted;
    }

    /// <summary>
    /// Ranks the whole catalog for every user with a test row, excluding the user's <paramref name="train"/> items,
    /// and averages NDCG@k, Recall@k and MAP@k over those users; coverage is over all their lists.
    /// Every test row counts as relevant (filter the test set first for a threshold).
    /// </summary>
    public static RankingReport Evaluate(MatrixFactorizationModel model, TrainingData train, TrainingData test, int k, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var relevant = GroupByUser(test, model.UserCount);
        var seen = GroupByUser(train, model.UserCount);
        var evaluated = Enumerable.Range(0, model.UserCount).Where(u => relevant[u] is not null).ToArray();
        var ndcg = new double[evaluated.Length];
        var recall = new double[evaluated.Length];
        var map = new double[evaluated.Length];
        var lists = new int[evaluated.Length][];
        Parallel.For(0, evaluated.Length, new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount }, j =>
        {
            var u = evaluated[j];
            var exclude = seen[u] is { } s ? s.ToArray() : [];
            var top = model.TopK(u, k, exclude);
            var ranked = Array.ConvertAll(top, t => t.ItemIndex);
            var rel = relevant[u]!;
            ndcg[j] = NdcgAtK(ranked, rel, k);
            recall[j] = RecallAtK(ranked, rel, k);
            map[j] = AveragePrecisionAtK(ranked, rel, k);
            lists[j] = ranked;
        });
        var count = Math.Max(1, evaluated.Length);
        var byUser = new Dictionary<int, double>(evaluated.Length);
        for (var j = 0; j < evaluated.Length; j++)
            byUser[evaluated[j]] = ndcg[j];
        return new RankingReport(k, evaluated.Length, ndcg.Sum() / count, recall.Sum() / count, map.Sum() / count,
            CatalogCoverage(lists, Math.Max(1, model.ItemCount)))
        { NdcgByUser = byUser };
    }

    /// <summary>
    /// Standard error of the mean per-user difference between two rankings' scores (NDCG@k, say), over the users both
    /// measured: how far the gap between them could move by chance of which users were measured. Null under two users.
    /// </summary>
    public static double? PairedStandardError(IReadOnlyDictionary<int, double> a, IReadOnlyDictionary<int, double> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var gaps = a.Where(p => b.ContainsKey(p.Key)).Select(p => p.Value - b[p.Key]).ToArray();
        if (gaps.Length < 2)
            return null;
        var mean = gaps.Average();
        var variance = gaps.Sum(g => (g - mean) * (g - mean)) / (gaps.Length - 1);
        return Math.Sqrt(variance / gaps.Length);
    }

    private static HashSet<int>?[] GroupByUser(TrainingData data, int users)
    {
        var groups = new HashSet<int>?[users];
        for (var j = 0; j < data.Count; j++)
            (groups[data.UserIndices[j]] ??= []).Add(data.ItemIndices[j]);
        return groups;
    }

    private static int Hits(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k)
    {
        var hits = 0;
        var limit = Math.Min(k, ranked.Length);
        for (var pos = 0; pos < limit; pos++)
        {
            if (relevant.Contains(ranked[pos]))
                hits++;
        }
        return hits;
    }

    private static void RequireSameLength(ReadOnlySpan<float> predicted, ReadOnlySpan<float> actual)
    {
        if (predicted.Length != actual.Length)
            throw new ArgumentException("predicted and actual must have the same length.", nameof(actual));
        if (predicted.IsEmpty)
            throw new ArgumentException("No values to compare.", nameof(actual));
    }
}
