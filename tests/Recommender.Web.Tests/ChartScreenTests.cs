using Bunit;
using Microsoft.Playwright;
using Recommender.Web.Components.Shared;

namespace Recommender.Web.Tests;

/// <summary>
/// The chart component as Chromium draws it with the app's own style sheet, at a laptop's width: where a label or a
/// title's words land can only be measured in a browser. Each chart is rendered on its own and put into a page of the
/// running app in place of its content.
/// </summary>
[Collection(WebCollection.Name)]
public sealed class ChartScreenTests(WebFixture web) : BrowserTest, IDisposable
{
    private readonly BunitContext _context = new();

    /// <summary>A page of the app at 1280 × 900 (or as wide as given) whose content is the chart, with the app's styles.</summary>
    private async Task<IPage> ChartPageAsync(string title, IReadOnlyList<string> categories, IReadOnlyList<ChartSeries> series, ChartRange range = ChartRange.FromZero, int width = 1280)
    {
        var markup = _context.Render<Chart>(p => p
            .Add(c => c.Id, "test-chart")
            .Add(c => c.Title, title)
            .Add(c => c.YLabel, "Share of items")
            .Add(c => c.XLabel, "Day (UTC)")
            .Add(c => c.Categories, categories)
            .Add(c => c.Series, series)
            .Add(c => c.Range, range)).Markup;
        var context = await Browser.NewContextAsync(new() { BaseURL = web.BaseAddress.ToString(), ViewportSize = new() { Width = width, Height = 900 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/sign-in");
        await page.Locator("main").EvaluateAsync("(main, markup) => main.innerHTML = markup", markup);
        await Assertions.Expect(page.Locator("#test-chart svg").First).ToBeVisibleAsync();
        return page;
    }

    [Fact]
    public async Task Labels_of_marks_on_the_x_axis_never_overlap()
    {
        string[] week = ["1 Dec", "2 Dec", "3 Dec", "4 Dec", "5 Dec", "6 Dec", "7 Dec"];
        // Two goals at 0 to the end, one at 0 until the day before, one above: the labels of the last two days' marks
        // would run into each other, and the two at one place share a label.
        var page = await ChartPageAsync("A finding", week,
        [
            new("Help me learn", ChartMark.Line, [0, 0, 0, 0, 0, 0, 0], Key: "learning"),
            new("Show me other perspectives", ChartMark.Line, [0, 0, 0, 0, 0, 0, 0.01], Key: "diversity"),
            new("More of what I enjoy", ChartMark.Line, [0.02, 0.04, 0.03, 0.05, 0.04, 0.04, 0.05], Key: "engagement"),
            new("Don't profile me", ChartMark.Line, [0, 0, 0, 0, 0, 0, 0], Key: "no_profiling"),
        ]);

        var boxes = await page.Locator("#test-chart text.axis-value").EvaluateAllAsync<double[][]>(
            "labels => labels.map(t => { const b = t.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; })");
        for (var i = 0; i < boxes.Length; i++)
        {
            for (var j = i + 1; j < boxes.Length; j++)
            {
                var (a, b) = (boxes[i], boxes[j]);
                Assert.False(a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3],
                    $"end labels overlap: {string.Join(',', a)} and {string.Join(',', b)}");
            }
        }
        Assert.Equal(2, boxes.Length);
        // The label moved off its mark points back to it.
        Assert.Equal(1, await page.Locator("#test-chart line.leader").CountAsync());
    }

    public static TheoryData<string, string[], ChartSeries[]> EndLabelCharts => new()
    {
        {
            // The overview after two models, the first of which popularity scored 0: its label stood beside v1, under
            // the y-axis pinned over the box's left edge.
            "quality", ["v1", "v2"],
            [
                new("each model", ChartMark.Line, [0.0093, 0.194], ChartStyle.Of(0), "model"),
                new("active model", ChartMark.Points, [null, 0.194], ChartStyle.Of(1), "active"),
                new("popularity (baseline)", ChartMark.Line, [0, 0.0731], ChartStyle.Baseline, "baseline"),
            ]
        },
        {
            // A baseline at 0 on the newest of two: its label ran left from the mark, towards the pinned axis.
            "newest", ["v1", "v2"],
            [
                new("each model", ChartMark.Line, [0.2, 0.1], ChartStyle.Of(0), "model"),
                new("popularity (baseline)", ChartMark.Line, [0.05, 0], ChartStyle.Baseline, "baseline"),
            ]
        },
        {
            // Three goals at 0 on the newest day share one label, longer than the part of the chart a phone shows.
            "shared", ["1 Dec", "2 Dec", "3 Dec", "4 Dec", "5 Dec", "6 Dec", "7 Dec"],
            [
                new("Help me learn", ChartMark.Line, [0, 0, 0, 0, 0, 0, 0], Key: "learning"),
                new("Show me other perspectives", ChartMark.Line, [0, 0, 0, 0, 0, 0, 0], Key: "diversity"),
                new("More of what I enjoy", ChartMark.Line, [0.02, 0.04, 0.03, 0.05, 0.04, 0.04, 0.05], Key: "engagement"),
                new("Don't profile me", ChartMark.Line, [0, 0, 0, 0, 0, 0, 0], Key: "no_profiling"),
            ]
        },
    };

    [Theory]
    [MemberData(nameof(EndLabelCharts))]
    public async Task End_labels_on_a_phone_stand_in_view_clear_of_the_pinned_y_axis(string name, string[] categories, ChartSeries[] series)
    {
        var page = await ChartPageAsync("A finding", categories, series, width: 390);

        // The box opens at its right end, as a phone shows it; nothing is scrolled.
        var scroll = page.Locator("#test-chart .chart-scroll");
        Assert.True(await scroll.EvaluateAsync<bool>("e => e.scrollWidth > e.clientWidth + 1"), $"{name}: the chart fits a phone, so nothing was measured");
        var box = (await scroll.BoundingBoxAsync())!;
        var axis = (await page.Locator("#test-chart svg.y-axis").BoundingBoxAsync())!;
        var labels = await page.Locator("#test-chart text.axis-value").AllAsync();
        Assert.NotEmpty(labels);
        foreach (var label in labels)
        {
            var text = await label.TextContentAsync();
            var at = (await label.BoundingBoxAsync())!;
            Assert.True(at.X >= axis.X + axis.Width && at.X + at.Width <= box.X + box.Width,
                $"{name}: \"{text}\" runs from {at.X:0} to {at.X + at.Width:0}; the pinned y-axis ends at {axis.X + axis.Width:0} and the box at {box.X + box.Width:0}");
        }
    }

    public static TheoryData<string, string[]> ManyCategories => new()
    {
        // The report over 30 days: "7 Nov", centred on a mark a few units right of the axis, ran under the pinned y-axis.
        { "days", [.. Enumerable.Range(0, 30).Select(d => new DateTime(2026, 11, 7).AddDays(d).ToString("d MMM", System.Globalization.CultureInfo.InvariantCulture))] },
        // The overview after sixty model versions: "v1" ran under the axis too.
        { "versions", [.. Enumerable.Range(1, 60).Select(v => $"v{v}")] },
    };

    [Theory]
    [MemberData(nameof(ManyCategories))]
    public async Task On_a_phone_the_oldest_x_label_is_whole_at_the_start_and_the_newest_at_the_end(string name, string[] categories)
    {
        var page = await ChartPageAsync("A finding", categories,
            [new("each model", ChartMark.Line, [.. categories.Select((_, i) => (double?)(0.1 + i % 3 * 0.01))], ChartStyle.Of(0), "model")], width: 390);
        var scroll = page.Locator("#test-chart .chart-scroll");
        Assert.True(await scroll.EvaluateAsync<bool>("e => e.scrollWidth > e.clientWidth + 1"), $"{name}: the chart fits a phone, so nothing was measured");
        var box = (await scroll.BoundingBoxAsync())!;
        var axis = (await page.Locator("#test-chart svg.y-axis").BoundingBoxAsync())!;
        var labels = page.Locator("#test-chart .chart-scroll text.x-tick");
        Assert.Equal(categories[0], await labels.First.TextContentAsync());

        // Scrolled to its start (the box runs right to left, so that is its most negative position), then to its end.
        await scroll.EvaluateAsync("e => e.scrollLeft = -e.scrollWidth");
        var oldest = (await labels.First.BoundingBoxAsync())!;
        Assert.True(oldest.X >= axis.X + axis.Width && oldest.X + oldest.Width <= box.X + box.Width,
            $"{name}: at the start \"{categories[0]}\" runs from {oldest.X:0} to {oldest.X + oldest.Width:0}; the pinned y-axis ends at {axis.X + axis.Width:0}");
        await scroll.EvaluateAsync("e => e.scrollLeft = 0");
        var newest = (await labels.Last.BoundingBoxAsync())!;
        Assert.True(newest.X >= axis.X + axis.Width && newest.X + newest.Width <= box.X + box.Width,
            $"{name}: at the end \"{await labels.Last.TextContentAsync()}\" runs from {newest.X:0} to {newest.X + newest.Width:0}; the box ends at {box.X + box.Width:0}");
    }

    [Theory]
    [InlineData(true, 0.009, 0.0)]
    [InlineData(true, 0.186, 0.073)]
    [InlineData(false, 0.812, 0.934)]
    public async Task Model_quality_title_wraps_without_a_figure_apart_from_its_words(bool ranking, double figure, double baseline)
    {
        // The overview's title for a first model whose popularity scored 0 ended "… where popularity scores" with a lone
        // "0" on a second line.
        var active = ranking
            ? new ModelPoint(1, true, "ready", DateTimeOffset.UtcNow, null, null, null, TestNdcg: figure, PopularityNdcg: baseline)
            : new ModelPoint(12, true, "ready", DateTimeOffset.UtcNow, figure, baseline, null);
        var page = await ChartPageAsync(AdminText.QualityTitle(active, ranking), ["v1"],
            [new("each model", ChartMark.Line, [figure], ChartStyle.Of(0), "model")]);

        // Each run of text between ordinary spaces, with the top of the line it stands on.
        var words = await page.Locator("#test-chart .chart-title").EvaluateAsync<string[]>("""
            title => {
              const text = title.firstChild, words = [];
              for (const m of text.data.matchAll(/[^ ]+/g)) {
                const r = document.createRange();
                r.setStart(text, m.index);
                r.setEnd(text, m.index + m[0].length);
                const rects = r.getClientRects();
                words.push(Math.round(rects[0].top) + ' ' + rects.length + ' ' + m[0]);
              }
              return words;
            }
            """);
        var lines = words.Select(w => w.Split(' ', 3)).GroupBy(w => w[0]).Select(g => g.Select(w => w[2]).ToList()).ToList();
        Assert.All(words, w => Assert.Equal("1", w.Split(' ', 3)[1]));
        Assert.All(lines, line => Assert.False(char.IsDigit(line[0][0]), $"a line starts with a figure: {string.Join(" | ", lines.Select(l => string.Join(' ', l)))}"));
        Assert.All(lines, line => Assert.True(line.Count > 1, $"a word stands alone on a line: {string.Join(" | ", lines.Select(l => string.Join(' ', l)))}"));
    }

    public void Dispose() => _context.Dispose();
}
