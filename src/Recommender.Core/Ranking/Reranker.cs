using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Recommender.Core.Ranking;

/// <summary>
/// The features a re-ranker sees for one (reader, candidate) pair. Training (from served lists) and serving compute
/// them here, so the two can never drift apart.
/// </summary>
public static class RerankerFeatures
{
    /// <summary>Feature names in vector order; stored with a trained ensemble and checked when it loads.</summary>
    public static readonly IReadOnlyList<string> Names = ["mf_score", "log_popularity", "age_days", "topic_match", "credibility", "level_gap"];

    public static int Count => Names.Count;

    /// <summary>
    /// Fills <paramref name="into"/>: the MF score, log(1 + interactions), days since publication (−1 unknown), the
    /// share of the item's topics the reader chose, the source's credibility (−1 unknown), and the item's level minus the
    /// level the reader reads at (<see cref="ReaderLevel.Unknown"/> when either is unknown).
    /// </summary>
    /// <param name="catalog">Item metadata.</param>
    /// <param name="itemId">The candidate.</param>
    /// <param name="mfScore">The MF model's score of the candidate for this reader.</param>
    /// <param name="popularity">The item's interactions up to <paramref name="now"/>: the catalog's count when serving; when
    /// training, the count before the list was served, so the outcomes being learned do not leak into a feature.</param>
    /// <param name="readerTopics">Topics the reader chose.</param>
    /// <param name="readerLevel">What the reader consumed before <paramref name="now"/>, as levels.</param>
    /// <param name="now">When the list is (or was) served.</param>
    /// <param name="into">At least <see cref="Count"/> entries.</param>
    public static void Compute(Catalog catalog, long itemId, double mfScore, int popularity, IReadOnlySet<string> readerTopics, ReaderLevel readerLevel,
        DateTimeOffset now, Span<float> into)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(readerTopics);
        ArgumentNullException.ThrowIfNull(readerLevel);
        into[0] = float.IsFinite((float)mfScore) ? (float)mfScore : 0;
        into[1] = (float)Math.Log(1 + popularity);
        if (catalog.TryGet(itemId, out var item))
        {
            into[2] = item.PublishedAt is { } published ? (float)Math.Max(0, (now - published).TotalDays) : -1;
            into[3] = item.Topics.Count == 0 ? 0 : (float)item.Topics.Count(readerTopics.Contains) / item.Topics.Count;
            into[4] = item.Credibility is { } credibility ? (float)credibility : -1;
            into[5] = readerLevel.GapTo(item);
        }
        else
        {
            into[2] = -1;
            into[3] = 0;
            into[4] = -1;
            into[5] = ReaderLevel.Unknown;
        }
    }
}

/// <summary>
/// A boosted tree ensemble reduced to arrays: score = bias + Σ weightₜ·leaf(treeₜ, x), where a node sends x left when
/// x[feature] ≤ threshold. Immutable and allocation-free to evaluate, so one instance serves every request at once;
/// the trainer checks it reproduces ML.NET's own scores before it is stored.
/// </summary>
public sealed class TreeEnsemble
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly Tree[] _trees;
    private readonly int[] _root;
    private readonly int[] _feature;
    private readonly float[] _threshold;
    private readonly int[] _left;
    private readonly int[] _right;
    private readonly double[] _leaf;

    public TreeEnsemble(IReadOnlyList<string> featureNames, double bias, IReadOnlyList<Tree> trees)
    {
        ArgumentNullException.ThrowIfNull(featureNames);
        ArgumentNullException.ThrowIfNull(trees);
        FeatureNames = [.. featureNames];
        Bias = bias;
        _trees = [.. trees];
        foreach (var tree in _trees)
            tree.Validate(FeatureNames.Count);
        // Every tree's nodes in one set of arrays and every leaf pre-multiplied by its tree's weight: scoring walks a few
        // contiguous arrays instead of six per tree, which is most of what rescoring a feed's candidates costs.
        var nodes = _trees.Sum(t => t.Features.Length);
        _feature = new int[nodes];
        _threshold = new float[nodes];
        _left = new int[nodes];
        _right = new int[nodes];
        _leaf = new double[_trees.Sum(t => t.Leaves.Length)];
        _root = new int[_trees.Length];
        int node = 0, leaf = 0;
        for (var t = 0; t < _trees.Length; t++)
        {
            var tree = _trees[t];
            _root[t] = tree.Features.Length == 0 ? ~leaf : node;
            for (var i = 0; i < tree.Features.Length; i++)
            {
                _feature[node + i] = tree.Features[i];
                _threshold[node + i] = tree.Thresholds[i];
                _left[node + i] = tree.Left[i] >= 0 ? node + tree.Left[i] : ~(leaf + ~tree.Left[i]);
                _right[node + i] = tree.Right[i] >= 0 ? node + tree.Right[i] : ~(leaf + ~tree.Right[i]);
            }
            for (var i = 0; i < tree.Leaves.Length; i++)
                _leaf[leaf + i] = tree.Weight * tree.Leaves[i];
            node += tree.Features.Length;
            leaf += tree.Leaves.Length;
        }
    }

    public IReadOnlyList<string> FeatureNames { get; }

    public double Bias { get; }

    public IReadOnlyList<Tree> Trees => _trees;

    /// <summary>One tree: internal node i splits on <see cref="Features"/>[i] at <see cref="Thresholds"/>[i]; a negative child c is leaf ~c.</summary>
    public sealed record Tree(double Weight, int[] Features, float[] Thresholds, int[] Left, int[] Right, double[] Leaves)
    {
        internal void Validate(int featureCount)
        {
            var nodes = Features.Length;
            if (Thresholds.Length != nodes || Left.Length != nodes || Right.Length != nodes || Leaves.Length != nodes + 1)
                throw new InvalidDataException("A tree's arrays disagree in length.");
            for (var i = 0; i < nodes; i++)
            {
                if (Features[i] < 0 || Features[i] >= featureCount)
                    throw new InvalidDataException($"A tree splits on feature {Features[i]}, but there are {featureCount}.");
                foreach (var child in (ReadOnlySpan<int>)[Left[i], Right[i]])
                {
                    // Children point forward (or to a leaf), so evaluation always ends.
                    if (child >= 0 ? child <= i || child >= nodes : ~child > nodes)
                        throw new InvalidDataException("A tree's child index is out of range.");
                }
            }
        }
    }

    public double Score(ReadOnlySpan<float> features)
    {
        var score = Bias;
        foreach (var root in _root)
            score += _leaf[~Walk(root, features)];
        return score;
    }

    /// <summary>
    /// Scores many rows at once (row r is <paramref name="rows"/>[r·F … r·F + F − 1] for F features), exactly as
    /// <see cref="Score"/> would one by one; tree by tree, so each tree's nodes stay in cache across the rows.
    /// </summary>
    public void ScoreAll(ReadOnlySpan<float> rows, Span<double> scores)
    {
        var width = FeatureNames.Count;
        if (rows.Length != scores.Length * width)
            throw new ArgumentException($"Expected {scores.Length} rows of {width} features.", nameof(rows));
        scores.Fill(Bias);
        foreach (var root in _root)
        {
            for (var r = 0; r < scores.Length; r++)
                scores[r] += _leaf[~Walk(root, rows.Slice(r * width, width))];
        }
    }

    // The leaf (as ~index) that x reaches from a tree's root.
    private int Walk(int node, ReadOnlySpan<float> x)
    {
        while (node >= 0)
            node = x[_feature[node]] <= _threshold[node] ? _left[node] : _right[node];
        return node;
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(new Stored(FeatureNames, Bias, _trees), Json);

    /// <summary>Reads <see cref="ToJson"/>'s output; throws <see cref="InvalidDataException"/> when it is damaged or made for other features.</summary>
    public static TreeEnsemble FromJson(ReadOnlySpan<byte> json)
    {
        Stored? stored;
        try
        {
            stored = JsonSerializer.Deserialize<Stored>(json, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException("The re-ranker payload is not a tree ensemble.", e);
        }
        if (stored?.FeatureNames is null || stored.Trees is null || stored.Trees.Any(t => t is null))
            throw new InvalidDataException("The re-ranker payload is not a tree ensemble.");
        if (!stored.FeatureNames.SequenceEqual(RerankerFeatures.Names))
            throw new InvalidDataException($"The re-ranker was trained on features [{string.Join(", ", stored.FeatureNames)}]; this build computes [{string.Join(", ", RerankerFeatures.Names)}].");
        return new TreeEnsemble(stored.FeatureNames, stored.Bias, stored.Trees);
    }

    private sealed record Stored(
        [property: JsonPropertyName("features")] IReadOnlyList<string> FeatureNames,
        double Bias,
        IReadOnlyList<Tree> Trees);
}

/// <summary>
/// An active learned second stage: rescores the MF candidates of a personal feed so objectives rank by its score
/// instead of MF's. Immutable; one instance serves every request.
/// </summary>
public sealed class Reranker(int version, TreeEnsemble ensemble)
{
    public int Version { get; } = version;

    public TreeEnsemble Ensemble { get; } = ensemble ?? throw new ArgumentNullException(nameof(ensemble));

    /// <summary>The MF model whose scores it learned to refine: beside another model its splits on the MF score mean nothing.</summary>
    public int? ModelVersion { get; init; }

    /// <summary>How served lists name it in the audit log, e.g. "reranker v3".</summary>
    public string Name => $"reranker v{Version}";

    /// <summary>The candidates with <see cref="Candidate.Relevance"/> replaced by the ensemble's score, in the same order.</summary>
    public List<Candidate> Rescore(IReadOnlyList<Candidate> candidates, Catalog catalog, IReadOnlySet<string> readerTopics, ReaderLevel readerLevel, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(catalog);
        var width = RerankerFeatures.Count;
        var rows = ArrayPool<float>.Shared.Rent(candidates.Count * width);
        var scores = ArrayPool<double>.Shared.Rent(candidates.Count);
        try
        {
            for (var i = 0; i < candidates.Count; i++)
            {
                var c = candidates[i];
                RerankerFeatures.Compute(catalog, c.ItemId, c.Relevance, catalog.Popularity(c.ItemId), readerTopics, readerLevel, now, rows.AsSpan(i * width, width));
            }
            Ensemble.ScoreAll(rows.AsSpan(0, candidates.Count * width), scores.AsSpan(0, candidates.Count));
            var rescored = new List<Candidate>(candidates.Count);
            for (var i = 0; i < candidates.Count; i++)
                rescored.Add(candidates[i] with { Relevance = scores[i] });
            return rescored;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rows);
            ArrayPool<double>.Shared.Return(scores);
        }
    }
}
