using Recommender.Core.Objectives;
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
    public void An_item_on_a_sub_topic_is_on_its_subject_too_so_learning_a_subject_offers_it()
    {
        // A platform's catalog tags items with the sub-topic alone; a reader chooses the subject.
        var items = Enumerable.Range(1, 12).Select(i => i <= 6 ? Item(i, "Physics/Optics") : Item(i, "Biology/Cells")).Append(Item(13, "Physics", "Physics/Mechanics")).ToList();
        var catalog = new Catalog(items, topicParents: Tree);

        Assert.Equal(["Physics", "Physics/Optics"], catalog[1].Topics);
        Assert.Equal(["Physics", "Physics/Mechanics"], catalog[13].Topics);
        Assert.Equal(7, catalog.ItemsInTopic("Physics").Count);
        Assert.Equal(["i1"], new Catalog([Item(1, "Physics/Optics")]).Items.Select(i => i.ExternalId));
        Assert.Equal(["Physics/Optics"], new Catalog([Item(1, "Physics/Optics")])[1].Topics);

        var candidates = items.Select(i => new Candidate(i.Id, 0.5, ReadOnlyMemory<float>.Empty)).ToList();
        var request = new RankingRequest(UserState.FromHistory(5, []), ObjectiveParameters.Empty.With(CommonParameters.Topics, new[] { "Physics" }).With(CommonParameters.CredibilityFloor, 0.0),
            candidates, new HashSet<long>(), catalog, TestWorld.Model, true, 5, 7, TestWorld.Now);
        var ranked = new LearningObjective().Rank(request);

        Assert.Equal(5, ranked.Count);
        Assert.All(ranked, r => Assert.Contains("Physics", catalog[r.ItemId].Topics));
        Assert.All(ranked, r => Assert.DoesNotContain(r.Reasons, reason => reason.StartsWith("Outside the topics you chose", StringComparison.Ordinal)));
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

    [Fact]
    public void TopicMix_counts_a_subject_carried_beside_its_sub_topics_at_the_subject_level_only()
    {
        var items = new[] { Item(1, "Physics", "Physics/Optics"), Item(2, "Physics", "Physics/Optics", "Physics/Mechanics"), Item(3, "Biology/Cells"), Item(4) };
        var catalog = new Catalog(items, topicParents: Tree);

        var mix = TopicMix.Of(catalog, items);

        Assert.Equal(["Biology/Cells", "Physics/Mechanics", "Physics/Optics"], mix.Topics.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(1.5 / 3, mix.Topics["Physics/Optics"], 12);
        Assert.Equal(1.0 / 3, mix.Topics["Biology/Cells"], 12);
        Assert.Equal((2.0 / 3, 1.0 / 3), (mix.Subjects["Physics"], mix.Subjects["Biology"]));
        Assert.Equal(["Biology/Cells", "Physics/Mechanics", "Physics/Optics"], catalog.LeafTopics);
        Assert.Equal(["Biology", "Physics"], catalog.Subjects);
    }

    [Fact]
    public void CalibrationKl_with_a_tree_counts_a_list_in_another_subject_as_further_off_than_one_on_a_sibling_topic()
    {
        var items = new[] { Item(1, "Physics/Optics"), Item(2, "Physics/Mechanics"), Item(3, "Biology/Cells") };
        var tree = new Catalog(items, topicParents: Tree);
        var flat = new Catalog(items);
        var history = new[] { items[0] };

        var sibling = TopicMix.CalibrationKl(TopicMix.Of(tree, history), TopicMix.Of(tree, [items[1]]));
        var elsewhere = TopicMix.CalibrationKl(TopicMix.Of(tree, history), TopicMix.Of(tree, [items[2]]));
        var same = TopicMix.CalibrationKl(TopicMix.Of(tree, history), TopicMix.Of(tree, history));

        Assert.True(elsewhere > sibling && sibling > same, $"other subject {elsewhere}, sibling topic {sibling}, same {same}");
        Assert.Equal(0, same!.Value, 12);
        // Without a tree there is one level: the KL of the topic mixes alone, -ln(0.01) for a list entirely elsewhere.
        Assert.Equal(-Math.Log(0.01), TopicMix.CalibrationKl(TopicMix.Of(flat, history), TopicMix.Of(flat, [items[1]]))!.Value, 12);
        Assert.Null(TopicMix.CalibrationKl(TopicMix.Empty, TopicMix.Of(flat, history)));
    }

    [Fact]
    public void Diversity_with_a_tree_widens_a_one_subject_reader_into_the_other_subject()
    {
        // Ten physics items more relevant than ten biology ones; the reader has read only physics.
        var items = Enumerable.Range(1, 20).Select(i => i <= 10
            ? Item(i, "Physics", i % 2 == 0 ? "Physics/Optics" : "Physics/Mechanics")
            : Item(i, "Biology", "Biology/Cells")).ToList();
        var catalog = new Catalog(items, topicParents: Tree);
        var user = UserState.FromHistory(5, [new Interaction(5, 1, EventKind.Like, null, TestWorld.Now), new Interaction(5, 2, EventKind.Like, null, TestWorld.Now)]);
        var candidates = items.Where(i => i.Id > 2).Select(i => new Candidate(i.Id, 1.0 - i.Id * 0.01, ReadOnlyMemory<float>.Empty)).ToList();
        var request = new RankingRequest(user, ObjectiveParameters.Empty.With("popularity_weight", 0.0), candidates, new HashSet<long> { 1, 2 },
            catalog, TestWorld.Model, true, 6, 7, TestWorld.Now);

        var ranked = new DiversityObjective().Rank(request);
        var byRelevance = new DiversityObjective().Rank(request with { Parameters = request.Parameters.With("lambda", 1.0).With("variety", 1.0).With("calibration_weight", 0.0) });

        Assert.DoesNotContain(byRelevance, r => catalog[r.ItemId].Topics.Contains("Biology"));
        Assert.Contains(ranked, r => catalog[r.ItemId].Topics.Contains("Biology"));
        Assert.Contains(ranked, r => r.Reasons.FirstOrDefault() == "Widens your mix: you rarely read about Biology.");
    }
}
