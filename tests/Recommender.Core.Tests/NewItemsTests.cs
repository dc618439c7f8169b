using Recommender.Objectives.Fresh;

namespace Recommender.Core.Tests;

/// <summary>Items that arrive after the model was trained: served before the next training, and said to be new.</summary>
public sealed class NewItemsTests
{
    private const long OnPhysics = 1001;
    private const long OnAstronomy = 1002;

    // The test world's model, trained before two items arrived: one on a topic it knows, one on a topic nothing else is on.
    private static readonly Catalog Later = new(
        [
            .. TestWorld.Catalog.Items,
            new ItemInfo(OnPhysics, "ext-new-1", "A new physics item", ["physics"], 2, "source-1", 0.8, null, TestWorld.Now.AddHours(-1)),
            new ItemInfo(OnAstronomy, "ext-new-2", "A new astronomy item", ["astronomy"], 2, "source-1", 0.8, null, TestWorld.Now.AddHours(-2)),
        ],
        TestWorld.Catalog.Items.ToDictionary(i => i.Id, i => TestWorld.Catalog.Popularity(i.Id)));

    private static readonly RecommendationPipeline Pipeline = new(TestWorld.Model, Later, new ObjectiveRegistry(ObjectiveRegistry.BuiltIn()));

    [Fact]
    public void Estimate_ofAnItemOnAKnownTopic_isTheLearnedItemsOnThatTopic()
    {
        var items = new NewItems(TestWorld.Model, Later);

        Assert.Equal(2, items.Count);
        Assert.True(items.TryGet(OnPhysics, out var physics));
        Assert.Equal("physics", physics.Topic);
        var onPhysics = TestWorld.Catalog.ItemsInTopic("physics");
        Assert.Equal(Math.Min(NewItems.MaxPeers, onPhysics.Count), physics.Peers.Length);
        Assert.All(physics.Peers, p => Assert.Contains(TestWorld.Model.ItemIdAt(p), onPhysics));
        for (var d = 0; d < TestWorld.Model.Rank; d++)
        {
            Assert.Equal(physics.Peers.Average(p => TestWorld.Model.ItemVector(p).Span[d]), physics.Vector[d], 4);
        }
        Assert.True(items.TryGet(OnAstronomy, out var astronomy));
        Assert.Null(astronomy.Topic);
        Assert.Equal(NewItems.MaxPeers, astronomy.Peers.Length);
        Assert.False(items.TryGet(1, out _));
    }

    [Fact]
    public void Learning_onATopicOnlyANewItemIsOn_servesIt_andSaysItIsNew()
    {
        var request = new RecommendationRequest(TestWorld.UserWithHistory(TestWorld.KnownUser), "learning",
            ObjectiveParameters.Empty.With("topics", ["astronomy"]), 10, 3, TestWorld.Now);

        var served = Pipeline.Recommend(request);

        var item = Assert.Single(served.Items, i => i.ItemId == OnAstronomy);
        Assert.Equal(1, item.Rank);
        Assert.Contains("New: no one has read it yet, so it is scored like a typical item.", item.Reasons);
        Assert.DoesNotContain(item.Reasons, r => r.Contains("enjoy", StringComparison.OrdinalIgnoreCase) || r.Contains("like it", StringComparison.Ordinal));
    }

    [Fact]
    public void Learning_onALargeTopic_takesItsNewItemsBesideItsMostPopular()
    {
        // Physics has 20 learned items; a topic's list is in popularity order, where an item no one has read is last.
        var pipeline = new RecommendationPipeline(TestWorld.Model, Later, new ObjectiveRegistry(ObjectiveRegistry.BuiltIn()),
            new PipelineOptions { PersonalCandidates = 5, TopicCandidates = 5 });
        var request = new RecommendationRequest(TestWorld.UserWithHistory(TestWorld.KnownUser), "learning",
            ObjectiveParameters.Empty.With("topics", ["physics"]), 200, 3, TestWorld.Now);

        var served = pipeline.Recommend(request);

        Assert.Contains(served.Items, i => i.ItemId == OnPhysics);
        Assert.True(served.CandidatesConsidered <= 11, $"{served.CandidatesConsidered} candidates");
    }

    [Fact]
    public void Engagement_scoresANewItemAsTheMeanOfItsTopic_andClaimsNoOneEnjoyedIt()
    {
        var request = new RecommendationRequest(TestWorld.UserWithHistory(TestWorld.KnownUser), "engagement", ObjectiveParameters.Empty, 200, 3, TestWorld.Now);

        var served = Pipeline.Recommend(request);

        var item = Assert.Single(served.Items, i => i.ItemId == OnPhysics);
        Assert.True(new NewItems(TestWorld.Model, Later).TryGet(OnPhysics, out var estimate));
        TestWorld.Model.TryGetUserIndex(TestWorld.KnownUser, out var user);
        var model = (IRelevanceModel)TestWorld.Model;
        var mean = estimate.Peers.Average(p => (double)model.Score(user, p));
        // Engagement rescales the model's scores to 0..1 over the candidates, an affine map read off two learned items.
        var learned = served.Items.Where(i => i.ItemId < 1000).ToList();
        var (a, b) = (learned[0], learned[^1]);
        Assert.True(model.TryGetItemIndex(a.ItemId, out var ia));
        Assert.True(model.TryGetItemIndex(b.ItemId, out var ib));
        var (ra, rb) = ((double)model.Score(user, ia), (double)model.Score(user, ib));
        var expected = a.Components["relevance"] + (mean - ra) * (b.Components["relevance"] - a.Components["relevance"]) / (rb - ra);
        Assert.InRange(expected, 0.01, 0.99);
        Assert.Equal(expected, item.Components["relevance"], 4);
        Assert.Equal(0, item.Components["popularity"], 9);
        Assert.Equal("New: no one has read it yet, so it is scored like other items on physics.", item.Reasons[0]);
        Assert.DoesNotContain(item.Reasons, r => r.Contains("enjoy", StringComparison.OrdinalIgnoreCase) || r.Contains("Because you", StringComparison.Ordinal));
        // Learned items keep the model's own reasons.
        Assert.DoesNotContain(served.Items.Where(i => i.ItemId != OnPhysics && i.ItemId != OnAstronomy), i => i.Reasons.Any(r => r.StartsWith("New:", StringComparison.Ordinal)));
    }

    [Fact]
    public void WhatsNew_putsAnItemPublishedSinceTheModelWasTrainedFirst()
    {
        var pipeline = new RecommendationPipeline(TestWorld.Model, Later, new ObjectiveRegistry([.. ObjectiveRegistry.BuiltIn(), new FreshObjective()]));
        var request = new RecommendationRequest(TestWorld.UserWithHistory(TestWorld.KnownUser), "fresh",
            ObjectiveParameters.Empty.With("freshness_weight", 1.0), 10, 3, TestWorld.Now);

        var served = pipeline.Recommend(request);

        Assert.Equal([OnPhysics, OnAstronomy], served.Items.Take(2).Select(i => i.ItemId));
        Assert.Contains("New: no one has read it yet, so it is scored like other items on physics.", served.Items[0].Reasons);
    }

    [Fact]
    public void Engagement_forANewcomer_neverSaysManyPeopleEnjoyedANewItem()
    {
        var request = new RecommendationRequest(UserState.FromHistory(99, []), "engagement", ObjectiveParameters.Empty, 200, 3, TestWorld.Now);

        var served = Pipeline.Recommend(request);

        var item = Assert.Single(served.Items, i => i.ItemId == OnPhysics);
        Assert.Equal(0, item.Score, 9);
        Assert.Equal(["New: no one has read it yet, so it is scored like other items on physics."], item.Reasons);
    }
}
