using System.Numerics.Tensors;
using Recommender.Factorization;

namespace Recommender.Core.Evaluation;

/// <summary>
/// A simple recommender that scores every item from a user's training positives alone. These are the bars the
/// evaluation holds the MF ranker to (Dacrema et al. 2019; Steck 2019; Cremonesi et al. 2010).
/// </summary>
public interface IBaselineRanker
{
    /// <summary>Adds each item's score for a user whose positives are <paramref name="history"/> (item indices) to <paramref name="scores"/>.</summary>
    void Score(ReadOnlySpan<int> history, Span<float> scores);
}

/// <summary>A baseline with the hyperparameters chosen on the validation split and its NDCG there.</summary>
/// <param name="Id">Baseline id as it appears in the objectives list.</param>
/// <param name="Hyperparameters">The chosen settings.</param>
/// <param name="ValidationNdcg">NDCG@K of the chosen settings on the validation split.</param>
/// <param name="Seed">The evaluation seed it was used with.</param>
public sealed record TunedBaseline(string Id, IReadOnlyDictionary<string, double> Hyperparameters, double ValidationNdcg, int Seed = 0);

/// <summary>Binary positives in both orientations (compressed rows per user and per item), duplicates removed.</summary>
public sealed class Positives
{
    private Positives(int users, int items, int[] userStart, int[] userItems, int[] itemStart, int[] itemUsers)
    {
        Users = users;
        Items = items;
        UserStart = userStart;
        UserItems = userItems;
        ItemStart = itemStart;
        ItemUsers = itemUsers;
    }

    public int Users { get; }

    public int Items { get; }

    internal int[] UserStart { get; }

    internal int[] UserItems { get; }

    internal int[] ItemStart { get; }

    internal int[] ItemUsers { get; }

    public ReadOnlySpan<int> Of(int user) => UserItems.AsSpan(UserStart[user], UserStart[user + 1] - UserStart[user]);

    internal ReadOnlySpan<int> UsersOf(int item) => ItemUsers.AsSpan(ItemStart[item], ItemStart[item + 1] - ItemStart[item]);

    internal int Degree(int item) => ItemStart[item + 1] - ItemStart[item];

    /// <summary>Rows of <paramref name="data"/> with value ≥ <paramref name="threshold"/>, in its index space.</summary>
    public static Positives From(TrainingData data, float threshold)
    {
        ArgumentNullException.ThrowIfNull(data);
        var pairs = new HashSet<long>();
        for (var j = 0; j < data.Count; j++)
        {
            if (data.Values[j] >= threshold)
                pairs.Add(((long)data.UserIndices[j] << 32) | (uint)data.ItemIndices[j]);
        }
        int users = data.Users.Count, items = data.Items.Count;
        var userStart = new int[users + 1];
        var itemStart = new int[items + 1];
        foreach (var p in pairs)
        {
            userStart[(int)(p >> 32) + 1]++;
            itemStart[(int)(p & 0xffffffff) + 1]++;
        }
        for (var u = 0; u < users; u++)
            userStart[u + 1] += userStart[u];
        for (var i = 0; i < items; i++)
            itemStart[i + 1] += itemStart[i];
        var userItems = new int[pairs.Count];
        var itemUsers = new int[pairs.Count];
        var userFill = userStart[..^1];
        var itemFill = itemStart[..^1];
        foreach (var p in pairs.Order())
        {
            int u = (int)(p >> 32), i = (int)(p & 0xffffffff);
            userItems[userFill[u]++] = i;
            itemUsers[itemFill[i]++] = u;
        }
        return new Positives(users, items, userStart, userItems, itemStart, itemUsers);
    }
}

/// <summary>The four baselines, their hyperparameter grids, and tuning on a validation split.</summary>
public static class Baselines
{
    public const string ItemKnn = "itemknn";
    public const string Ease = "ease";
    public const string Rp3Beta = "rp3beta";
    public const string PureSvd = "puresvd";

    public static readonly IReadOnlyList<string> All = [ItemKnn, Ease, Rp3Beta, PureSvd];

    /// <summary>EASE inverts a dense item × item matrix, so it is fitted on the most popular items only (the rest score 0).</summary>
    public const int EaseMaxItems = 2000;

    public static bool IsBaseline(string id) => All.Contains(id, StringComparer.Ordinal);

    /// <summary>The settings tried for a baseline, smallest grid that covers the values the literature reports as best.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, double>> Grid(string id) => id switch
    {
        ItemKnn => [.. from n in new[] { 50.0, 200 } from s in new[] { 0.0, 10, 100 } select Settings(("neighbours", n), ("shrink", s))],
        Rp3Beta => [.. from a in new[] { 0.5, 1.0 } from b in new[] { 0.0, 0.3, 0.6 } select Settings(("alpha", a), ("beta", b), ("neighbours", 200))],
        Ease => [.. new[] { 50.0, 200, 800, 3200 }.Select(l => Settings(("lambda", l)))],
        PureSvd => [.. new[] { 16.0, 48, 128 }.Select(f => Settings(("rank", f)))],
        _ => throw new ArgumentException($"Unknown baseline '{id}'.", nameof(id)),
    };

    private static Dictionary<string, double> Settings(params (string Name, double Value)[] values) =>
        values.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);

    public static IBaselineRanker Fit(string id, Positives x, IReadOnlyDictionary<string, double> h, int seed, int threads)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(h);
        return id switch
        {
            ItemKnn => ItemItem.Build(x, (int)h["neighbours"], threads, _ => 1, (i, j, co) => (float)(co / (Math.Sqrt((double)x.Degree(i) * x.Degree(j)) + h["shrink"]))),
            // P(i→u→j) = deg(i)^-α · deg(u)^-α, then divided by deg(j)^β (Paudel et al. 2017).
            Rp3Beta => ItemItem.Build(x, (int)h["neighbours"], threads, u => Math.Pow(x.UserStart[u + 1] - x.UserStart[u], -h["alpha"]),
                (i, j, w) => (float)(w * Math.Pow(x.Degree(i), -h["alpha"]) / Math.Pow(x.Degree(j), h["beta"]))),
            Ease => EaseModel.Fit(x, h["lambda"], threads),
            PureSvd => SvdModel.Fit(x, (int)h["rank"], seed),
            _ => throw new ArgumentException($"Unknown baseline '{id}'.", nameof(id)),
        };
    }

    /// <summary>
    /// Fits every setting of the grid on <paramref name="validation"/>'s train side and keeps the one with the best NDCG@K
    /// on its test side; <paramref name="validation"/> is carved from the evaluation's training data, never its test data.
    /// </summary>
    public static TunedBaseline Tune(string id, RatingSplit validation, float threshold, int k, int seed, int threads, int maxUsers = 3000)
    {
        ArgumentNullException.ThrowIfNull(validation);
        var x = Positives.From(validation.Train, threshold);
        var relevant = new Dictionary<int, HashSet<int>>();
        var test = validation.Test;
        for (var j = 0; j < test.Count; j++)
        {
            if (test.Values[j] >= threshold)
                (relevant.TryGetValue(test.UserIndices[j], out var set) ? set : relevant[test.UserIndices[j]] = []).Add(test.ItemIndices[j]);
        }
        if (relevant.Count == 0)
            throw new InvalidDataException($"The validation split carved from the training data has no positive ratings, so '{id}' cannot be tuned; the data set is too small.");
        var users = relevant.Keys.OrderBy(u => Ranking.RankingMath.TieBreak(seed, u)).Take(maxUsers).ToArray();
        var consumed = Consumed(validation.Train);
        TunedBaseline? best = null;
        foreach (var h in Grid(id))
        {
            var ranker = Fit(id, x, h, seed, threads);
            var lists = TopLists(ranker, x, consumed, users, k, threads);
            var ndcg = users.Select((u, n) => RankingMetrics.NdcgAtK(lists[n], relevant[u], k)).Average();
            if (best is null || ndcg > best.ValidationNdcg)
                best = new TunedBaseline(id, h, ndcg);
        }
        return best!;
    }

    /// <summary>Every item each user rated in <paramref name="data"/> (liked or not): what a list must not repeat.</summary>
    public static HashSet<int>[] Consumed(TrainingData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var consumed = new HashSet<int>[data.Users.Count];
        for (var j = 0; j < data.Count; j++)
            (consumed[data.UserIndices[j]] ??= []).Add(data.ItemIndices[j]);
        return consumed;
    }

    /// <summary>The best <paramref name="k"/> items for each user, skipping what they consumed, ties to the lower index.</summary>
    public static int[][] TopLists(IBaselineRanker ranker, Positives x, HashSet<int>[] consumed, IReadOnlyList<int> users, int k, int threads)
    {
        ArgumentNullException.ThrowIfNull(ranker);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(consumed);
        ArgumentNullException.ThrowIfNull(users);
        var lists = new int[users.Count][];
        Parallel.For(0, users.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, () => new float[x.Items], (n, _, scores) =>
        {
            Array.Clear(scores);
            var u = users[n];
            ranker.Score(x.Of(u), scores);
            lists[n] = Top(scores, consumed[u], k);
            return scores;
        }, _ => { });
        return lists;
    }

    private static int[] Top(float[] scores, HashSet<int>? skip, int k)
    {
        var best = new List<(float Score, int Index)>(k + 1);
        for (var i = 0; i < scores.Length; i++)
        {
            var s = scores[i];
            if ((best.Count == k && s <= best[^1].Score) || (skip is not null && skip.Contains(i)) || !float.IsFinite(s))
                continue;
            var at = best.Count;
            while (at > 0 && best[at - 1].Score < s)
                at--;
            best.Insert(at, (s, i));
            if (best.Count > k)
                best.RemoveAt(k);
        }
        return [.. best.Select(b => b.Index)];
    }

    /// <summary>A sparse item × item weight matrix, its top neighbours per row: score(j) = Σ over history i of W[i, j].</summary>
    private sealed class ItemItem(int[][] neighbours, float[][] weights) : IBaselineRanker
    {
        public static ItemItem Build(Positives x, int keep, int threads, Func<int, double> userWeight, Func<int, int, double, float> finish)
        {
            var userWeights = Enumerable.Range(0, x.Users).Select(userWeight).ToArray();
            var neighbours = new int[x.Items][];
            var weights = new float[x.Items][];
            Parallel.For(0, x.Items, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) },
                () => (Sum: new double[x.Items], Touched: new List<int>()), (i, _, local) =>
                {
                    var (sum, touched) = local;
                    foreach (var u in x.UsersOf(i))
                    {
                        foreach (var j in x.Of(u))
                        {
                            if (j == i)
                                continue;
                            if (sum[j] == 0)
                                touched.Add(j);
                            sum[j] += userWeights[u];
                        }
                    }
                    var row = touched.Select(j => (j, w: finish(i, j, sum[j]))).OrderByDescending(p => p.w).ThenBy(p => p.j).Take(keep).ToArray();
                    neighbours[i] = [.. row.Select(p => p.j)];
                    weights[i] = [.. row.Select(p => p.w)];
                    foreach (var j in touched)
                        sum[j] = 0;
                    touched.Clear();
                    return local;
                }, _ => { });
            return new ItemItem(neighbours, weights);
        }

        public void Score(ReadOnlySpan<int> history, Span<float> scores)
        {
            foreach (var i in history)
            {
                var n = neighbours[i];
                var w = weights[i];
                for (var a = 0; a < n.Length; a++)
                    scores[n[a]] += w[a];
            }
        }
    }

    /// <summary>EASE (Steck 2019): B = I − P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹, with diag(B) = 0.</summary>
    private sealed class EaseModel(int[] columnOf, int[] items, float[] b) : IBaselineRanker
    {
        public static EaseModel Fit(Positives x, double lambda, int threads)
        {
            var items = Enumerable.Range(0, x.Items).OrderByDescending(x.Degree).ThenBy(i => i).Take(EaseMaxItems).Where(i => x.Degree(i) > 0).ToArray();
            var n = items.Length;
            var columnOf = new int[x.Items];
            Array.Fill(columnOf, -1);
            for (var c = 0; c < n; c++)
                columnOf[items[c]] = c;
            var g = new double[n * n];
            for (var u = 0; u < x.Users; u++)
            {
                var row = x.Of(u).ToArray().Select(i => columnOf[i]).Where(c => c >= 0).ToArray();
                foreach (var a in row)
                {
                    foreach (var c in row)
                        g[a * n + c]++;
                }
            }
            for (var c = 0; c < n; c++)
                g[c * n + c] += lambda;
            InvertSpd(g, n, threads);
            var b = new float[n * n];
            for (var r = 0; r < n; r++)
            {
                for (var c = 0; c < n; c++)
                    b[r * n + c] = r == c ? 0 : (float)(-g[r * n + c] / g[c * n + c]);
            }
            return new EaseModel(columnOf, items, b);
        }

        /// <summary>In-place Gauss–Jordan inverse; no pivoting is needed for a symmetric positive definite matrix.</summary>
        private static void InvertSpd(double[] a, int n, int threads)
        {
            var pivotRow = new double[n];
            for (var p = 0; p < n; p++)
            {
                var pivot = a[p * n + p];
                var row = a.AsSpan(p * n, n);
                row[p] = 1;
                TensorPrimitives.Divide(row, pivot, row);
                row.CopyTo(pivotRow);
                Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, r =>
                {
                    if (r == p)
                        return;
                    var target = a.AsSpan(r * n, n);
                    var factor = target[p];
                    if (factor == 0)
                        return;
                    target[p] = 0;
                    TensorPrimitives.MultiplyAdd(pivotRow, -factor, target, target);
                });
            }
        }

        public void Score(ReadOnlySpan<int> history, Span<float> scores)
        {
            var n = items.Length;
            var sum = new float[n];
            foreach (var i in history)
            {
                var r = columnOf[i];
                if (r >= 0)
                    TensorPrimitives.Add(sum, b.AsSpan(r * n, n), sum);
            }
            for (var c = 0; c < n; c++)
                scores[items[c]] += sum[c];
        }
    }

    /// <summary>PureSVD (Cremonesi et al. 2010): score = x·V·Vᵀ, V the top right singular vectors of X, found by subspace iteration on XᵀX.</summary>
    private sealed class SvdModel(float[] v, int rank, int items) : IBaselineRanker
    {
        public static SvdModel Fit(Positives x, int rank, int seed)
        {
            var m = x.Items;
            rank = Math.Min(rank, Math.Max(1, m));
            var rng = new Random(seed);
            var v = new double[m * rank];
            for (var t = 0; t < v.Length; t++)
                v[t] = rng.NextDouble() - 0.5;
            Orthonormalize(v, m, rank);
            var xv = new double[rank];
            for (var iteration = 0; iteration < 12; iteration++)
            {
                var next = new double[m * rank];
                for (var u = 0; u < x.Users; u++)
                {
                    var row = x.Of(u);
                    if (row.Length == 0)
                        continue;
                    Array.Clear(xv);
                    foreach (var i in row)
                        TensorPrimitives.Add(xv, v.AsSpan(i * rank, rank), xv);
                    foreach (var i in row)
                        TensorPrimitives.Add(next.AsSpan(i * rank, rank), xv, next.AsSpan(i * rank, rank));
                }
                Orthonormalize(next, m, rank);
                v = next;
            }
            return new SvdModel([.. v.Select(d => (float)d)], rank, m);
        }

        /// <summary>Modified Gram–Schmidt on the columns of an m × rank row-major matrix (done on a column-major copy, so each step is one contiguous span).</summary>
        private static void Orthonormalize(double[] a, int m, int rank)
        {
            var columns = new double[m * rank];
            for (var i = 0; i < m; i++)
            {
                for (var c = 0; c < rank; c++)
                    columns[c * m + i] = a[i * rank + c];
            }
            for (var c = 0; c < rank; c++)
            {
                var column = columns.AsSpan(c * m, m);
                for (var prev = 0; prev < c; prev++)
                {
                    var other = columns.AsSpan(prev * m, m);
                    TensorPrimitives.MultiplyAdd(other, -TensorPrimitives.Dot<double>(column, other), column, column);
                }
                var norm = TensorPrimitives.Norm<double>(column);
                if (norm > 0)
                    TensorPrimitives.Divide(column, norm, column);
            }
            for (var i = 0; i < m; i++)
            {
                for (var c = 0; c < rank; c++)
                    a[i * rank + c] = columns[c * m + i];
            }
        }

        public void Score(ReadOnlySpan<int> history, Span<float> scores)
        {
            var user = new float[rank];
            foreach (var i in history)
                TensorPrimitives.Add(user, v.AsSpan(i * rank, rank), user);
            for (var i = 0; i < items; i++)
                scores[i] += TensorPrimitives.Dot(user, v.AsSpan(i * rank, rank));
        }
    }
}
