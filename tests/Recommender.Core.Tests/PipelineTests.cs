using Recommender.Core.Objectives;

namespace Recommender.Core.Tests;

public sealed class PipelineTests
{
    private static readonly RecommendationPipeline Pipeline =
        new(TestWorld.Model, TestWorld.Catalog, new ObjectiveRegistry(ObjectiveRegistry.BuiltIn()), new PipelineOptions { PersonalCandidates = 40 });

    private static RecommendationRequest Request(UserState user, string objective, ObjectiveParameters? parameters = null) =>
        new(user, objective, parameters ?? ObjectiveParameters.Empty, 10, 3, TestWorld.Now);

    [Fact]
    public void Recommend_consumedAndDismissed_excluded()
    {
        var top = Pipeline.Recommend(Request(TestWorld.UserWithHistory(TestWorld.KnownUser), "engagement")).Items.Select(i => i.ItemId).ToList();
        var request = Request(TestWorld.UserWithHistory(TestWorld.KnownUser, [.. top.Take(3)]), "engagement") with { NotInterested = new HashSet<long> { top[3] } };

        var served = Pipeline.Recommend(request);

        Assert.Equal(10, served.Items.Count);
        Assert.DoesNotContain(served.Items, i => top.Take(4).Contains(i.ItemId));
    }

    [Fact]
    public void Recommend_anyObjective_recordsAuditFields()
    {
        var parameters = ObjectiveParameters.Empty.With("lambda", 0.6);

        var served = Pipeline.Recommend(Request(TestWorld.UserWithHistory(TestWorld.KnownUser, 6), "diversity", parameters));

        Assert.Equal("diversity", served.ObjectiveId);
        Assert.Equal(new DiversityObjective().Version, served.ObjectiveVersion);
        Assert.Equal("fake-1", served.ModelVersion);
        Assert.Equal(new DiversityObjective().Schema.Resolve(parameters).Hash(), served.ParameterHash);
        Assert.Contains("\"lambda\":0.6", served.ParametersJson, StringComparison.Ordinal);
        // Model top-40 plus recent and popular items cover the whole small catalog, minus the one consumed item.
        Assert.Equal(TestWorld.ItemCount - 1, served.CandidatesConsidered);
        Assert.Equal(Enumerable.Range(1, 10), served.Items.Select(i => i.Rank));
        Assert.All(served.Items, i => Assert.NotEmpty(i.Reasons));
        Assert.Equal(10, AuditRecordJson.ReadItems(served.ItemsJson()).Count);
    }

    [Fact]
    public void Recommend_sameInputs_sameList()
    {
        var user = TestWorld.UserWithHistory(TestWorld.KnownUser, 6, 7);

        var a = Pipeline.Recommend(Request(user, "blend"));
        var b = Pipeline.Recommend(Request(user, "blend"));

        Assert.Equal(a.ToJson(), b.ToJson());
    }

    [Fact]
    public void Recommend_noProfilingForDifferentUsers_sameList()
    {
        var a = Pipeline.Recommend(Request(new UserState(TestWorld.KnownUser, [], new Dictionary<string, TopicSkill> { ["physics"] = new("physics", 1600, 9) }), "no_profiling"));
        var b = Pipeline.Recommend(Request(UserState.FromHistory(TestWorld.OtherKnownUser, []), "no_profiling"));

        Assert.Equal(a.Items.Select(i => i.ItemId), b.Items.Select(i => i.ItemId));
        Assert.StartsWith("popularity-", a.ModelVersion, StringComparison.Ordinal);
    }

    [Fact]
    public void Recommend_learningWithChosenTopic_addsTopicCandidates()
    {
        var parameters = ObjectiveParameters.Empty.With("topics", ["cooking"]);

        var served = Pipeline.Recommend(Request(TestWorld.UserWithHistory(TestWorld.KnownUser), "learning", parameters));

        Assert.All(served.Items, i => Assert.Contains("cooking", TestWorld.Catalog[i.ItemId].Topics));
    }

    [Fact]
    public void Recommend_unknownUserWithHistory_isPersonalizedByFoldIn()
    {
        var fan = TestWorld.UserWithHistory(500, 6, 12, 18, 24);

        var served = Pipeline.Recommend(Request(fan, "engagement"));

        // The history is ratings, so the reason says "rated" and names one of the rated items.
        Assert.All(served.Items, i => Assert.Matches("^Because you rated \u201cItem (6|12|18|24)\u201d\\.$", i.Reasons[0]));
    }

    [Fact]
    public void TopIndices_matches_a_full_sort_with_ties_and_exclusions()
    {
        var random = new Random(11);
        var items = Enumerable.Range(1, 3000).Select(i => new ItemInfo(i * 3, $"{i}", $"Item {i}", [], null, null, null, null, null)).ToList();
        var model = new PopularityModel(new Catalog(items));
        // Few distinct values, so many ties reach the heap's threshold.
        var scores = Enumerable.Range(0, model.ItemCount).Select(_ => (float)random.Next(0, 40)).ToArray();
        var exclusions = items.Where((_, i) => i % 7 == 0).Select(i => i.Id).Append(999_999).ToHashSet();

        var top = RecommendationPipeline.TopIndices(scores, model, exclusions, 100);

        var expected = Enumerable.Range(0, model.ItemCount).Where(i => !exclusions.Contains(model.ItemIdAt(i)))
            .OrderByDescending(i => scores[i]).ThenBy(model.ItemIdAt).Take(100).ToList();
        Assert.Equal(expected, top);
    }
}
