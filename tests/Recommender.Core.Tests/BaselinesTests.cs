using Recommender.Core.Evaluation;
using Recommender.Factorization;

namespace Recommender.Core.Tests;

public sealed class BaselinesTests
{
    /// <summary>
    /// Two taste groups of 150 items each: each of 100 users per group likes 60 random items of their own group, and
    /// item 0 is liked by everyone. A new user who liked ten group-A items must be shown group-A items only.
    /// </summary>
    private static (TrainingData Data, Positives X, int Probe) World()
    {
        var rng = new Random(7);
        var users = new List<long>();
        var items = new List<long>();
        for (var u = 0; u < 200; u++)
        {
            var group = u < 100 ? 0 : 150;
            foreach (var i in Enumerable.Range(1, 149).OrderBy(_ => rng.Next()).Take(60).Append(0))
            {
                users.Add(u);
                items.Add(group + i);
            }
        }
        for (var i = 1; i <= 10; i++)
        {
            users.Add(1000);
            items.Add(i);
        }
        var data = TrainingData.FromIds([.. users], [.. items], [.. Enumerable.Repeat(1f, users.Count)]);
        data.Users.TryGetIndex(1000, out var probe);
        return (data, Positives.From(data, 1), probe);
    }

    [Theory]
    [InlineData(Baselines.ItemKnn)]
    [InlineData(Baselines.Ease)]
    [InlineData(Baselines.Rp3Beta)]
    [InlineData(Baselines.PureSvd)]
    public void Fit_everySetting_ranksTheUsersOwnGroupFirst(string id)
    {
        var (data, x, probe) = World();
        var consumed = new HashSet<int>[x.Users];
        consumed[probe] = [.. x.Of(probe).ToArray()];
        foreach (var settings in Baselines.Grid(id))
        {
            var ranker = Baselines.Fit(id, x, settings, seed: 1, threads: 1);

            var top = Baselines.TopLists(ranker, x, consumed, [probe], 10, threads: 1)[0];

            Assert.Equal(10, top.Length);
            Assert.DoesNotContain(top, consumed[probe].Contains);
            Assert.All(top, i => Assert.InRange(data.Items.IdAt(i), 0, 149));
        }
    }

    [Fact]
    public void Tune_picksAGridSettingThatFindsTheGroup()
    {
        var (data, _, _) = World();
        var rng = new Random(3);
        var table = RatingTable.FromRows(
            [.. Enumerable.Range(0, data.Count).Select(j => data.Users.IdAt(data.UserIndices[j]))],
            [.. Enumerable.Range(0, data.Count).Select(j => data.Items.IdAt(data.ItemIndices[j]))],
            data.Values.AsSpan(0, data.Count),
            [.. Enumerable.Range(0, data.Count).Select(_ => rng.NextInt64(1_000_000))]);
        var split = TemporalSplit.Split(table);

        var tuned = Baselines.Tune(Baselines.ItemKnn, split, 1, 10, seed: 1, threads: 1);

        Assert.Contains(Baselines.Grid(Baselines.ItemKnn), h => h.SequenceEqual(tuned.Hyperparameters));
        // About 6 held-out items per user among ~90 unseen ones of their group: ranking the whole catalog blindly scores about 0.02.
        Assert.InRange(tuned.ValidationNdcg, 0.04, 1);
    }
}
