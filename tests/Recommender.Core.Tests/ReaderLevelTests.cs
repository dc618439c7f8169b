using Recommender.Core.Ranking;

namespace Recommender.Core.Tests;

public sealed class ReaderLevelTests
{
    private static readonly Catalog Catalog = new(
    [
        Item(1, 1, "Physics"),
        Item(2, 3, "Physics", "History"),
        Item(3, 5, "History"),
        Item(4, null, "Physics"),
        Item(5, 4, "Music"),
        Item(6, 2, "Oceans"),
    ]);

    [Fact]
    public void GapTo_compares_with_the_levels_read_in_the_candidates_topics()
    {
        var level = ReaderLevel.Of(Catalog, [1, 2, 4]);

        // Physics was read at levels 1 and 3 (the unlevelled item 4 counts for nothing): a level-4 Physics item is 2 above.
        Assert.Equal(2, level.GapTo(Item(7, 4, "Physics")), 5);
        // Pooled over the topics read: Physics 1, 3 and History 3 give 7/3.
        Assert.Equal(5 - 7.0 / 3, level.GapTo(Item(8, 5, "Physics", "History")), 5);
    }

    [Fact]
    public void GapTo_falls_back_to_everything_read_and_is_unknown_without_levels()
    {
        var level = ReaderLevel.Of(Catalog, [3, 5, 404]);

        // Nothing read in Oceans: the overall mean of levels 5 and 4 (the unknown item 404 is left out).
        Assert.Equal(2 - 4.5, level.GapTo(Catalog.TryGet(6, out var oceans) ? oceans : throw new InvalidOperationException()), 5);
        Assert.Equal(ReaderLevel.Unknown, level.GapTo(Item(9, null, "Music")));
        Assert.Equal(ReaderLevel.Unknown, ReaderLevel.Of(Catalog, [4]).GapTo(Item(10, 3, "Physics")));
        Assert.Equal(ReaderLevel.Unknown, ReaderLevel.None.GapTo(Item(11, 3, "Physics")));
    }

    private static ItemInfo Item(long id, int? level, params string[] topics) =>
        new(id, $"i{id}", $"Item {id}", topics, level, null, null, null, null);
}
