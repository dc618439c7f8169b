using Recommender.Factorization;

namespace Recommender.Core.Tests;

public sealed class MatrixFactorizationRelevanceModelTests
{
    private static MatrixFactorizationRelevanceModel Train(LossFunction loss = LossFunction.SquareLossOneClass)
    {
        // Two taste groups: users 1..10 like items 1..5, users 11..20 like items 6..10.
        var rows = Enumerable.Range(1, 20).SelectMany(u => Enumerable.Range(u <= 10 ? 1 : 6, 5).Select(i => (user: (long)u, item: (long)i))).ToList();
        var data = TrainingData.FromIds([.. rows.Select(r => r.user)], [.. rows.Select(r => r.item)], [.. rows.Select(_ => 1f)]);
        var model = new MatrixFactorizationTrainer(new MatrixFactorizationOptions
        {
            ApproximationRank = 4,
            NumberOfIterations = 10,
            NumberOfThreads = 1,
            LossFunction = loss,
        }).Fit(data);
        return new MatrixFactorizationRelevanceModel(model, "mf-test", rows.GroupBy(r => r.item).ToDictionary(g => g.Key, g => g.Count()));
    }

    [Fact]
    public void ScoreAll_knownUser_matchesInnerModelAndPrefersTheirGroup()
    {
        var model = Train();
        Assert.True(model.TryGetUserIndex(1, out var user));
        var scores = new float[model.ItemCount];

        model.ScoreAll(user, scores);

        model.TryGetItemIndex(2, out var liked);
        model.TryGetItemIndex(8, out var other);
        Assert.Equal(model.Inner.Score(user, liked), scores[liked], 4);
        Assert.True(scores[liked] > scores[other]);
        Assert.Equal(4, model.ItemVector(liked).Length);
        Assert.Equal(10, model.ItemPopularity(liked));
    }

    [Fact]
    public void FoldIn_newUserWithSecondGroupHistory_prefersSecondGroup()
    {
        var model = Train();

        var vector = model.FoldIn([(6, 1f), (7, 1f)])!;
        var scores = new float[model.ItemCount];
        model.ScoreAll(vector, scores);

        model.TryGetItemIndex(9, out var sameGroup);
        model.TryGetItemIndex(2, out var otherGroup);
        Assert.True(scores[sameGroup] > scores[otherGroup]);
        Assert.Null(model.FoldIn([(999, 1f)]));
    }

    [Fact]
    public void FoldInRating_reads_a_rating_as_the_model_trained_on_it()
    {
        var oneClass = Train();
        var ratings = Train(LossFunction.SquareLossRegression);
        var strengths = new MatrixFactorizationRelevanceModel(oneClass.Inner, "mf-test", new Dictionary<long, int>(), positiveRating: null);

        Assert.Equal(((float?)1, (float?)1, (float?)null, (float?)null), (oneClass.FoldInRating(7), oneClass.FoldInRating(10), oneClass.FoldInRating(6.5f), oneClass.FoldInRating(0)));
        Assert.Equal(((float?)3, (float?)9), (ratings.FoldInRating(3), ratings.FoldInRating(9)));
        Assert.Equal((float?)1.6f, strengths.FoldInRating(1.6f));
    }

    [Fact]
    public void Engagement_for_a_new_reader_follows_the_one_rating_they_liked_not_the_three_they_did_not()
    {
        // A reader the model never trained on rated three items of the first group 3 of 10 and one of the second 9 of 10.
        // Read as confidences, the low ratings would outweigh the high one; read as the one-class model learned them, only
        // the liked item says anything, so the second group leads the list.
        var model = Train();
        var items = Enumerable.Range(1, 10).Select(i => new ItemInfo(i, $"ext-{i}", $"Item {i}", [i <= 5 ? "a" : "b"], null, null, null, null, null)).ToList();
        var catalog = new Catalog(items, items.ToDictionary(i => i.Id, _ => 10));
        var pipeline = new RecommendationPipeline(model, catalog, new ObjectiveRegistry(ObjectiveRegistry.BuiltIn()));
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Interaction Rated(long item, double value) => new(99, item, EventKind.Rating, value, now.AddDays(-item));
        var reader = UserState.FromHistory(99, [Rated(1, 3), Rated(2, 3), Rated(3, 3), Rated(6, 9)]);

        var served = pipeline.Recommend(new RecommendationRequest(reader, Objectives.EngagementObjective.ObjectiveId,
            ObjectiveParameters.Empty, 4, 1, now));

        Assert.Equal([7L, 8, 9, 10], served.Items.Take(4).Select(i => i.ItemId).Order());
    }
}
