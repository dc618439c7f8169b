namespace Recommender.Core.Tests;

/// <summary>A small deterministic catalog and factor model every objective test ranks against.</summary>
internal static class TestWorld
{
    public const int ItemCount = 120;
    public const long KnownUser = 1;
    public const long OtherKnownUser = 2;
    public static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly string[] TopicNames = ["film-noir", "physics", "history", "cooking", "music", "politics"];

    public static Catalog Catalog { get; } = BuildCatalog();

    public static FakeFactorModel Model { get; } = new(Catalog);

    /// <summary>Item i: topic (i mod 6), level 1..5, every fourth source below 0.4 credibility, stances on politics.</summary>
    private static Catalog BuildCatalog()
    {
        var items = Enumerable.Range(1, ItemCount).Select(i => new ItemInfo(
            i, $"ext-{i}", $"Item {i}",
            i % 7 == 0 ? [TopicNames[i % 6], TopicNames[(i + 1) % 6]] : [TopicNames[i % 6]],
            1 + i % 5,
            $"source-{i % 4}",
            i % 4 == 0 ? 0.2 : 0.5 + 0.1 * (i % 4),
            TopicNames[i % 6] == "politics" ? (i / 6 % 3) - 1 : null,
            Now.AddDays(-i))).ToList();
        var popularity = items.ToDictionary(i => i.Id, i => 500 / (int)i.Id + (int)(i.Id % 4 == 0 ? 40 : 0));
        return new Catalog(items, popularity);
    }

    public static UserState UserWithHistory(long userId, params long[] consumed) =>
        UserState.FromHistory(userId, [.. consumed.Select((id, n) => new Interaction(userId, id, EventKind.Rating, 8, Now.AddDays(-100 + n)))]);

    public static RankingRequest Request(
        UserState user, ObjectiveParameters? parameters = null, int k = 10, int seed = 7,
        IReadOnlyList<Candidate>? candidates = null, IReadOnlySet<long>? exclusions = null)
    {
        var personalized = user.UserId is { } id && Model.TryGetUserIndex(id, out _);
        return new RankingRequest(user, parameters ?? ObjectiveParameters.Empty, candidates ?? Candidates(user), exclusions ?? new HashSet<long>(user.History.Select(h => h.ItemId)),
            Catalog, Model, personalized, k, seed, Now);
    }

    /// <summary>Every catalog item as a candidate, scored for the user (popularity for unknown users).</summary>
    public static List<Candidate> Candidates(UserState user)
    {
        var scores = new float[Model.ItemCount];
        if (user.UserId is { } id && Model.TryGetUserIndex(id, out var u))
        {
            Model.ScoreAll(u, scores);
        }
        else
        {
            for (var i = 0; i < scores.Length; i++)
            {
                scores[i] = (float)Catalog.PopularityScore(Model.ItemIdAt(i));
            }
        }
        return [.. Enumerable.Range(0, Model.ItemCount).Select(i => new Candidate(Model.ItemIdAt(i), scores[i], Model.ItemVector(i)))];
    }
}

/// <summary>A rank-4 factor model with items clustered by topic, so similarity and diversity are meaningful.</summary>
internal sealed class FakeFactorModel : IRelevanceModel
{
    private const int Dim = 4;
    private readonly long[] _ids;
    private readonly float[] _items;
    private readonly float[] _users;
    private readonly Catalog _catalog;

    public FakeFactorModel(Catalog catalog)
    {
        _catalog = catalog;
        _ids = [.. catalog.Items.Select(i => i.Id)];
        _items = new float[_ids.Length * Dim];
        for (var i = 0; i < _ids.Length; i++)
        {
            var topic = Array.IndexOf(TestWorld.TopicNames, catalog[_ids[i]].Topics[0]);
            for (var d = 0; d < Dim; d++)
            {
                _items[i * Dim + d] = (float)Math.Cos(topic * 1.1 + d * 0.9) + 0.05f * (float)Math.Sin(_ids[i] * (d + 1));
            }
        }
        // User 1 leans towards topic 0's direction, user 2 towards topic 3's.
        _users = [.. _items.AsSpan(0, Dim).ToArray(), .. _items.AsSpan(3 * Dim, Dim).ToArray()];
    }

    public string Version => "fake-1";

    public int Rank => Dim;

    public int ItemCount => _ids.Length;

    public bool TryGetItemIndex(long itemId, out int index)
    {
        index = Array.IndexOf(_ids, itemId);
        return index >= 0;
    }

    public long ItemIdAt(int index) => _ids[index];

    public bool TryGetUserIndex(long userId, out int index)
    {
        index = userId is 1 or 2 ? (int)userId - 1 : -1;
        return index >= 0;
    }

    public ReadOnlyMemory<float> ItemVector(int index) => _items.AsMemory(index * Dim, Dim);

    public ReadOnlyMemory<float> UserVector(int index) => _users.AsMemory(index * Dim, Dim);

    public void ScoreAll(int userIndex, Span<float> scores) => ScoreAll(UserVector(userIndex).Span, scores);

    public void ScoreAll(ReadOnlySpan<float> userVector, Span<float> scores)
    {
        for (var i = 0; i < _ids.Length; i++)
        {
            scores[i] = System.Numerics.Tensors.TensorPrimitives.Dot(userVector, _items.AsSpan(i * Dim, Dim)) + 0.001f * (float)Math.Log(1 + _catalog.Popularity(_ids[i]));
        }
    }

    public float[]? FoldIn(IReadOnlyList<(long ItemId, float Value)> history)
    {
        var vector = new float[Dim];
        var known = history.Where(h => TryGetItemIndex(h.ItemId, out _)).ToList();
        foreach (var (id, _) in known)
        {
            TryGetItemIndex(id, out var index);
            System.Numerics.Tensors.TensorPrimitives.Add(vector, ItemVector(index).Span, vector);
        }
        return known.Count == 0 ? null : vector;
    }

    public int ItemPopularity(int index) => _catalog.Popularity(_ids[index]);
}
