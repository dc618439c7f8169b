using System.Buffers;
using System.Numerics.Tensors;

namespace Recommender.Factorization;

/// <summary>
/// A trained factorisation: padded row-major user and item factors, biases, and the id maps.
/// Immutable and safe to share between threads; serving loads it once and only scores.
/// </summary>
/// <remarks>
/// Ratings models predict <c>GlobalMean + userBias + itemBias + user·item</c>; one-class models predict
/// <c>user·item</c> (biases and mean are 0), a preference score for ranking, not a probability.
/// </remarks>
public sealed partial class MatrixFactorizationModel
{
    private readonly int _stride;
    private readonly float[] _userFactors;
    private readonly float[] _itemFactors;
    private readonly float[] _userBias;
    private readonly float[] _itemBias;
    private readonly IdMap _users;
    private readonly IdMap _items;
    private readonly MatrixFactorizationOptions _options;
    private readonly float _ratingScale;
    private float[]? _itemNorms;
    private double[]? _gramian;
    private QuantizedItems? _quantized;

    internal MatrixFactorizationModel(
        MatrixFactorizationOptions options, IdMap users, IdMap items, int rank,
        float[] userFactors, float[] itemFactors, float[] userBias, float[] itemBias, float globalMean, float ratingScale)
    {
        _options = options;
        _users = users;
        _items = items;
        Rank = rank;
        _stride = Kernels.StrideFor(rank);
        _userFactors = userFactors;
        _itemFactors = itemFactors;
        _userBias = userBias;
        _itemBias = itemBias;
        GlobalMean = globalMean;
        _ratingScale = ratingScale;
    }

    /// <summary>Length of user and item vectors.</summary>
    public int Rank { get; }

    public int UserCount => _users.Count;

    public int ItemCount => _items.Count;

    /// <summary>Mean training rating (0 for one-class).</summary>
    public float GlobalMean { get; }

    public LossFunction LossFunction => _options.LossFunction;

    /// <summary>A copy of the settings the model was trained with.</summary>
    public MatrixFactorizationOptions Options => _options.Clone();

    public long UserId(int index) => _users.IdAt(index);

    public long ItemId(int index) => _items.IdAt(index);

    /// <summary>Dense index of a user id; throws <see cref="KeyNotFoundException"/> if the user was not in training.</summary>
    public int UserIndex(long id) => _users.IndexOf(id);

    /// <summary>Dense index of an item id; throws <see cref="KeyNotFoundException"/> if unknown.</summary>
    public int ItemIndex(long id) => _items.IndexOf(id);

    public bool TryGetUserIndex(long id, out int index) => _users.TryGetIndex(id, out index);

    public bool TryGetItemIndex(long id, out int index) => _items.TryGetIndex(id, out index);

    /// <summary>The user's factors (length <see cref="Rank"/>).</summary>
    public ReadOnlySpan<float> UserVector(int index) => _userFactors.AsSpan(checked(RowStart(index, UserCount)), Rank);

    /// <summary>The item's factors (length <see cref="Rank"/>).</summary>
    public ReadOnlySpan<float> ItemVector(int index) => _itemFactors.AsSpan(checked(RowStart(index, ItemCount)), Rank);

    public float UserBias(int index) => _userBias[index];

    public float ItemBias(int index) => _itemBias[index];

    /// <summary>The trained user as an embedding, the same shape fold-in returns.</summary>
    public UserEmbedding GetUserEmbedding(int index) => new(UserVector(index).ToArray(), _userBias[index]);

    /// <summary>Predicted rating (or preference score for one-class) of a trained user for an item.</summary>
    public float Score(int user, int item)
    {
        var u = RowStart(user, UserCount);
        var i = RowStart(item, ItemCount);
        return GlobalMean + _userBias[user] + _itemBias[item]
            + Kernels.Dot(_userFactors.AsSpan(u, _stride), _itemFactors.AsSpan(i, _stride), _stride);
    }

    /// <summary>Score from a given user vector (e.g. from fold-in) and bias.</summary>
    public float Score(ReadOnlySpan<float> userVector, float userBias, int item)
    {
        var padded = Span<float>.Empty;
        var user = Pad(userVector, ref padded);
        var i = RowStart(item, ItemCount);
        return GlobalMean + userBias + _itemBias[item] + Kernels.Dot(user, _itemFactors.AsSpan(i, _stride), _stride);
    }

    /// <summary>Scores every item for a trained user; <paramref name="scores"/> must hold <see cref="ItemCount"/> floats.</summary>
    public void ScoreAll(int user, Span<float> scores)
    {
        var u = RowStart(user, UserCount);
        ScoreAllCore(_userFactors.AsSpan(u, _stride), _userBias[user], scores);
    }

    /// <summary>Scores every item for a given user vector and bias.</summary>
    public void ScoreAll(ReadOnlySpan<float> userVector, float userBias, Span<float> scores)
    {
        var padded = Span<float>.Empty;
        ScoreAllCore(Pad(userVector, ref padded), userBias, scores);
    }

    /// <summary>
    /// The <paramref name="k"/> best items for a trained user over the whole catalog, best first (ties: lower index first),
    /// skipping the item indices in <paramref name="exclude"/> (e.g. what the user already has).
    /// </summary>
    public ScoredItem[] TopK(int user, int k, ReadOnlySpan<int> exclude = default)
    {
        var u = RowStart(user, UserCount);
        return TopKCore(_userFactors.AsSpan(u, _stride), _userBias[user], k, exclude);
    }

    /// <summary>Top-k for a given user vector and bias (see <see cref="TopK(int, int, ReadOnlySpan{int})"/>).</summary>
    public ScoredItem[] TopK(ReadOnlySpan<float> userVector, float userBias, int k, ReadOnlySpan<int> exclude = default)
    {
        var padded = Span<float>.Empty;
        return TopKCore(Pad(userVector, ref padded), userBias, k, exclude);
    }

    /// <summary>Cosine similarity of two items' factors (0 if either vector is zero).</summary>
    public float ItemSimilarity(int a, int b)
    {
        var norms = ItemNorms();
        var na = norms[a];
        var nb = norms[b];
        if (na == 0 || nb == 0)
            return 0;
        var dot = Kernels.Dot(_itemFactors.AsSpan(RowStart(a, ItemCount), _stride), _itemFactors.AsSpan(RowStart(b, ItemCount), _stride), _stride);
        return dot / (na * nb);
    }

    /// <summary>The <paramref name="k"/> items most cosine-similar to <paramref name="item"/> (itself excluded), best first.</summary>
    public ScoredItem[] SimilarItems(int item, int k)
    {
        var start = RowStart(item, ItemCount);
        var norms = ItemNorms();
        var buffer = ArrayPool<float>.Shared.Rent(ItemCount);
        try
        {
            var scores = buffer.AsSpan(0, ItemCount);
            Kernels.DotAll(_itemFactors.AsSpan(start, _stride), _itemFactors, _stride, scores);
            var self = norms[item];
            for (var j = 0; j < scores.Length; j++)
            {
                var denominator = self * norms[j];
                scores[j] = denominator == 0 ? 0 : scores[j] / denominator;
            }
            scores[item] = float.NegativeInfinity;
            return SelectTop(scores, k);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// A vector and bias for a user not in training, solved from the item factors without retraining:
    /// ridge least squares with the trainer's regularisation for ratings, the ALS normal equations for one-class.
    /// </summary>
    /// <param name="itemIndices">Items the user interacted with (duplicates count twice).</param>
    /// <param name="values">Rating, or implicit strength for one-class, per item.</param>
    public UserEmbedding FoldIn(ReadOnlySpan<int> itemIndices, ReadOnlySpan<float> values)
    {
        if (itemIndices.Length != values.Length)
            throw new ArgumentException("itemIndices and values must have the same length.", nameof(values));
        foreach (var i in itemIndices)
            RowStart(i, ItemCount);
        return LossFunction == LossFunction.SquareLossOneClass ? FoldInOneClass(itemIndices, values) : FoldInRatings(itemIndices, values);
    }

    /// <summary>Fold-in by item id; ids the model does not know are skipped.</summary>
    public UserEmbedding FoldInIds(ReadOnlySpan<long> itemIds, ReadOnlySpan<float> values)
    {
        if (itemIds.Length != values.Length)
            throw new ArgumentException("itemIds and values must have the same length.", nameof(values));
        var indices = new List<int>(itemIds.Length);
        var kept = new List<float>(itemIds.Length);
        for (var n = 0; n < itemIds.Length; n++)
        {
            if (_items.TryGetIndex(itemIds[n], out var index))
            {
                indices.Add(index);
                kept.Add(values[n]);
            }
        }
        return FoldIn(indices.ToArray(), kept.ToArray());
    }

    private UserEmbedding FoldInRatings(ReadOnlySpan<int> itemIndices, ReadOnlySpan<float> values)
    {
        // Unknowns: k factors and the bias. The SGD trainer regularises per rating in scaled units, which in rating
        // units is λ·n·scale on the factors and a share of λ·n on the bias; using the same penalty puts fold-in where training would.
        var n = Rank + 1;
        var a = new double[n * n];
        var b = new double[n];
        var count = itemIndices.Length;
        if (count == 0)
            return new UserEmbedding(new float[Rank], 0);
        var z = new double[n];
        for (var r = 0; r < count; r++)
        {
            var q = ItemVector(itemIndices[r]);
            for (var d = 0; d < Rank; d++)
                z[d] = q[d];
            z[Rank] = 1;
            var target = values[r] - GlobalMean - _itemBias[itemIndices[r]];
            for (var i = 0; i < n; i++)
            {
                b[i] += z[i] * target;
                for (var j = 0; j <= i; j++)
                    a[i * n + j] += z[i] * z[j];
            }
        }
        var lambda = _options.Lambda * count;
        for (var d = 0; d < Rank; d++)
            a[d * n + d] += lambda * _ratingScale;
        a[Rank * n + Rank] += lambda * SgdSolver.BiasRegularisationShare;
        Symmetrise(a, n);
        LinearAlgebra.SolveSpd(a, b, n);
        var vector = new float[Rank];
        for (var d = 0; d < Rank; d++)
            vector[d] = _options.NonNegative ? Math.Max(0, (float)b[d]) : (float)b[d];
        return new UserEmbedding(vector, (float)b[Rank]);
    }

    private UserEmbedding FoldInOneClass(ReadOnlySpan<int> itemIndices, ReadOnlySpan<float> values)
    {
        var k = Rank;
        var gramian = Gramian();
        var a = new double[k * k];
        Array.Copy(gramian, a, k * k);
        var b = new double[k];
        var c = _options.C;
        var sums = gramian.AsSpan(k * k, k);
        for (var d = 0; d < k; d++)
        {
            a[d * k + d] += _options.Lambda;
            b[d] = c * sums[d];
        }
        for (var r = 0; r < itemIndices.Length; r++)
        {
            var y = ItemVector(itemIndices[r]);
            var confidence = 1 + _options.Alpha * values[r];
            for (var i = 0; i < k; i++)
            {
                b[i] += (confidence - c) * y[i];
                for (var j = 0; j <= i; j++)
                    a[i * k + j] += (confidence - 1) * y[i] * y[j];
            }
        }
        Symmetrise(a, k);
        LinearAlgebra.SolveSpd(a, b, k);
        var vector = new float[k];
        for (var d = 0; d < k; d++)
            vector[d] = _options.NonNegative ? Math.Max(0, (float)b[d]) : (float)b[d];
        return new UserEmbedding(vector, 0);
    }

    /// <summary>YᵀY (k×k) followed by the column sums of Y, computed once on first one-class fold-in.</summary>
    private double[] Gramian()
    {
        return LazyInitializer.EnsureInitialized(ref _gramian, () =>
        {
            var k = Rank;
            var g = new double[k * k + k];
            for (var j = 0; j < ItemCount; j++)
            {
                var y = ItemVector(j);
                for (var i = 0; i < k; i++)
                {
                    g[k * k + i] += y[i];
                    for (var l = 0; l < k; l++)
                        g[i * k + l] += (double)y[i] * y[l];
                }
            }
            return g;
        });
    }

    private static void Symmetrise(double[] a, int n)
    {
        for (var i = 0; i < n; i++)
            for (var j = i + 1; j < n; j++)
                a[i * n + j] = a[j * n + i];
    }

    private float[] ItemNorms() => LazyInitializer.EnsureInitialized(ref _itemNorms, () =>
    {
        var norms = new float[ItemCount];
        for (var j = 0; j < norms.Length; j++)
            norms[j] = TensorPrimitives.Norm(ItemVector(j));
        return norms;
    });

    private void ScoreAllCore(ReadOnlySpan<float> paddedUser, float userBias, Span<float> scores)
    {
        if (scores.Length < ItemCount)
            throw new ArgumentException($"Need room for {ItemCount} scores.", nameof(scores));
        scores = scores[..ItemCount];
        Kernels.DotAll(paddedUser, _itemFactors, _stride, scores);
        if (LossFunction == LossFunction.SquareLossRegression)
        {
            TensorPrimitives.Add(scores, _itemBias, scores);
            TensorPrimitives.Add(scores, GlobalMean + userBias, scores);
        }
        else if (userBias != 0)
        {
            TensorPrimitives.Add(scores, userBias, scores);
        }
    }

    private ScoredItem[] TopKCore(ReadOnlySpan<float> paddedUser, float userBias, int k, ReadOnlySpan<int> exclude)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (ItemCount >= QuantizedItems.MinItems && k <= ItemCount / 8)
            return ScreenedTopK(paddedUser, userBias, k, exclude);
        var buffer = ArrayPool<float>.Shared.Rent(ItemCount);
        try
        {
            var scores = buffer.AsSpan(0, ItemCount);
            ScoreAllCore(paddedUser, userBias, scores);
            foreach (var e in exclude)
            {
                if ((uint)e < (uint)scores.Length)
                    scores[e] = float.NegativeInfinity;
            }
            return SelectTop(scores, k);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>Top-k through the 8-bit screen: exact scores only for the items that may make the cut.</summary>
    private ScoredItem[] ScreenedTopK(ReadOnlySpan<float> paddedUser, float userBias, int k, ReadOnlySpan<int> exclude)
    {
        var quantized = LazyInitializer.EnsureInitialized(ref _quantized, () => new QuantizedItems(_itemFactors, ItemCount, Rank, _stride));
        var excluded = exclude.ToArray();
        Array.Sort(excluded);
        var biased = LossFunction == LossFunction.SquareLossRegression;
        var survivors = quantized.Screen(paddedUser, biased ? _itemBias : [], k, excluded);
        var scored = new List<ScoredItem>(survivors.Count);
        var offset = biased ? GlobalMean + userBias : userBias;
        foreach (var j in survivors)
        {
            var score = Kernels.Dot(paddedUser, _itemFactors.AsSpan(j * _stride, _stride), _stride) + (biased ? _itemBias[j] : 0) + offset;
            if (score > float.NegativeInfinity)
                scored.Add(new ScoredItem(j, score));
        }
        scored.Sort(static (x, y) => x.Score != y.Score ? y.Score.CompareTo(x.Score) : x.ItemIndex.CompareTo(y.ItemIndex));
        return [.. scored.Take(k)];
    }

    /// <summary>Partial selection with a size-k min-heap: O(n log k), no full sort of the catalog. Skips −∞ and NaN.</summary>
    internal static ScoredItem[] SelectTop(ReadOnlySpan<float> scores, int k)
    {
        k = Math.Min(k, scores.Length);
        if (k == 0)
            return [];
        var heap = new ScoredItem[k];
        var size = 0;
        for (var j = 0; j < scores.Length; j++)
        {
            var s = scores[j];
            if (!(s > float.NegativeInfinity))
                continue;
            if (size < k)
            {
                heap[size] = new ScoredItem(j, s);
                SiftUp(heap, size++);
            }
            else if (s > heap[0].Score)
            {
                heap[0] = new ScoredItem(j, s);
                SiftDown(heap, size);
            }
        }
        var result = heap.AsSpan(0, size).ToArray();
        Array.Sort(result, static (x, y) => x.Score != y.Score ? y.Score.CompareTo(x.Score) : x.ItemIndex.CompareTo(y.ItemIndex));
        return result;
    }

    // Heap order: worst on top; among equal scores the higher index is worse, so ties keep the lower index.
    private static bool Worse(ScoredItem a, ScoredItem b) => a.Score < b.Score || (a.Score == b.Score && a.ItemIndex > b.ItemIndex);

    private static void SiftUp(ScoredItem[] heap, int i)
    {
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (!Worse(heap[i], heap[parent]))
                break;
            (heap[i], heap[parent]) = (heap[parent], heap[i]);
            i = parent;
        }
    }

    private static void SiftDown(ScoredItem[] heap, int size)
    {
        var i = 0;
        while (true)
        {
            int l = 2 * i + 1, r = l + 1, worst = i;
            if (l < size && Worse(heap[l], heap[worst]))
                worst = l;
            if (r < size && Worse(heap[r], heap[worst]))
                worst = r;
            if (worst == i)
                return;
            (heap[i], heap[worst]) = (heap[worst], heap[i]);
            i = worst;
        }
    }

    private ReadOnlySpan<float> Pad(ReadOnlySpan<float> vector, ref Span<float> padded)
    {
        if (vector.Length != Rank)
            throw new ArgumentException($"User vector must have length {Rank}.", "userVector");
        if (Rank == _stride)
            return vector;
        padded = new float[_stride];
        vector.CopyTo(padded);
        return padded;
    }

    private int RowStart(int index, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        return index * _stride;
    }
}
