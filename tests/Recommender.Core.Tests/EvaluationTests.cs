using System.Globalization;
using Recommender.Core.Evaluation;

namespace Recommender.Core.Tests;

public sealed class EvaluationTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "recommender-eval-" + Guid.NewGuid().ToString("N"));

    public EvaluationTests()
    {
        // 60 users, 80 items in 4 topics; users like one topic; odd sources are low-credibility and more popular.
        Directory.CreateDirectory(_folder);
        var rng = new Random(1);
        var ratings = new List<string> { "user_id,item_id,rating,timestamp" };
        var t = 1_600_000_000L;
        for (var u = 1; u <= 60; u++)
        {
            for (var n = 0; n < 25; n++)
            {
                var item = 1 + (u % 4) + 4 * rng.Next(0, 20);
                if (rng.NextDouble() < 0.3)
                {
                    item = 1 + rng.Next(0, 80);
                }
                ratings.Add(string.Create(CultureInfo.InvariantCulture, $"{u},{item},{(rng.NextDouble() < 0.7 ? 5 : 2)},{t + n * 100 + u}"));
            }
        }
        File.WriteAllLines(Path.Combine(_folder, "ratings.csv"), ratings);
        File.WriteAllLines(Path.Combine(_folder, "items.csv"), ["item_id,title,topics,level,source_id,stance",
            .. Enumerable.Range(1, 80).Select(i => $"{i},Item {i},topic-{i % 4},{1 + i % 5},{i % 2},{(i % 3) - 1}")]);
        File.WriteAllLines(Path.Combine(_folder, "sources.csv"), ["source_id,name,credibility", "0,Good,0.9", "1,Bad,0.2"]);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Run_smallSyntheticData_reportsEveryObjectiveAndLearners()
    {
        var data = EvaluationData.Load(_folder);
        var options = new EvaluationOptions { Rank = 4, Iterations = 3, Threads = 1 };

        var report = OfflineEvaluator.Run(data, options, new LearnerSimulationOptions { Learners = 3, MaxItems = 20, MinTopicItems = 5 });

        Assert.Equal(options.Objectives, report.Objectives.Select(o => o.Objective));
        Assert.True(report.TestUsers > 0);
        Assert.All(report.Objectives, o =>
        {
            Assert.InRange(o.Ndcg, 0, 1);
            Assert.InRange(o.Coverage, 0, 1);
            Assert.InRange(o.ExposureGini, 0, 1);
            Assert.NotNull(o.LowCredibilityShare);
        });
        // Learning and diversity default to a 0.4 credibility floor; every "Bad" item is below it.
        Assert.Equal(0, report.Objectives.Single(o => o.Objective == "learning").LowCredibilityShare);
        Assert.Equal(0, report.Objectives.Single(o => o.Objective == "diversity").LowCredibilityShare);
        Assert.Equal(5, report.Learners!.Objectives.Count);
        Assert.All(report.Learners.Objectives, l => Assert.InRange(l.MeanItems, 1, 20));
    }

    [Fact]
    public void Gini_equalValues_isZero()
    {
        Assert.Equal(0, OfflineEvaluator.Gini([2.0, 2.0, 2.0, 2.0]), 10);
    }

    [Fact]
    public void Gini_allOnOneItem_approachesOne()
    {
        Assert.Equal(0.75, OfflineEvaluator.Gini([0.0, 0.0, 0.0, 5.0]), 10);
    }
}
