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
        var options = new EvaluationOptions { Rank = 4, Iterations = 3, Threads = 1, TuneEngagement = false, Seeds = 2 };

        var simulation = new LearnerSimulationOptions { Learners = 3, MaxItems = 20, MinTopicItems = 5 };
        var report = OfflineEvaluator.Run(seed => EvaluationData.Load(_folder), options, simulation);

        Assert.Equal(options.Objectives, report.Objectives.Select(o => o.Objective));
        Assert.Equal(options.Objectives, report.Spread.Select(o => o.Objective));
        Assert.Equal([42, 43], report.Seeds);
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
        Assert.Equal(5, report.Learners!.Count);
        // Each run within its own limit: 20 items, or 40 for learners with two topics to master.
        var limits = simulation.ParameterSets().ToDictionary(p => p.Name, p => p.Options.MaxItems);
        Assert.Equal(40, limits["two topics"]);
        Assert.All(report.LearnerRuns!, r => Assert.All(r.Objectives, o => Assert.InRange(o.MeanItems, 1, limits[r.ParameterSet])));
        // Every run is kept: 5 parameter sets × 3 simulation seeds, for each of the 2 model seeds.
        var sets = new LearnerSimulationOptions().ParameterSets().Select(p => p.Name).ToList();
        Assert.Equal(5, sets.Count);
        Assert.Equal(sets.Count * 3 * 2, report.LearnerRuns!.Count);
        Assert.Equal([42, 43], report.LearnerRuns.Select(r => r.ModelSeed).Distinct().Order());
        Assert.All(sets, name => Assert.Equal(6, report.LearnerRuns.Count(r => r.ParameterSet == name)));
        Assert.All(report.LearnerRuns, r => Assert.Equal(report.Learners.Select(l => l.Objective), r.Objectives.Select(o => o.Objective)));
        // Each baseline says what it chose, once per seed, from its own grid.
        Assert.Equal(Baselines.All.Count * 2, report.Baselines.Count);
        Assert.All(report.Baselines, b => Assert.Contains(Baselines.Grid(b.Id), h => h.SequenceEqual(b.Hyperparameters)));
        // The serving clock defaults to the newest rating, not a fixed date.
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_600_000_000L + 24 * 100 + 60), report.Options.Now);
    }

    [Fact]
    public void Run_twoSeedsOfOneModel_spreadIsTheirStandardDeviation()
    {
        var options = new EvaluationOptions { Rank = 4, Iterations = 3, Threads = 1, TuneEngagement = false, Seeds = 1, Objectives = ["engagement"] };
        var first = OfflineEvaluator.Run(_ => EvaluationData.Load(_folder), options).Objectives[0].Ndcg;
        var second = OfflineEvaluator.Run(_ => EvaluationData.Load(_folder), options with { Seed = 43 }).Objectives[0].Ndcg;

        var both = OfflineEvaluator.Run(_ => EvaluationData.Load(_folder), options with { Seeds = 2 });

        Assert.Equal((first + second) / 2, both.Objectives[0].Ndcg, 12);
        Assert.Equal(Math.Abs(first - second) / Math.Sqrt(2), both.Spread[0].Ndcg, 12);
    }

    [Fact]
    public void Load_newcomersSplit_measuresPeopleWhoArriveAfterTheCutOnTheirLaterHalf()
    {
        // Six people who rate only after everyone else (10 ratings each, within the latest 10% of the 1,560 rows).
        var ratings = Path.Combine(_folder, "ratings.csv");
        File.AppendAllLines(ratings, Enumerable.Range(0, 60).Select(j =>
            string.Create(CultureInfo.InvariantCulture, $"{100 + j / 10},{1 + (j % 10) * 4 + j / 10 % 4},5,{1_700_000_000L + j}")));
        static HashSet<long> TestPeople(EvaluationData d) =>
            [.. Enumerable.Range(0, d.Split.Test.Count).Select(j => d.Split.Test.Users.IdAt(d.Split.Test.UserIndices[j]))];

        var temporal = EvaluationData.Load(_folder);
        var newcomers = EvaluationData.Load(_folder, SplitKind.Newcomers);

        Assert.DoesNotContain(TestPeople(temporal), u => u >= 100);
        Assert.Equal([100L, 101, 102, 103, 104, 105], TestPeople(newcomers).Where(u => u >= 100).Order());
        // Each newcomer's earlier 5 ratings train; nobody else's later rows do.
        Assert.Equal(temporal.Split.Train.Count + 30, newcomers.Split.Train.Count);
        Assert.True(newcomers.Validation.Train.Count + newcomers.Validation.Test.Count + newcomers.Validation.DroppedTestRows == newcomers.Split.Train.Count);
    }

    [Fact]
    public void Load_randomSplit_differsBySeedAndKeepsTheShares()
    {
        var a = EvaluationData.Load(_folder, SplitKind.Random, 1);
        var b = EvaluationData.Load(_folder, SplitKind.Random, 2);
        var temporal = EvaluationData.Load(_folder);

        Assert.Equal(temporal.Split.Train.Count, a.Split.Train.Count);
        var rowsA = Enumerable.Range(0, a.Split.Test.Count).Select(j => (a.Split.Test.Users.IdAt(a.Split.Test.UserIndices[j]), a.Split.Test.Items.IdAt(a.Split.Test.ItemIndices[j]))).ToHashSet();
        var rowsB = Enumerable.Range(0, b.Split.Test.Count).Select(j => (b.Split.Test.Users.IdAt(b.Split.Test.UserIndices[j]), b.Split.Test.Items.IdAt(b.Split.Test.ItemIndices[j]))).ToHashSet();
        Assert.False(rowsA.SetEquals(rowsB));
        // The validation split lies inside the training rows only.
        Assert.True(a.Validation.Train.Count + a.Validation.Test.Count + a.Validation.DroppedTestRows == a.Split.Train.Count);
    }

    [Fact]
    public void Load_tooFewRatings_saysSoInOneLine()
    {
        File.WriteAllLines(Path.Combine(_folder, "ratings.csv"), File.ReadAllLines(Path.Combine(_folder, "ratings.csv")).Take(40));

        var e = Assert.Throws<InvalidDataException>(() => EvaluationData.Load(_folder));

        Assert.Contains("39 ratings", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Load_badItemLine_namesFileAndLine()
    {
        File.AppendAllLines(Path.Combine(_folder, "items.csv"), ["not-a-number,x,t,1,0,0"]);

        var e = Assert.Throws<InvalidDataException>(() => EvaluationData.Load(_folder));

        Assert.EndsWith("items.csv:82: expected item_id,title,topics,level,source_id,stance.", e.Message, StringComparison.Ordinal);
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

public sealed class ImplicitFeedbackTests
{
    [Fact]
    public void Cells_sum_weights_per_pair_on_a_log_scale_from_the_first_event_and_skip_kinds_without_a_weight()
    {
        var cells = ImplicitFeedback.Cells(
        [
            (1, 10, EventKind.Comment, 300),
            (1, 10, EventKind.Answer, 200),
            (1, 11, EventKind.Impression, 100),
            (2, 10, EventKind.Edit, 400),
            (2, 11, EventKind.Rating, 500),
        ]);

        Assert.Equal(2, cells.Count);
        Assert.Equal(new ImplicitFeedback.Cell(1, 10, MathF.Log(1 + 2 + 4), 200), cells[0]);
        Assert.Equal(new ImplicitFeedback.Cell(2, 10, MathF.Log(2), 400), cells[1]);
    }

    [Fact]
    public void Weight_orders_effort_answer_above_comment_above_edit()
    {
        Assert.True(ImplicitFeedback.Weight(EventKind.Answer) > ImplicitFeedback.Weight(EventKind.Comment));
        Assert.True(ImplicitFeedback.Weight(EventKind.Comment) > ImplicitFeedback.Weight(EventKind.Edit));
        Assert.Null(ImplicitFeedback.Weight(EventKind.NotInterested));
        Assert.DoesNotContain(EventKind.Rating, ImplicitFeedback.Kinds);
    }
}
