using Recommender.Factorization;

namespace Recommender.Core;

/// <summary>Adapts the factorisation engine's trained model to what the ranking pipeline needs.</summary>
public sealed class MatrixFactorizationRelevanceModel : IRelevanceModel
{
    private readonly MatrixFactorizationModel _model;
    private readonly float[] _itemFactors;
    private readonly int[] _popularity;
    private readonly float? _positiveRating;

    /// <param name="model">The trained model; shared, never modified.</param>
    /// <param name="version">Identifies the trained artefact in the audit log.</param>
    /// <param name="popularity">Training interactions per item id, the prior for users the model does not know.</param>
    /// <param name="positiveRating">For a one-class model, the rating at or above which a rating was a positive in training
    /// (<see cref="ImplicitFeedback.PositiveRating"/> on the product's scale); a folded-in rating is read the same way.
    /// Null when the values it trained on were implicit strengths, which fold in as they are.</param>
    public MatrixFactorizationRelevanceModel(MatrixFactorizationModel model, string version, IReadOnlyDictionary<long, int> popularity,
        float? positiveRating = ImplicitFeedback.PositiveRating)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(popularity);
        _model = model;
        Version = version;
        _positiveRating = positiveRating;
        // A compact copy of the item factors lets candidates carry their embedding as memory without per-request copies.
        _itemFactors = new float[model.ItemCount * model.Rank];
        _popularity = new int[model.ItemCount];
        for (var i = 0; i < model.ItemCount; i++)
        {
            model.ItemVector(i).CopyTo(_itemFactors.AsSpan(i * model.Rank, model.Rank));
            _popularity[i] = popularity.TryGetValue(model.ItemId(i), out var n) ? n : 0;
        }
    }

    public MatrixFactorizationModel Inner => _model;

    public string Version { get; }

    public int Rank => _model.Rank;

    public int ItemCount => _model.ItemCount;

    public bool TryGetItemIndex(long itemId, out int index) => _model.TryGetItemIndex(itemId, out index);

    public long ItemIdAt(int index) => _model.ItemId(index);

    public bool TryGetUserIndex(long userId, out int index) => _model.TryGetUserIndex(userId, out index);

    public ReadOnlyMemory<float> ItemVector(int index) => _itemFactors.AsMemory(index * Rank, Rank);

    public ReadOnlyMemory<float> UserVector(int index) => _model.UserVector(index).ToArray();

    public void ScoreAll(int userIndex, Span<float> scores) => _model.ScoreAll(userIndex, scores);

    public void ScoreAll(ReadOnlySpan<float> userVector, Span<float> scores) => _model.ScoreAll(userVector, 0, scores);

    public IReadOnlyList<(int Index, float Score)>? TryBest(int userIndex, int n, ReadOnlySpan<int> excludedIndices) =>
        [.. _model.TopK(userIndex, n, excludedIndices).Select(s => (s.ItemIndex, s.Score))];

    public IReadOnlyList<(int Index, float Score)>? TryBest(ReadOnlySpan<float> userVector, int n, ReadOnlySpan<int> excludedIndices) =>
        [.. _model.TopK(userVector, 0, n, excludedIndices).Select(s => (s.ItemIndex, s.Score))];

    public float Score(int userIndex, int itemIndex) => _model.Score(userIndex, itemIndex);

    public float Score(ReadOnlySpan<float> userVector, int itemIndex) => _model.Score(userVector, 0, itemIndex);

    public float[]? FoldIn(IReadOnlyList<(long ItemId, float Value)> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var ids = history.Where(h => _model.TryGetItemIndex(h.ItemId, out _)).ToList();
        return ids.Count == 0 ? null : _model.FoldInIds([.. ids.Select(h => h.ItemId)], [.. ids.Select(h => h.Value)]).Vector;
    }

    public float? FoldInRating(float rating) =>
        _model.LossFunction != LossFunction.SquareLossOneClass || _positiveRating is not { } positive ? rating : rating >= positive ? 1 : null;

    public int ItemPopularity(int index) => _popularity[index];
}
