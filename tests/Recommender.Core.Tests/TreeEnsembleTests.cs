using Recommender.Core.Ranking;

namespace Recommender.Core.Tests;

public sealed class TreeEnsembleTests
{
    private static readonly string[] Features = ["a", "b"];

    [Fact]
    public void Score_walks_each_tree_to_its_leaf_and_adds_the_weighted_leaves_to_the_bias()
    {
        // Tree 1: a ≤ 0.5 → leaf 0 (1.0); else b ≤ 2 → leaf 1 (2.0), else leaf 2 (4.0). Tree 2: a single leaf (10).
        var ensemble = new TreeEnsemble(Features, 0.25,
        [
            new TreeEnsemble.Tree(0.5, [0, 1], [0.5f, 2f], [~0, ~1], [1, ~2], [1.0, 2.0, 4.0]),
            new TreeEnsemble.Tree(0.1, [], [], [], [], [10.0]),
        ]);

        Assert.Equal(0.25 + 0.5 * 1.0 + 1.0, ensemble.Score([0.5f, 9f]), 12);
        Assert.Equal(0.25 + 0.5 * 2.0 + 1.0, ensemble.Score([0.6f, 2f]), 12);
        Assert.Equal(0.25 + 0.5 * 4.0 + 1.0, ensemble.Score([0.6f, 2.5f]), 12);
    }

    [Fact]
    public void ScoreAll_gives_each_row_exactly_what_Score_gives_it()
    {
        var random = new Random(3);
        var trees = Enumerable.Range(0, 30).Select(_ => new TreeEnsemble.Tree(random.NextDouble(),
            [random.Next(2), random.Next(2), random.Next(2)], [(float)random.NextDouble(), (float)random.NextDouble(), (float)random.NextDouble()],
            [1, ~0, ~2], [2, ~1, ~3], [random.NextDouble(), random.NextDouble(), random.NextDouble(), random.NextDouble()])).ToList();
        var ensemble = new TreeEnsemble(Features, -0.5, trees);
        var rows = Enumerable.Range(0, 2 * 200).Select(_ => (float)random.NextDouble()).ToArray();

        var scores = new double[200];
        ensemble.ScoreAll(rows, scores);

        Assert.Equal(Enumerable.Range(0, 200).Select(r => ensemble.Score(rows.AsSpan(2 * r, 2))), scores);
        Assert.True(scores.Distinct().Count() > 50, "the rows should reach different leaves");
        Assert.Throws<ArgumentException>(() => ensemble.ScoreAll(rows.AsSpan(1), scores));
    }
}
