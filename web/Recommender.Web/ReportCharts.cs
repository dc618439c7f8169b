using System.Globalization;
using Recommender.Core;
using Recommender.Core.Evaluation;
using Recommender.Serving;

namespace Recommender.Web;

/// <summary>Turns the report's time series into chart series and axis labels; the numbers themselves come from Recommender.Serving.</summary>
public static class ReportCharts
{
    /// <summary>"hour", "day" or "week": what one bucket is, for labels and captions.</summary>
    public static string Unit(TimeBuckets buckets) =>
        buckets.Width == TimeBuckets.Hour ? "hour" : buckets.Width == TimeBuckets.Week ? "week" : "day";

    public static string XLabel(TimeBuckets buckets) => Unit(buckets) switch
    {
        "hour" => "Hour (UTC)",
        "week" => "Week starting (UTC, Mondays)",
        _ => "Day (UTC)",
    };

    /// <summary>What a per-bucket chart does with the bucket still in progress at <paramref name="to"/> (see <see cref="TimeBuckets.InProgressAt"/>).</summary>
    public static string InProgress(TimeBuckets buckets, DateTimeOffset to)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        var unit = Unit(buckets);
        return buckets.InProgressAt(to) is var last && last >= 0
            ? string.Create(CultureInfo.InvariantCulture, $"The {unit} from {buckets[last]:d MMM}, still in progress, has no point until it ends (a part-{unit} would read as a fall); the table counts it.")
            : $"This {unit} is still in progress, so its figure will grow.";
    }

    public static IReadOnlyList<string> Categories(TimeBuckets buckets) =>
        [.. Enumerable.Range(0, buckets.Count).Select(i => buckets[i].ToString(buckets.Width == TimeBuckets.Hour ? "d MMM HH:00" : "d MMM", CultureInfo.InvariantCulture))];

    /// <summary>
    /// One line per objective that served in the window, named as readers see the goal, listed in the order readers meet
    /// the goals (<see cref="Explanations.GoalOrder"/>) and styled by its place in that order, so it looks the same in
    /// every chart; the objective's id stays its key in the markup.
    /// </summary>
    public static IReadOnlyList<ChartSeries> Trend(ObjectiveTrends trends, ObjectiveRegistry objectives, Func<ObjectiveMetrics, double?> metric)
    {
        var order = Explanations.GoalOrder(objectives).Select(o => o.Id).ToList();
        return [.. trends.Objectives.OrderBy(t => order.IndexOf(t.ObjectiveId) is var i && i >= 0 ? i : int.MaxValue)
            .Select(t => new ChartSeries(GoalName(t.ObjectiveId, objectives), ChartMark.Line,
                [.. t.Points.Select(p => p is null ? null : metric(p))], ChartStyle.Of(Math.Max(0, order.IndexOf(t.ObjectiveId))), t.ObjectiveId))];
    }

    /// <summary>The goal's group first, then everyone else.</summary>
    public static IReadOnlyList<ChartSeries> Outcome(IReadOnlyList<OutcomeSeries> series, ObjectiveRegistry objectives) =>
        [.. series.Select((s, i) => new ChartSeries(GoalName(s.Group, objectives), ChartMark.Line, s.Values, ChartStyle.Of(i), s.Group))];

    /// <summary>
    /// A chart's title as its finding, from the values the chart draws (each series' first <paramref name="categories"/>):
    /// <paramref name="finding"/> names the series that runs highest and the next one down. The highest is the series
    /// with the highest mean; it is named only when, over the categories where it and the next one both have a value
    /// (at least two), it is above by more than the 95% interval of the mean difference (normal approximation, as the
    /// outcome checks use), so the finding is not day-to-day noise. Otherwise (nothing drawn, one series, too few
    /// shared categories, or a difference within the noise) the chart keeps its <paramref name="description"/>.
    /// </summary>
    public static string Finding(IReadOnlyList<ChartSeries> series, int categories, Func<string, string, string> finding, string description)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(finding);
        var drawn = series
            .Select(s => (s.Name, Values: s.Values.Take(categories).Select(v => v is { } x && double.IsFinite(x) ? x : (double?)null).ToList()))
            .Where(s => s.Values.Any(v => v is not null))
            .OrderByDescending(s => s.Values.OfType<double>().Average())
            .ToList();
        if (drawn.Count < 2)
            return description;
        var (first, second) = (drawn[0], drawn[1]);
        var differences = first.Values.Zip(second.Values, (a, b) => a - b).OfType<double>().ToList();
        if (differences.Count < 2)
            return description;
        var mean = differences.Average();
        var error = Math.Sqrt(differences.Sum(d => (d - mean) * (d - mean)) / (differences.Count - 1) / differences.Count);
        return mean - 1.96 * error > 0 ? finding(first.Name, second.Name) : description;
    }

    /// <summary>A goal as readers know it ("Help me learn"); a group that is not a goal ("other goals") as it is.</summary>
    public static string GoalName(string id, ObjectiveRegistry objectives) =>
        objectives.TryGet(id, out var objective) ? objective.DisplayName : id;
}
