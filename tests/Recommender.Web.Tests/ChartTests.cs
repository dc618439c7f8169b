using System.Globalization;
using Bunit;
using Recommender.Web.Components.Shared;

namespace Recommender.Web.Tests;

/// <summary>The chart component on its own: ranges a reader expects, a legend drawn like its series, values on hover, and no NaN.</summary>
public sealed class ChartTests : IDisposable
{
    private static readonly string[] Days = ["1 Dec", "2 Dec", "3 Dec", "4 Dec"];
    private readonly BunitContext _context = new();

    private IRenderedComponent<Chart> Render(IReadOnlyList<ChartSeries> series, ChartRange range = ChartRange.FromZero, IReadOnlyList<string>? categories = null) =>
        _context.Render<Chart>(p => p
            .Add(c => c.Id, "test-chart")
            .Add(c => c.Title, "A finding")
            .Add(c => c.YLabel, "Share of items")
            .Add(c => c.XLabel, "Day (UTC)")
            .Add(c => c.Categories, categories ?? Days)
            .Add(c => c.Series, series)
            .Add(c => c.Range, range)
            .Add(c => c.Caption, "Look for the lines to part."));

    private static List<double> Ticks(IRenderedComponent<Chart> chart) =>
        [.. chart.FindAll("text.y-tick").Select(t => double.Parse(t.TextContent, CultureInfo.InvariantCulture))];

    [Fact]
    public void Share_axis_runs_from_zero_to_one_whatever_the_values()
    {
        var chart = Render([new("learning", ChartMark.Line, [0.1, 0.3, null, 0.25])], ChartRange.Share);

        var ticks = Ticks(chart);
        Assert.Equal(0.0, ticks.Min());
        Assert.Equal(1.0, ticks.Max());
    }

    [Fact]
    public void Bars_start_at_zero_and_the_axis_ends_at_the_next_round_number()
    {
        var chart = Render([new("lists", ChartMark.Bars, [3, 47, 12, 20])]);

        var ticks = Ticks(chart);
        Assert.Equal(0.0, ticks.Min());
        Assert.Equal(50.0, ticks.Max());
        Assert.Equal(4, chart.FindAll("rect.column").Count);
    }

    [Fact]
    public void Fitted_axis_hugs_values_far_from_zero()
    {
        var chart = Render([new("skill", ChartMark.Line, [1480, 1510, 1530, 1525])], ChartRange.Fit);

        var ticks = Ticks(chart);
        Assert.True(ticks.Min() > 1400 && ticks.Min() <= 1480, $"lowest tick {ticks.Min()}");
        Assert.True(ticks.Max() >= 1530 && ticks.Max() < 1600, $"highest tick {ticks.Max()}");
    }

    [Fact]
    public void Legend_marker_has_the_colour_dash_and_shape_of_its_series_and_series_differ()
    {
        var chart = Render(
        [
            new("Help me learn", ChartMark.Line, [0.2, 0.4, 0.5, 0.6], Key: "learning"),
            new("Show me other perspectives", ChartMark.Line, [0.5, 0.5, 0.4, 0.3], Key: "diversity"),
            new("global mean", ChartMark.Line, [0.45, 0.45, 0.45, 0.45], ChartStyle.Baseline, "baseline"),
        ], ChartRange.Share);

        var seen = new List<(string? Colour, string? Dash, string? Shape)>();
        foreach (var key in new[] { "learning", "diversity", "baseline" })
        {
            var legend = chart.Find($"g.legend-entry[data-series='{key}']");
            var series = chart.Find($"g.series[data-series='{key}']");
            var line = series.QuerySelector("polyline.line")!;
            var swatch = legend.QuerySelector("line.swatch")!;
            Assert.Equal(line.GetAttribute("stroke"), swatch.GetAttribute("stroke"));
            Assert.Equal(line.GetAttribute("stroke-dasharray"), swatch.GetAttribute("stroke-dasharray"));
            var pointMarker = series.QuerySelector("g.point path.marker")!;
            var legendMarker = legend.QuerySelector("path.marker")!;
            Assert.Equal(pointMarker.GetAttribute("fill"), legendMarker.GetAttribute("fill"));
            Assert.Equal(line.GetAttribute("stroke"), pointMarker.GetAttribute("fill"));
            seen.Add((line.GetAttribute("stroke"), line.GetAttribute("stroke-dasharray"), Shape(legendMarker.GetAttribute("d")!)));
        }
        Assert.Equal(3, seen.Select(s => s.Colour).Distinct().Count());
        Assert.Equal(3, seen.Select(s => s.Dash).Distinct().Count());
        Assert.Equal(["Help me learn", "Show me other perspectives", "global mean"], chart.FindAll("text.legend").Select(t => t.TextContent));
    }

    [Fact]
    public void Palette_is_okabe_ito_without_yellow()
    {
        string[] okabeIto = ["#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7"];
        Assert.Equal(okabeIto.Order(), ChartStyle.Palette.Select(s => s.Colour).Order());
        Assert.Equal(ChartStyle.Palette.Count, ChartStyle.Palette.Select(s => s.Shape).Distinct().Count());
    }

    [Fact]
    public void Every_value_has_its_exact_figure_on_hover()
    {
        var chart = Render([new("Help me learn", ChartMark.Line, [0.125, null, 0.5, 0.75], Key: "learning")], ChartRange.Share);

        var points = chart.FindAll("g.series[data-series=learning] g.point");
        Assert.Equal(["1 Dec", "3 Dec", "4 Dec"], points.Select(p => p.GetAttribute("data-category")));
        Assert.Equal(["Help me learn, 1 Dec: 0.125", "Help me learn, 3 Dec: 0.5", "Help me learn, 4 Dec: 0.75"],
            points.Select(p => p.QuerySelector("title")!.TextContent));
        // The gap on 2 Dec breaks the line: one segment from 3 Dec on, none across the gap.
        Assert.Single(chart.FindAll("g.series[data-series=learning] polyline"));
    }

    [Fact]
    public void No_values_show_a_plain_no_data_yet_not_an_empty_or_NaN_chart()
    {
        var none = Render([new("Help me learn", ChartMark.Line, [null, null, null, null])]);
        var nan = Render([new("Help me learn", ChartMark.Line, [double.NaN, double.PositiveInfinity, null, null])]);
        var noDays = Render([new("Help me learn", ChartMark.Line, [])], categories: []);

        foreach (var chart in new[] { none, nan, noDays })
        {
            Assert.StartsWith("No data yet.", chart.Find(".chart-empty").TextContent, StringComparison.Ordinal);
            Assert.Empty(chart.FindAll("svg"));
            Assert.DoesNotContain("NaN", chart.Markup, StringComparison.Ordinal);
            Assert.DoesNotContain("Infinity", chart.Markup, StringComparison.Ordinal);
            Assert.Equal("A finding", chart.Find("figcaption .chart-title").TextContent);
        }
    }

    [Fact]
    public void Title_and_caption_are_apart_so_the_finding_does_not_run_into_what_to_look_for()
    {
        var chart = Render([new("Help me learn", ChartMark.Line, [0.2, 0.3, 0.4, 0.5])], ChartRange.Share);

        Assert.Equal("A finding", chart.Find("figcaption > .chart-title").TextContent);
        Assert.Equal("Look for the lines to part.", chart.Find("figcaption > .chart-caption").TextContent);
        // Read as one sentence by a screen reader: the two are still apart by a space.
        Assert.Equal("A finding Look for the lines to part.", System.Text.RegularExpressions.Regex.Replace(chart.Find("figcaption").TextContent, @"\s+", " ").Trim());
    }

    [Fact]
    public void A_NaN_among_values_is_left_out_not_drawn()
    {
        var chart = Render([new("Help me learn", ChartMark.Line, [0.2, double.NaN, 0.4, 0.5], Key: "learning")], ChartRange.Share);

        Assert.Equal(3, chart.FindAll("g.point").Count);
        Assert.DoesNotContain("NaN", chart.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void A_mark_on_the_x_axis_is_cut_out_of_the_axis_line_and_named_beside_it()
    {
        // The overview's chart with one model version, whose popularity baseline scored 0.
        var chart = Render(
        [
            new("each model", ChartMark.Line, [0.009], ChartStyle.Of(0), "model"),
            new("active model", ChartMark.Points, [0.009], ChartStyle.Of(1), "active"),
            new("popularity (baseline)", ChartMark.Line, [0], ChartStyle.Baseline, "baseline"),
        ], categories: ["v1"]);

        var axisY = double.Parse(chart.FindAll("line.axis")[1].GetAttribute("y1")!, CultureInfo.InvariantCulture);
        var onAxis = chart.Find("g.series[data-series=baseline] g.point path.marker");
        Assert.Contains("on-axis", onAxis.ClassList);
        Assert.Empty(chart.FindAll("g.series[data-series=model] path.on-axis, g.series[data-series=active] path.on-axis"));
        var label = Assert.Single(chart.FindAll("text.axis-value"));
        Assert.Equal("baseline", label.GetAttribute("data-series"));
        Assert.Equal("popularity (baseline): 0", label.TextContent);
        Assert.True(double.Parse(label.GetAttribute("y")!, CultureInfo.InvariantCulture) < axisY - 4, "the label is not above the axis line");
        var markX = double.Parse(chart.Find("g.series[data-series=baseline] circle.hit").GetAttribute("cx")!, CultureInfo.InvariantCulture);
        Assert.True(double.Parse(label.GetAttribute("x")!, CultureInfo.InvariantCulture) > markX, "the label does not stand beside its mark");
    }

    [Fact]
    public void Only_the_newest_mark_on_the_x_axis_is_named_and_marks_above_it_are_not()
    {
        var chart = Render([new("lists served", ChartMark.Line, [0, 0, 3, 0], Key: "lists"), new("clicks", ChartMark.Line, [1, 2, 3, 4], Key: "clicks")]);

        Assert.Equal(3, chart.FindAll("g.series[data-series=lists] path.on-axis").Count);
        Assert.Empty(chart.FindAll("g.series[data-series=clicks] path.on-axis"));
        var label = Assert.Single(chart.FindAll("text.axis-value"));
        Assert.Equal("lists served: 0", label.TextContent);
        // On 4 Dec, the last category, so it stands to the left of its mark rather than past the plot's edge.
        Assert.Equal("end", label.GetAttribute("text-anchor"));
        var markX = double.Parse(chart.FindAll("g.series[data-series=lists] circle.hit")[^1].GetAttribute("cx")!, CultureInfo.InvariantCulture);
        Assert.True(double.Parse(label.GetAttribute("x")!, CultureInfo.InvariantCulture) < markX);
    }

    [Fact]
    public void Goals_on_the_x_axis_at_one_figure_share_one_label()
    {
        // The report's low-credibility chart: three goals at 0 all week, one above it.
        var week = new[] { "1 Dec", "2 Dec", "3 Dec", "4 Dec", "5 Dec", "6 Dec", "7 Dec" };
        var chart = Render(
        [
            new("Help me learn", ChartMark.Line, [0, 0, 0, 0, 0, 0, 0], Key: "learning"),
            new("Show me other perspectives", ChartMark.Line, [0, 0, 0, 0, 0, 0, 0], Key: "diversity"),
            new("More of what I enjoy", ChartMark.Line, [0.02, 0.04, 0.03, 0.05, 0.04, 0.04, 0.05], Key: "engagement"),
            new("Don't profile me", ChartMark.Line, [0, 0, 0, 0, 0, 0, 0], Key: "no_profiling"),
        ], categories: week);

        var label = Assert.Single(chart.FindAll("text.axis-value"));
        Assert.Equal("Help me learn, Show me other perspectives, Don't profile me: 0", label.TextContent);
        Assert.Equal("learning diversity no_profiling", label.GetAttribute("data-series"));
        Assert.Empty(chart.FindAll("line.leader"));
    }

    /// <summary>The marker's shape from its path: the commands it uses, without the coordinates.</summary>
    private static string Shape(string path) => new([.. path.Where(char.IsLetter)]);

    public void Dispose() => _context.Dispose();
}
