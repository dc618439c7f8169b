using System.Security.Cryptography;

namespace Recommender.Core;

/// <summary>
/// What the ranking pipeline needs from a trained model. Implementations are immutable after loading and shared
/// across requests; nothing here allocates per call except where a caller-supplied span is filled.
/// </summary>
public interface IRelevanceModel
{
    /// <summary>Identifies the trained artefact; recorded with every served list.</summary>
    string Version { get; }

    /// <summary>Number of latent factors; 0 for models without embeddings.</summary>
    int Rank { get; }

    int ItemCount { get; }

    bool TryGetItemIndex(long itemId, out int index);

    long ItemIdAt(int index);

    bool TryGetUserIndex(long userId, out int index);

    /// <summary>The item's factor vector (empty when <see cref="Rank"/> is 0).</summary>
    ReadOnlyMemory<float> ItemVector(int index);

    /// <summary>The user's factor vector (empty when <see cref="Rank"/> is 0).</summary>
    ReadOnlyMemory<float> UserVector(int index);

    /// <summary>Predicted relevance of every item for a known user, biases included; <paramref name="scores"/> has <see cref="ItemCount"/> entries.</summary>
    void ScoreAll(int userIndex, Span<float> scores);

    /// <summary>Predicted relevance of every item for a folded-in user vector (a user the model has not seen in training).</summary>
    void ScoreAll(ReadOnlySpan<float> userVector, Span<float> scores);

    /// <summary>
    /// The <paramref name="n"/> best items for a known user, best first, with their <see cref="ScoreAll(int, Span{float})"/>
    /// scores, skipping the item indices in <paramref name="excludedIndices"/> (sorted). Null when the model has no
    /// faster way than scoring every item, which is what the pipeline then does.
    /// </summary>
    IReadOnlyList<(int Index, float Score)>? TryBest(int userIndex, int n, ReadOnlySpan<int> excludedIndices) => null;

    /// <summary>As <see cref="TryBest(int, int, ReadOnlySpan{int})"/>, for a folded-in user vector.</summary>
    IReadOnlyList<(int Index, float Score)>? TryBest(ReadOnlySpan<float> userVector, int n, ReadOnlySpan<int> excludedIndices) => null;

    /// <summary>One item's score for a known user, as <see cref="ScoreAll(int, Span{float})"/> would give it.</summary>
    float Score(int userIndex, int itemIndex)
    {
        var scores = new float[ItemCount];
        ScoreAll(userIndex, scores);
        return scores[itemIndex];
    }

    /// <summary>One item's score for a folded-in user vector.</summary>
    float Score(ReadOnlySpan<float> userVector, int itemIndex)
    {
        var scores = new float[ItemCount];
        ScoreAll(userVector, scores);
        return scores[itemIndex];
    }

    /// <summary>A user vector for someone the model has not trained on, from (item id, value) pairs; null when none of the items is known or the model has no factors.</summary>
    float[]? FoldIn(IReadOnlyList<(long ItemId, float Value)> history);

    /// <summary>
    /// The value a rating folds in with, read as the model was trained on ratings: the rating itself for a model of
    /// ratings; for a one-class model trained on positive ratings, 1 for a positive and null for a lower rating, which is
    /// no preference and is left out.
    /// </summary>
    float? FoldInRating(float rating) => rating;

    /// <summary>Training interactions of the item: the popularity prior for users the model does not know.</summary>
    int ItemPopularity(int index);
}

/// <summary>
/// A model without personalisation: every user gets log-popularity. Serves before any model is trained and
/// backs the no-profiling objective, which must not use a personal vector.
/// </summary>
public sealed class PopularityModel : IRelevanceModel
{
    private readonly long[] _ids;
    private readonly int[] _counts;
    private readonly float[] _scores;
    private readonly Dictionary<long, int> _index;

    public PopularityModel(Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        _ids = [.. catalog.Items.Select(i => i.Id)];
        _counts = [.. _ids.Select(catalog.Popularity)];
        _scores = [.. _counts.Select(c => (float)Math.Log(1 + c))];
        _index = _ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        var bytes = new byte[_ids.Length * 12];
        for (var i = 0; i < _ids.Length; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 12), _ids[i]);
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 12 + 8), _counts[i]);
        }
        Version = "popularity-" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..12];
    }

    public string Version { get; }

    public int Rank => 0;

    public int ItemCount => _ids.Length;

    public bool TryGetItemIndex(long itemId, out int index) => _index.TryGetValue(itemId, out index);

    public long ItemIdAt(int index) => _ids[index];

    public bool TryGetUserIndex(long userId, out int index)
    {
        index = -1;
        return false;
    }

    public ReadOnlyMemory<float> ItemVector(int index) => ReadOnlyMemory<float>.Empty;

    public ReadOnlyMemory<float> UserVector(int index) => ReadOnlyMemory<float>.Empty;

    public void ScoreAll(int userIndex, Span<float> scores) => _scores.CopyTo(scores);

    public float Score(int userIndex, int itemIndex) => _scores[itemIndex];

    public float Score(ReadOnlySpan<float> userVector, int itemIndex) => _scores[itemIndex];

    public void ScoreAll(ReadOnlySpan<float> userVector, Span<float> scores) => _scores.CopyTo(scores);

    public float[]? FoldIn(IReadOnlyList<(long ItemId, float Value)> history) => null;

    public int ItemPopularity(int index) => _counts[index];
}
