using System.Globalization;
using Recommender.Core.Evaluation;

namespace Recommender.Core.Tests;

public sealed class LearnerSimulatorTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "recommender-sim-" + Guid.NewGuid().ToString("N"));

    public LearnerSimulatorTests()
    {
        // 80 users, 400 items in 4 topics at levels 1..5; users mostly read one topic and prefer easy items, so
        // engagement and popularity lean to what does not stretch a learner.
        Directory.CreateDirectory(_folder);
        var rng = new Random(7);
        var ratings = new List<string> { "user_id,item_id,rating,timestamp" };
        var t = 1_600_000_000L;
        for (var u = 1; u <= 80; u++)
        {
            for (var n = 0; n < 30; n++)
            {
                var item = rng.NextDouble() < 0.8 ? 1 + (u % 4) + 4 * rng.Next(0, 100) : 1 + rng.Next(0, 400);
                var easy = (item / 4) % 5 < 2;
                ratings.Add(string.Create(CultureInfo.InvariantCulture, $"{u},{item},{(rng.NextDouble() < (easy ? 0.8 : 0.4) ? 5 : 2)},{t + n * 100 + u}"));
            }
        }
        File.WriteAllLines(Path.Combine(_folder, "ratings.csv"), ratings);
        File.WriteAllLines(Path.Combine(_folder, "items.csv"), ["item_id,title,topics,level,source_id,stance",
            .. Enumerable.Range(1, 400).Select(i => $"{i},Item {i},topic-{i % 4},{1 + (i / 4) % 5},0,0")]);
        File.WriteAllLines(Path.Combine(_folder, "sources.csv"), ["source_id,name,credibility", "0,Good,0.9"]);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Run_smallFixedSeed_learningNeedsAtLeastAThirdFewerItemsThanEngagementAndNoProfiling()
    {
        var options = new EvaluationOptions { Rank = 4, Iterations = 3, Threads = 1, TuneEngagement = false, Seeds = 1, Objectives = ["engagement"] };
        var simulation = new LearnerSimulationOptions { Learners = 12, Seeds = 1, MinTopicItems = 30, Objectives = ["engagement", "learning", "no_profiling"] };

        var report = OfflineEvaluator.Run(_ => EvaluationData.Load(_folder), options, simulation);

        var runs = report.LearnerRuns!;
        Assert.Equal(simulation.ParameterSets().Count, runs.Count);
        double Mean(string objective) => runs.Average(r => r.Objectives.Single(o => o.Objective == objective).MeanItems);
        var learning = Mean("learning");
        Assert.InRange(learning, 1, simulation.MaxItems);
        Assert.True(learning <= 0.7 * Mean("engagement"), $"learning {learning:F1}, engagement {Mean("engagement"):F1}");
        Assert.True(learning <= 0.7 * Mean("no_profiling"), $"learning {learning:F1}, no_profiling {Mean("no_profiling"):F1}");
        // The hidden-knowledge chooser bounds what any objective can reach.
        Assert.All(runs, r => Assert.InRange(r.BestPossible!.MeanItems, 1, r.Objectives.Single(o => o.Objective == "learning").MeanItems));
        // Knowing items only by level, even with the learner's true skill, leaves each item's own difficulty to chance.
        Assert.All(runs, r => Assert.InRange(r.BestByLevel!.MeanItems, r.BestPossible!.MeanItems + 1, 2 * simulation.MaxItems));
        // Learners with two topics to master (each reads a second topic a fifth of the time) are served both: learning
        // wins there too, and even the hidden-knowledge chooser needs more items than for one topic.
        var two = runs.Single(r => r.ParameterSet == "two topics");
        var one = runs.Single(r => r.ParameterSet == "default");
        double Items(LearnerRun r, string objective) => r.Objectives.Single(o => o.Objective == objective).MeanItems;
        Assert.True(Items(two, "learning") <= 0.7 * Items(two, "engagement"), $"two topics: learning {Items(two, "learning"):F1}, engagement {Items(two, "engagement"):F1}");
        Assert.True(Items(two, "learning") <= 0.7 * Items(two, "no_profiling"), $"two topics: learning {Items(two, "learning"):F1}, no_profiling {Items(two, "no_profiling"):F1}");
        Assert.True(two.BestPossible!.MeanItems > one.BestPossible!.MeanItems, $"best possible: two topics {two.BestPossible.MeanItems:F1}, one {one.BestPossible.MeanItems:F1}");
    }
}
