using Recommender.Factorization;

namespace Recommender.Core.Tests;

public sealed class MatrixFactorizationRelevanceModelTests
{
    private static MatrixFactorizationRelevanceModel Train()
    {
        // Two taste groups: users 1..10 like items 1..5, users 11..20 like items 6..10.
        var rows = Enumerable.Range(1, 20).SelectMany(u => Enumerable.Range(u <= 10 ? 1 : 6, 5).Select(i => (user: (long)u, item: (long)i))).ToList();
        var data = TrainingData.FromIds([.. rows.Select(r => r.user)], [.. rows.Select(r => r.item)], [.. rows.Select(_ => 1f)]);
        var model = new MatrixFactorizationTrainer(new MatrixFactorizationOptions
        {
            ApproximationRank = 4,
            NumberOfIterations = 10,
            NumberOfThreads = 1,
            LossFunction = LossFunction.SquareLossOneClass,
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
}
