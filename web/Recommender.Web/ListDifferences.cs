namespace Recommender.Web;

/// <summary>How an item's place differs between two ranked lists.</summary>
public enum RankChangeKind
{
    Same,
    Up,
    Down,
    /// <summary>Only in the changed list.</summary>
    New,
    /// <summary>Only in the original list.</summary>
    Dropped,
}

/// <summary>One item's change; <paramref name="By"/> is how many places it moved (0 unless up or down).</summary>
public sealed record RankChange(RankChangeKind Kind, int By)
{
    /// <summary>"up 2", "down 1", "new", "dropped", or empty when the item kept its place.</summary>
    public string Label => Kind switch
    {
        RankChangeKind.Up => $"up {By}",
        RankChangeKind.Down => $"down {By}",
        RankChangeKind.New => "new",
        RankChangeKind.Dropped => "dropped",
        _ => "",
    };
}

/// <summary>Marks what changed between the list a person gets and the list with one thing changed (the counterfactual audit).</summary>
public static class ListDifferences
{
    /// <summary>
    /// For each item of <paramref name="original"/>: kept its place, or dropped. For each item of
    /// <paramref name="changed"/>: new, or how far it moved relative to its place in the original.
    /// </summary>
    public static (IReadOnlyList<RankChange> Original, IReadOnlyList<RankChange> Changed) Compare(IReadOnlyList<long> original, IReadOnlyList<long> changed)
    {
        var before = original.Select((id, rank) => (id, rank)).GroupBy(p => p.id).ToDictionary(g => g.Key, g => g.First().rank);
        var after = changed.Select((id, rank) => (id, rank)).GroupBy(p => p.id).ToDictionary(g => g.Key, g => g.First().rank);
        var left = original.Select(id => after.ContainsKey(id) ? new RankChange(RankChangeKind.Same, 0) : new RankChange(RankChangeKind.Dropped, 0)).ToList();
        var right = changed.Select((id, rank) => !before.TryGetValue(id, out var was) ? new RankChange(RankChangeKind.New, 0)
            : was > rank ? new RankChange(RankChangeKind.Up, was - rank)
            : was < rank ? new RankChange(RankChangeKind.Down, rank - was)
            : new RankChange(RankChangeKind.Same, 0)).ToList();
        return (left, right);
    }
}
