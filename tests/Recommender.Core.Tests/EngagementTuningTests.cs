using System.Globalization;
using Recommender.Core.Evaluation;
using Recommender.Factorization;

namespace Recommender.Core.Tests;

public sealed class EngagementTuningTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "recommender-tuning-" + Guid.NewGuid().ToString("N"));

    public EngagementTuningTests()
    {
        // Two taste groups: 120 users like items 1–50, 40 users like items 51–100, each rating 20 of their own group's
        // items over time. Popularity therefore points everyone at the large group's items: right for its users,
        // wrong for every user of the small group, whom only a personal model serves.
        Directory.CreateDirectory(_folder);
        var rng = new Random(5);
        var ratings = new List<string> { "user_id,item_id,rating,timestamp" };
        for (var u = 1; u <= 160; u++)
        {
            var first = u <= 120 ? 1 : 51;
            var n = 0;
            foreach (var item in Enumerable.Range(first, 50).OrderBy(_ => rng.Next()).Take(20))
                ratings.Add(string.Create(CultureInfo.InvariantCulture, $"{u},{item},5,{1_600_000_000L + 1000 * n++ + rng.Next(1000)}"));
        }
        File.WriteAllLines(Path.Combine(_folder, "ratings.csv"), ratings);
        File.WriteAllLines(Path.Combine(_folder, "items.csv"), ["item_id,title,topics,level,source_id,stance",
            .. Enumerable.Range(1, 100).Select(i => $"{i},Item {i},topic-{(i <= 50 ? "a" : "b")},1,0,0")]);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Tune_plantedGroups_choosesTheSettingsThatServeTheSmallGroup()
    {
        var data = EvaluationData.Load(_folder);
        var options = new EvaluationOptions { Iterations = 10, Threads = 1, TuneMix = true };

        // λ = 10⁶ shrinks every factor to nothing, so that model ranks blindly; popularity weight 5 with shrinkage 100
        // lets popularity decide every list, which shows the small group the large group's items.
        var tuned = EngagementTuning.Tune(data, options, new RankingSearch([4], [1e6, 0.05], [5], MinimumValidationPairs: 1), [(5, 100), (0, 0)]);

        Assert.Equal(EngagementTuning.Id, tuned.Id);
        Assert.Equal(4, tuned.Hyperparameters[EngagementTuning.Rank]);
        Assert.Equal(0.05, tuned.Hyperparameters[EngagementTuning.Lambda]);
        Assert.Equal(0, tuned.Hyperparameters[EngagementTuning.PopularityWeight]);
        Assert.Equal(0, tuned.Hyperparameters[EngagementTuning.PriorShrinkage]);
        Assert.InRange(tuned.ValidationNdcg, 0.05, 1);
    }

    [Fact]
    public void Tune_gridOrderReversed_choosesTheSameSettings()
    {
        var data = EvaluationData.Load(_folder);
        var options = new EvaluationOptions { Iterations = 10, Threads = 1, TuneMix = true };

        var a = EngagementTuning.Tune(data, options, new RankingSearch([4], [1e6, 0.05], [5], MinimumValidationPairs: 1), [(5, 100), (0, 0)]);
        var b = EngagementTuning.Tune(data, options, new RankingSearch([4], [0.05, 1e6], [5], MinimumValidationPairs: 1), [(0, 0), (5, 100)]);

        Assert.Equal(a.Hyperparameters, b.Hyperparameters);
        Assert.Equal(a.ValidationNdcg, b.ValidationNdcg, 12);
    }

    [Fact]
    public void Run_tuning_reportsTheChoiceAndServesEngagementWithIt()
    {
        // The planted world's validation split has a few hundred positives, fewer than the default search asks for.
        var options = new EvaluationOptions
        {
            Iterations = 5,
            Threads = 1,
            Seeds = 2,
            Objectives = ["engagement"],
            EngagementSearch = RankingSearch.Default with { MinimumValidationPairs = 1 },
        };

        var report = OfflineEvaluator.Run(_ => EvaluationData.Load(_folder), options);

        // Chosen once on the validation split, reported for each seed, from train's grid; the mix is the objective's own.
        var choices = report.Baselines.Where(b => b.Id == EngagementTuning.Id).ToList();
        Assert.Equal([42, 43], choices.Select(c => c.Seed));
        Assert.Equal(choices[0].Hyperparameters, choices[1].Hyperparameters);
        var h = choices[0].Hyperparameters;
        Assert.Contains((int)h[EngagementTuning.Rank], RankingSearch.Default.Ranks);
        Assert.Contains(h[EngagementTuning.Lambda], RankingSearch.Default.Lambdas);
        Assert.Contains(h[EngagementTuning.Alpha], RankingSearch.Default.Alphas);
        Assert.False(h.ContainsKey(EngagementTuning.PopularityWeight), "the mix is chosen only when asked");
        Assert.InRange(choices[0].ValidationNdcg, 0.05, 1);
        Assert.StartsWith(string.Create(CultureInfo.InvariantCulture, $"mf-oneclass-r{h[EngagementTuning.Rank]}-i5-l{h[EngagementTuning.Lambda]}-a{h[EngagementTuning.Alpha]}-"), report.ModelVersion, StringComparison.Ordinal);

        // Turned off, the given settings are used and nothing is reported for engagement.
        var fixedReport = OfflineEvaluator.Run(_ => EvaluationData.Load(_folder), options with { TuneEngagement = false, Rank = 4, Seeds = 1 });
        Assert.DoesNotContain(fixedReport.Baselines, b => b.Id == EngagementTuning.Id);
        Assert.StartsWith("mf-oneclass-r4-i5-l0.05-", fixedReport.ModelVersion, StringComparison.Ordinal);
    }
}
