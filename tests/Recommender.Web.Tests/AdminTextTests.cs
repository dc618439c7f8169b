using Bunit;
using Recommender.Data;
using Recommender.Serving;

namespace Recommender.Web.Tests;

/// <summary>The small pieces behind the admin pages: sorting by value, list differences, and times in words.</summary>
public sealed class AdminTextTests
{
    private sealed record Row(string Name, double? Rmse);

    [Fact]
    public void TableSort_orders_numbers_as_numbers_with_missing_values_last()
    {
        Row[] rows = [new("a", 9), new("b", 10), new("c", null), new("d", 100), new("e", 0.5)];
        var keys = new Dictionary<string, Func<Row, IComparable?>> { ["rmse"] = r => r.Rmse };

        var ascending = TableSort.Parse("rmse", "asc", keys.Keys, new("x", false)).Apply(rows, keys);
        var descending = TableSort.Parse("rmse", "desc", keys.Keys, new("x", false)).Apply(rows, keys);

        Assert.Equal(["e", "a", "b", "d", "c"], ascending.Select(r => r.Name));
        Assert.Equal(["d", "b", "a", "e", "c"], descending.Select(r => r.Name));
    }

    private static readonly TimeBuckets Days = new(TimeBuckets.Origin, TimeBuckets.Day, 7);

    private static SkillCheck Skill(double learningStart, double learningEnd, double othersStart, double othersEnd, double difference, double low, double high) =>
        new(Days, [], [new("learning", 8, 40, learningStart, learningEnd), new(Serving.OutcomeChecks.OtherGoals, 20, 90, othersStart, othersEnd)], (difference, low, high));

    private static BreadthCheck Breadth(double diversity, double others, double difference, double low, double high) =>
        new(Days, [], [new("diversity", 8, null, diversity), new(Serving.OutcomeChecks.OtherGoals, 24, null, others)], (difference, low, high));

    [Fact]
    public void Outcome_verdicts_are_decided_on_the_interval_as_written_and_give_the_difference_of_the_tables_figures()
    {
        // The interval's lower end is above 0 by less than the figures' last place: written "0.0", it includes no
        // difference, and so does the verdict. It said "unlikely to be chance" beside "(95% interval +0.0 to +0.6)".
        Assert.Equal("Learners changed by +0.3 points relative to people on other goals, but the 95% interval (0.0 to +0.6) includes no difference: not enough evidence yet.",
            OutcomeVerdicts.Skill(Skill(1000.0, 1000.34, 1000.0, 1000.0, 0.34, 0.04, 0.64)));
        // The difference is the one the table's changes give (+132.7 against 0.0), not +132.8 from the unrounded means.
        Assert.StartsWith("Learners improved by +132.7 points more than people on other goals (95% interval +78.4 to +187.1): unlikely to be chance.",
            OutcomeVerdicts.Skill(Skill(1144.84, 1277.52, 1053.649, 1053.551, 132.778, 78.4, 187.1)), StringComparison.Ordinal);
        Assert.Equal("Learners fell behind people on other goals by 2.0 points (95% interval −3.9 to −0.1).",
            OutcomeVerdicts.Skill(Skill(1000.0, 1001.0, 1000.0, 1003.0, -2.02, -3.94, -0.1)));

        // Breadth reads to three decimals, as its table does: 19.750 against 19.625 is +0.125, not "+0.1".
        Assert.StartsWith("Over the window, diversity readers read +0.125 more topics per person than people on other goals (95% interval +0.050 to +0.200): unlikely to be chance.",
            OutcomeVerdicts.Breadth(Breadth(19.75, 19.625, 0.125, 0.05, 0.2)), StringComparison.Ordinal);
        Assert.StartsWith("Over the window, diversity readers read +0.125 topics per person relative to people on other goals, but the 95% interval (0.000 to +0.250) includes no difference",
            OutcomeVerdicts.Breadth(Breadth(19.75, 19.625, 0.125, 0.0004, 0.2496)), StringComparison.Ordinal);
        Assert.Equal("Over the window, diversity readers read 0.125 fewer topics per person than people on other goals (95% interval −0.200 to −0.050).",
            OutcomeVerdicts.Breadth(Breadth(19.625, 19.75, -0.125, -0.2, -0.05)));
        Assert.StartsWith("Over the window, diversity readers read 0.000 topics per person relative to people on other goals, but the 95% interval (−0.099 to 0.000)",
            OutcomeVerdicts.Breadth(Breadth(19.75, 19.75, -0.0496, -0.0992, -0.0004)), StringComparison.Ordinal);
    }

    [Fact]
    public void ServingNow_says_whether_a_lists_model_is_the_one_serving_now()
    {
        Assert.Equal("the model serving now", AdminText.ServingNow("2", 2));
        Assert.Equal("not the model serving now: v3 is", AdminText.ServingNow("2", 3));
        Assert.Equal("not the model serving now: none is, lists rank by popularity", AdminText.ServingNow("2", null));
        // Popularity names no version to compare.
        Assert.Null(AdminText.ServingNow("popularity-3f2a", 2));
        Assert.Null(AdminText.ServingNow(null, 2));
    }

    [Fact]
    public void TableSort_ignores_an_unknown_column_in_the_address()
    {
        var fallback = new TableSort("version", true);

        Assert.Equal(fallback, TableSort.Parse("<script>", "asc", ["version", "rmse"], fallback));
        Assert.Equal(("rmse", "desc"), fallback.Next("rmse", descendingFirst: true));
        Assert.Equal(("version", "asc"), fallback.Next("version", descendingFirst: true));
    }

    [Fact]
    public void Baseline_says_a_popularity_score_of_zero_was_measured_and_an_unmeasured_one_not_at_all()
    {
        ModelPoint Ranking(double? popularity) => new(1, true, "ready", DateTimeOffset.UnixEpoch, null, null, null, TestNdcg: 0.016, PopularityNdcg: popularity);

        Assert.Equal("popularity scores 0.004; higher is better", AdminText.Baseline(Ranking(0.004)));
        Assert.Equal("popularity scores 0.000, as none of its top 10 was among what people went on to use; higher is better", AdminText.Baseline(Ranking(0)));
        Assert.Null(AdminText.Baseline(Ranking(null)));
        // A comparison on a small holdout says it rests on little.
        var small = Ranking(0) with { Data = new TrainingData(6038, 93, 1364, 1654, "activity") };
        Assert.EndsWith("; measured on only 93 held-out pairs, too few to tell the two apart with confidence", AdminText.Baseline(small), StringComparison.Ordinal);
        Assert.EndsWith("higher is better", AdminText.Baseline(Ranking(0) with { Data = new TrainingData(60_000, 6_000, 1364, 1654, "activity") }), StringComparison.Ordinal);
        // With the lead's standard error recorded, the words follow it rather than the count: 338 pairs can be enough.
        var measured = Ranking(0.07) with { TestNdcg = 0.175, Data = new TrainingData(6879, 338, 1396, 1654, "activity") };
        Assert.Equal("popularity scores 0.070; higher is better; the lead, 0.105 ± 0.031 over 57 people's 338 held-out pairs, is more than chance",
            AdminText.Baseline(measured with { Gap = new HoldoutGap(0.175 - 0.07, 0.031, 57) }));
        Assert.Equal("popularity scores 0.070; higher is better; the gap, 0.105 ± 0.060 over 57 people's 338 held-out pairs, is too small to tell the two apart with confidence",
            AdminText.Baseline(measured with { Gap = new HoldoutGap(0.175 - 0.07, 0.06, 57) }));
    }

    [Fact]
    public void A_measure_reads_to_three_decimals_wherever_the_admin_pages_say_it()
    {
        // The overview said "NDCG@10 0.19 (popularity scores 0; …)" for the model its chart marks 0.190 beside 0.000.
        var now = DateTimeOffset.UnixEpoch.AddDays(1);
        var model = new ModelPoint(2, true, "ready", now, null, null, null, TestNdcg: 0.19, PopularityNdcg: 0);

        Assert.Equal("model v2, trained 2 January 1970, 00:00 UTC, NDCG@10 0.190", AdminText.Model(model));
        Assert.StartsWith("popularity scores 0.000, ", AdminText.Baseline(model), StringComparison.Ordinal);
        Assert.Equal("Holdout NDCG@10: the active model\u00A0v2 scores\u00A00.190, where popularity scores\u00A00.000", AdminText.QualityTitle(model, ranking: true));
        var rated = new ModelPoint(3, true, "ready", now, 0.8, 1.2, null);
        Assert.Equal("the global mean scores 1.200; lower is better", AdminText.Baseline(rated));
        Assert.StartsWith("Holdout RMSE: the active model\u00A0v3 errs by\u00A00.800 rating points", AdminText.QualityTitle(rated, ranking: false), StringComparison.Ordinal);
        Assert.EndsWith("(RMSE 0.900)", AdminText.Settings(new ModelSettings(8, 0.05, 10, true, 0.9)), StringComparison.Ordinal);
    }

    [Fact]
    public void Overview_verdicts_are_decided_on_the_figures_as_written_as_the_reports_are()
    {
        var model = new ModelPoint(2, true, "ready", DateTimeOffset.UnixEpoch, null, null, null, TestNdcg: 0.1875, PopularityNdcg: 0.0731,
            Data: new TrainingData(6879, 339, 1396, 1654, "activity"));

        // 0.188 against 0.073 is 158% better; the unrounded figures gave 156% beside them.
        Assert.Equal("Holdout NDCG@10: the active model\u00A0v2 scores\u00A00.188, 158%\u00A0better than popularity", AdminText.QualityTitle(model, ranking: true));
        // Popularity written 0.000 is no figure to take a percentage of; two figures written alike are no better.
        Assert.EndsWith(", where popularity scores\u00A00.000", AdminText.QualityTitle(model with { PopularityNdcg = 0.0004 }, ranking: true), StringComparison.Ordinal);
        Assert.EndsWith(", no better than popularity", AdminText.QualityTitle(model with { TestNdcg = 0.0734 }, ranking: true), StringComparison.Ordinal);
        Assert.EndsWith(", no better than the global mean", AdminText.QualityTitle(new ModelPoint(3, true, "ready", DateTimeOffset.UnixEpoch, 0.7996, 0.8, null), ranking: false), StringComparison.Ordinal);
        // 0.845 against 1.000 is 16% less; the unrounded 0.8454 against 1.0004 gave 15%.
        Assert.EndsWith(", 16%\u00A0less than the global mean", AdminText.QualityTitle(new ModelPoint(3, true, "ready", DateTimeOffset.UnixEpoch, 0.8454, 1.0004, null), ranking: false), StringComparison.Ordinal);

        // The lead is the two written figures subtracted (0.188 − 0.073 = 0.115, where the unrounded lead reads 0.114),
        // and more than chance when it is more than twice its error as written: 0.115 > 2 × 0.057.
        Assert.EndsWith("; the lead, 0.115 ± 0.057 over 51 people's 339 held-out pairs, is more than chance",
            AdminText.Baseline(model with { Gap = new HoldoutGap(0.1875 - 0.0731, 0.0573, 51) }), StringComparison.Ordinal);
        Assert.EndsWith("; the gap, 0.115 ± 0.058 over 51 people's 339 held-out pairs, is too small to tell the two apart with confidence",
            AdminText.Baseline(model with { Gap = new HoldoutGap(0.1875 - 0.0731, 0.0576, 51) }), StringComparison.Ordinal);
    }

    [Fact]
    public void A_change_in_the_skill_table_is_the_difference_of_the_two_figures_it_stands_beside()
    {
        // "other goals" read 1053.6 → 1053.5 with a change of "0.0": the stored change, −0.02, rounded on its own.
        Assert.Equal(("1053.6", "1053.5", "−0.1"), (Explanations.Tenths(1053.56), Explanations.Tenths(1053.54), Explanations.TenthsChange(1053.56, 1053.54)));
        Assert.Equal("+0.1", Explanations.TenthsChange(1000.04, 1000.06));
        Assert.Equal("0.0", Explanations.TenthsChange(1000.01, 1000.04));
        Assert.Equal("+12.3", Explanations.TenthsChange(1000, 1012.3));
        Assert.Equal("−0.3", Explanations.SignedTenths(-0.3));
    }

    [Fact]
    public void Points_read_an_activity_models_chosen_alpha_and_validation_ndcg_as_training_records_them()
    {
        // The model row as ModelTraining writes it for activity: the chosen options, and the search in the metrics.
        var json = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)
        {
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        };
        var options = new Factorization.MatrixFactorizationOptions { ApproximationRank = 16, Lambda = 50, Alpha = 2, LossFunction = Factorization.LossFunction.SquareLossOneClass };
        var best = new Factorization.HyperparameterTrial(16, 50, 20, double.NaN, 2, 0.0812);
        var metrics = new Training.ModelMetrics(100, 10, 5, 5, double.NaN, double.NaN, double.NaN, 1, new Factorization.HyperparameterChoice(best, [best], 90, 9),
            Training.ModelMetrics.Activity, 0.07, 0.2, 0.05);
        var chosen = new Data.Models.ModelSummary(3, "mf-als-activity", "ready", true, DateTime.UtcNow, null,
            System.Text.Json.JsonSerializer.Serialize(options, json), System.Text.Json.JsonSerializer.Serialize(metrics, json), Data.Models.ModelLoss.OneClass, false);
        var given = chosen with { Version = 4, Metrics = System.Text.Json.JsonSerializer.Serialize(metrics with { Selection = null }, json) };

        var tooFew = chosen with { Version = 5, Metrics = System.Text.Json.JsonSerializer.Serialize(metrics with { Selection = null, TooFewValidationPairs = 80 }, json) };

        var points = AdminStatistics.Points([chosen, given, tooFew]);

        Assert.Equal("rank 16, λ 50, α 2, 20 iterations, chosen on a validation split (NDCG@10 0.081)", AdminText.Settings(points[0].Settings));
        Assert.Equal("rank 16, λ 50, α 2, 20 iterations, as given", AdminText.Settings(points[1].Settings));
        Assert.Equal("rank 16, λ 50, α 2, 20 iterations, the defaults (80 validation pairs were too few to tune on)", AdminText.Settings(points[2].Settings));

        // The lead over popularity and its standard error, as training records them; none for a model from before.
        var withGap = chosen with { Version = 6, Metrics = System.Text.Json.JsonSerializer.Serialize(metrics with { HeldOutPeople = 7, PopularityGapError = 0.015 }, json) };
        var gap = AdminStatistics.Points([withGap]).Single().Gap!;
        Assert.Equal((0.02, 0.015, 7), (Math.Round(gap.Lead, 10), gap.StandardError, gap.People));
        Assert.All(points, p => Assert.Null(p.Gap));
    }

    [Fact]
    public void ModelName_names_a_version_as_the_models_page_does_and_popularity_with_why()
    {
        var learning = new Recommender.Core.Objectives.LearningObjective();
        Assert.Equal("v3", AdminText.ModelName("3", learning));
        // A personalising goal ranked by popularity had no trained model; no-profiling is ranked so by design.
        Assert.Equal("popularity (no trained model)", AdminText.ModelName("popularity-8b21ca2803d3", learning));
        Assert.Equal("popularity (this goal does not personalise)", AdminText.ModelName("popularity-8b21ca2803d3", new Recommender.Core.Objectives.NoProfilingObjective()));
        Assert.Equal("popularity", AdminText.ModelName("popularity-8b21ca2803d3", null));
        Assert.Equal("—", AdminText.ModelName("", learning));
    }

    [Fact]
    public void Trend_lists_goals_in_the_order_readers_meet_them()
    {
        var objectives = new Recommender.Core.ObjectiveRegistry(Recommender.Core.ObjectiveRegistry.BuiltIn());
        var byId = objectives.All.Select(o => new Recommender.Serving.ObjectiveTrend(o.Id, [null])).ToList();
        var trends = new Recommender.Serving.ObjectiveTrends(new Recommender.Serving.TimeBuckets(DateTimeOffset.UnixEpoch, TimeSpan.FromDays(1), 1), byId);

        var series = ReportCharts.Trend(trends, objectives, m => m.Ild);

        Assert.Equal(Explanations.GoalOrder(objectives).Select(o => o.Id), series.Select(s => s.Key));
        Assert.Equal(["learning", "diversity", "engagement", "no_profiling", "blend"], series.Select(s => s.Key));
    }

    private static string Varied(IReadOnlyList<ChartSeries> series, int categories = 4) =>
        ReportCharts.Finding(series, categories, (goal, next) => $"{goal} served the most varied lists (then {next})", "Intra-list diversity per goal");

    private static ChartSeries Line(string name, params double?[] values) => new(name, ChartMark.Line, values);

    [Fact]
    public void Finding_names_the_goal_whose_line_runs_clearly_highest_and_the_next_one_down()
    {
        var title = Varied(
        [
            Line("Help me learn", 0.50, 0.52, 0.49, 0.51),
            Line("Show me other perspectives", 0.81, 0.78, 0.83, 0.80),
            Line("Keep me engaged", 0.60, 0.63, 0.58, null),
        ]);

        Assert.Equal("Show me other perspectives served the most varied lists (then Keep me engaged)", title);
    }

    [Fact]
    public void Finding_keeps_the_description_when_there_is_nothing_to_compare()
    {
        Assert.Equal("Intra-list diversity per goal", Varied([]));
        Assert.Equal("Intra-list diversity per goal", Varied([Line("Help me learn", null, null, null, null), Line("Keep me engaged", double.NaN, null, null, null)]));
        // One goal served: nothing to compare it with.
        Assert.Equal("Intra-list diversity per goal", Varied([Line("Show me other perspectives", 0.8, 0.8, 0.9, 0.85), Line("Help me learn", null, null, null, null)]));
        // Two goals on different days, or on one day only: no day-by-day comparison to judge the noise by.
        Assert.Equal("Intra-list diversity per goal", Varied([Line("Show me other perspectives", 0.9, null, 0.9, null), Line("Help me learn", null, 0.1, null, 0.1)]));
        Assert.Equal("Intra-list diversity per goal", Varied([Line("Show me other perspectives", 0.9, 0.95, 0.9, 0.95), Line("Help me learn", 0.1, null, null, null)]));
        // Values past the categories the chart draws do not count: here only the first day is drawn.
        Assert.Equal("Intra-list diversity per goal", Varied([Line("Show me other perspectives", 0.9, 0.95, 0.9), Line("Help me learn", 0.1, 0.1, 0.1)], categories: 1));
    }

    [Fact]
    public void Finding_keeps_the_description_when_the_lines_cross_within_the_noise()
    {
        // Ahead on average, but one day each way: the interval of the mean difference includes none.
        Assert.Equal("Intra-list diversity per goal", Varied([Line("Show me other perspectives", 0.70, 0.50, 0.72, 0.52), Line("Help me learn", 0.55, 0.66, 0.54, 0.65)]));
        // An exact tie.
        Assert.Equal("Intra-list diversity per goal", Varied([Line("Show me other perspectives", 0.6, 0.6, 0.6, 0.6), Line("Help me learn", 0.6, 0.6, 0.6, 0.6)]));
        // The same lines, parted by a steady margin, are a finding.
        Assert.Equal("Show me other perspectives served the most varied lists (then Help me learn)",
            Varied([Line("Show me other perspectives", 0.70, 0.50, 0.72, 0.52), Line("Help me learn", 0.60, 0.41, 0.61, 0.43)]));
    }

    [Fact]
    public void PeopleCounted_says_exactly_who_the_people_per_goal_are()
    {
        ObjectiveUsage[] demo =
        [
            new("learning", 10, 8, 1, 2),
            new("diversity", 8, 8, 0, 0),
            new("engagement", 8, 8, 0, 0),
            new("no_profiling", 8, 8, 0, 0),
        ];

        Assert.Equal("34 people with a login: 32 simulated readers and 2 other accounts (1 admin). 2 never chose a goal and count under Help me learn, the default.",
            AdminText.PeopleCounted(demo, "Help me learn"));
        Assert.Equal("3 people with a login (2 admins).", AdminText.PeopleCounted([new("learning", 2, 0, 1, 0), new("diversity", 1, 0, 1, 0)], "Help me learn"));
        Assert.Equal("1 person with a login, all simulated readers. 1 never chose a goal and counts under Help me learn, the default.",
            AdminText.PeopleCounted([new("learning", 1, 1, 0, 1)], "Help me learn"));
        Assert.Equal("Nobody has a login yet.", AdminText.PeopleCounted([], "Help me learn"));
    }

    [Fact]
    public void QualityCaption_looks_for_a_line_only_once_there_are_two_versions()
    {
        Assert.Contains("blue line", AdminText.QualityCaption(ranking: true, versions: 2), StringComparison.Ordinal);
        var one = AdminText.QualityCaption(ranking: true, versions: 1);
        Assert.Contains("With one model version there are no lines yet", one, StringComparison.Ordinal);
        Assert.DoesNotContain("blue line", one, StringComparison.Ordinal);
        Assert.Contains("below the black mark of the global mean", AdminText.QualityCaption(ranking: false, versions: 1), StringComparison.Ordinal);
    }

    [Fact]
    public void ListDifferences_marks_moves_new_and_dropped_items()
    {
        var (original, changed) = ListDifferences.Compare([1, 2, 3, 4], [3, 1, 2, 5]);

        Assert.Equal(["", "", "", "dropped"], original.Select(c => c.Label));
        Assert.Equal(["up 2", "down 1", "down 1", "new"], changed.Select(c => c.Label));
    }

    [Fact]
    public void Times_on_the_admin_pages_are_exact_in_words_and_in_UTC_whatever_the_offset_given()
    {
        // Pages said "13 minutes ago" on one, "7 December 2026" on another and "2026-12-07 18:26" in a tooltip.
        var at = new DateTimeOffset(2026, 12, 7, 19, 26, 38, TimeSpan.FromHours(1));

        Assert.Equal("7 December 2026, 18:26 UTC", AdminText.Exact(at));
        Assert.Equal("7 December 2026, 18:26 UTC", AdminText.Exact(at.UtcDateTime));
        Assert.Equal("7 December 2026, 18:26:38 UTC", AdminText.ExactToSecond(at.UtcDateTime));
        Assert.Equal("model v3, trained 7 December 2026, 18:26 UTC, RMSE 0.810",
            AdminText.Model(new ModelPoint(3, true, "ready", at, 0.81, 1.1, 0.6)));
        // A model trained on activity has no error to state, only how well it ranked the held-out activity.
        Assert.Equal("model v1, trained 7 December 2026, 18:26 UTC, NDCG@10 0.016",
            AdminText.Model(new ModelPoint(1, true, "ready", at, null, null, null, TestNdcg: 0.0157, PopularityNdcg: 0)));
        Assert.Equal("model v1, trained 7 December 2026, 18:26 UTC", AdminText.Model(new ModelPoint(1, true, "ready", at, null, null, null)));
    }

    [Fact]
    public void When_puts_the_exact_time_in_a_time_element_with_the_second_in_its_datetime_and_on_hover()
    {
        using var context = new BunitContext();
        var at = new DateTime(2026, 12, 7, 18, 26, 38, DateTimeKind.Utc);

        var time = context.Render<Components.Shared.When>(p => p.Add(w => w.At, at)).Find("time");
        var day = context.Render<Components.Shared.When>(p => p.Add(w => w.At, at).Add(w => w.Day, true)).Find("time");

        Assert.Equal(("7 December 2026, 18:26 UTC", "2026-12-07T18:26:38Z", "7 December 2026, 18:26:38 UTC"), (time.TextContent, time.GetAttribute("datetime"), time.GetAttribute("title")));
        // A card's date, as it was: the day alone.
        Assert.Equal(("7 December 2026", "2026-12-07", null), (day.TextContent, day.GetAttribute("datetime"), day.GetAttribute("title")));
    }
}
