using Recommender.Core.Ranking;

namespace Recommender.Core.Tests;

public sealed class CatalogTreeTests
{
    private static readonly Dictionary<string, string> Tree = new(StringComparer.Ordinal)
    {
        ["Physics/Optics"] = "Physics",
        ["Physics/Mechanics"] = "Physics",
        ["Biology/Cells"] = "Biology",
    };

    private static ItemInfo Item(long id, params string[] topics) => new(id, $"i{id}", $"Item {id}", topics, null, null, null, null, null);

    [Fact]
    public void TopicDistance_counts_steps_through_the_nearest_common_ancestor()
    {
        var catalog = new Catalog([Item(1, "Physics/Optics")], topicParents: Tree);

        Assert.Equal((0, 1, 2, 4, 2), (catalog.TopicDistance("Physics/Optics", "Physics/Optics"), catalog.TopicDistance("Physics/Optics", "Physics"),
            catalog.TopicDistance("Physics/Optics", "Physics/Mechanics"), catalog.TopicDistance("Physics/Optics", "Biology/Cells"),
            catalog.TopicDistance("Physics", "Biology")));
        Assert.Equal("Physics", catalog.SubjectOf("Physics/Optics"));
        Assert.Equal("Chemistry", catalog.SubjectOf("Chemistry"));
    }

    [Fact]
    public void TopicOverlap_with_a_tree_makes_one_subject_closer_than_another_and_without_one_is_unchanged()
    {
        var tree = new Catalog([Item(1, "Physics/Optics")], topicParents: Tree);
        var flat = new Catalog([Item(1, "Physics/Optics")]);

        Assert.Equal(0.5, RankingMath.TopicOverlap(tree, ["Physics/Optics"], ["Physics/Mechanics"]));
        Assert.Equal(0, RankingMath.TopicOverlap(tree, ["Physics/Optics"], ["Biology/Cells"]));
        Assert.Equal(1, RankingMath.TopicOverlap(tree, ["Physics/Optics"], ["Physics/Optics"]));
        Assert.Equal(RankingMath.TopicOverlap(["A", "B"], ["B", "C"]), RankingMath.TopicOverlap(flat, ["A", "B"], ["B", "C"]));
        Assert.Equal(0, RankingMath.TopicOverlap(flat, ["Physics/Optics"], ["Physics/Mechanics"]));
    }
}
