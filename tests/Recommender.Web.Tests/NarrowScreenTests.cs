using Bunit;
using Microsoft.Playwright;
using Recommender.Core;
using Recommender.Data;
using Recommender.Web.Components.Shared;

namespace Recommender.Web.Tests;

/// <summary>
/// Pages as a phone (390 × 844) shows them, in a real Chromium: what is laid out where can only be measured in a browser.
/// </summary>
[Collection(WebCollection.Name)]
public sealed class NarrowScreenTests(WebFixture web) : BrowserTest, IDisposable
{
    private const int PhoneWidth = 390;
    private readonly BunitContext _context = new();

    public void Dispose() => _context.Dispose();

    private Task<IPage> SignedInPageAsync(Account account, int width = PhoneWidth) =>
        SignedInPageAsync(web.BaseAddress, account.Login, WebFixture.Password, width, 844);

    /// <summary>A reader through onboarding who has been served one feed, which is in the audit log.</summary>
    private async Task<(Account Reader, ServedListRow Served)> ServedReaderAsync()
    {
        var reader = await web.NewAccountAsync();
        using (var client = await web.OnboardedAsync(reader))
            await client.PageAsync("/");
        await web.FlushAuditAsync();
        return (reader, (await new ServedListStore(web.DataSource).QueryAsync(new ServedListFilter(UserId: reader.Id, Limit: 1)))[0]);
    }

    [Fact]
    public async Task Topic_picker_on_a_phone_keeps_a_subjects_count_on_one_line_after_its_name()
    {
        // A subject as the Stack Exchange demo has them ("All of Quantum Computing · 612 items"): the fixture's topics have
        // none, so the picker is rendered on its own and put into a page of the app, in a fieldset as the welcome page has it.
        var items = Enumerable.Range(1, 612).Select(id => new ItemInfo(id, $"i{id}", $"Item {id}", ["qc", $"qc/tag{id % 13}"], null, null, null, null, null)).ToList();
        var catalog = new Catalog(items, topicParents: Enumerable.Range(0, 13).ToDictionary(i => $"qc/tag{i}", _ => "qc"),
            topicTitles: new Dictionary<string, string> { ["qc"] = "Quantum Computing" });
        var markup = _context.Render<TopicPicker>(p => p.Add(c => c.Catalog, catalog).Add(c => c.Chosen, new HashSet<string>())).Markup;
        var page = await (await Browser.NewContextAsync(new() { BaseURL = web.BaseAddress.ToString(), ViewportSize = new() { Width = PhoneWidth, Height = 844 } })).NewPageAsync();
        await page.GotoAsync("/sign-in");
        await page.Locator("main").EvaluateAsync("(main, markup) => main.innerHTML = `<form class='stack'><fieldset><legend>Topics you care about</legend>${markup}</fieldset></form>`", markup);

        var count = page.Locator("fieldset.topic-group > legend .muted");
        await Assertions.Expect(count).ToContainTextAsync("612");
        // One line of text high: as a flex item of its own it stood in a column beside the name, "· 612" over "items".
        var measured = await count.EvaluateAsync<double[]>("e => [e.getBoundingClientRect().height, parseFloat(getComputedStyle(e).lineHeight)]");
        var (height, lineHeight) = (measured[0], measured[1]);
        Assert.True(height < 1.5 * lineHeight, $"the count is {height} pixels high, lines are {lineHeight}");
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the picker scrolls sideways on a phone");
    }

    [Fact]
    public async Task Shown_record_on_a_phone_gives_each_items_reasons_the_screens_width()
    {
        var (reader, served) = await ServedReaderAsync();
        var page = await SignedInPageAsync(reader);
        await page.ArrivedAsync("/$");

        await page.GotoAsync($"/settings/shown/{served.RequestId}");

        var reasons = page.Locator("table.served td.reasons");
        Assert.Equal(served.ReadItems().Count, await reasons.CountAsync());
        foreach (var cell in await reasons.AllAsync())
        {
            var box = (await cell.BoundingBoxAsync())!;
            Assert.True(box.X >= 0 && box.X + box.Width <= PhoneWidth, $"the reasons run from {box.X} to {box.X + box.Width}, off a {PhoneWidth}-pixel screen");
            Assert.True(box.Width >= PhoneWidth * 0.6, $"the reasons are squeezed into {box.Width} pixels");
        }
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the record scrolls sideways on a phone");
    }

    [Fact]
    public async Task Shown_record_on_a_phone_wraps_a_title_with_a_long_unbroken_string_instead_of_scrolling_sideways()
    {
        var (reader, served) = await ServedReaderAsync();
        var page = await SignedInPageAsync(reader);
        await page.ArrivedAsync("/$");
        await page.GotoAsync($"/settings/shown/{served.RequestId}");

        // A title as the Stack Exchange demo has one ("Testnet Node Error - [cardano-:cardano.node.DnsSubscription:Error:211493]"):
        // the fixture's titles are short, so one cell gets such a title in the page as served.
        var title = page.Locator("table.served td.item").First;
        await title.EvaluateAsync("e => e.textContent = 'Testnet Node Error - [cardano-:cardano.node.DnsSubscription:Error:211493]'");

        var wrap = page.Locator(".table-wrap:has(table.served)");
        var widths = await wrap.EvaluateAsync<int[]>("e => [e.scrollWidth, e.clientWidth]");
        Assert.True(widths[0] <= widths[1], $"the list is {widths[0]} pixels wide in a box of {widths[1]}: it scrolls sideways to nothing on a phone");
        var box = (await title.BoundingBoxAsync())!;
        Assert.True(box.X + box.Width <= PhoneWidth, $"the title runs to {box.X + box.Width}, off a {PhoneWidth}-pixel screen");
    }

    [Fact]
    public async Task Report_on_a_phone_opens_each_chart_at_its_newest_day_and_wraps_the_table_captions()
    {
        var (reader, served) = await ServedReaderAsync();
        // Something consumed today, so the breadth check has a table.
        await new EventStore(web.DataSource).AppendAsync([new NewEvent(reader.Id, served.ReadItems()[0].ItemId, EventKind.Click, null, DateTimeOffset.UtcNow, $"narrow-{Guid.NewGuid():N}")]);
        var admin = await SignedInPageAsync(await web.NewAccountAsync("admin"));
        await admin.ArrivedAsync("/admin$");

        await admin.GotoAsync("/admin/report?days=7");

        var boxes = await admin.Locator(".chart-scroll").AllAsync();
        Assert.NotEmpty(boxes);
        var scrolling = 0;
        foreach (var scroll in boxes)
        {
            // Too narrow for its chart, the box opens at its right end: the newest day's label is in view.
            if (!await scroll.EvaluateAsync<bool>("e => e.scrollWidth > e.clientWidth + 1"))
                continue;
            scrolling++;
            var box = (await scroll.BoundingBoxAsync())!;
            var newest = (await scroll.Locator("svg text.x-tick").Last.BoundingBoxAsync())!;
            Assert.True(newest.X >= box.X && newest.X + newest.Width <= box.X + box.Width,
                $"the newest day's label is at {newest.X}–{newest.X + newest.Width}, outside the chart's box at {box.X}–{box.X + box.Width}");
        }
        Assert.True(scrolling > 0, "no chart is wider than a phone, so nothing was measured");
        var caption = admin.Locator("#breadth-table-caption");
        await Assertions.Expect(caption).ToBeVisibleAsync();
        var captionBox = (await caption.BoundingBoxAsync())!;
        Assert.True(captionBox.X >= 0 && captionBox.X + captionBox.Width <= PhoneWidth, $"the table's caption runs to {captionBox.X + captionBox.Width}");
    }

    [Fact]
    public async Task Report_outcome_tables_of_four_columns_fit_a_phone_without_a_sideways_scroll()
    {
        var (reader, served) = await ServedReaderAsync();
        // Something consumed today, so the breadth check has a table.
        await new EventStore(web.DataSource).AppendAsync([new NewEvent(reader.Id, served.ReadItems()[0].ItemId, EventKind.Click, null, DateTimeOffset.UtcNow, $"narrow-{Guid.NewGuid():N}")]);
        var admin = await SignedInPageAsync(await web.NewAccountAsync("admin"));
        await admin.ArrivedAsync("/admin$");

        await admin.GotoAsync("/admin/report?days=7");

        // Each column's longest word fits: the table has no figure out of view, so its box should not scroll (it did, by 6 pixels).
        var wrap = admin.Locator(".table-wrap:has(#breadth-table)");
        await Assertions.Expect(wrap).ToBeVisibleAsync();
        var widths = await wrap.EvaluateAsync<int[]>("e => [e.scrollWidth, e.clientWidth]");
        Assert.True(widths[0] <= widths[1], $"the breadth table is {widths[0]} pixels wide in a box of {widths[1]}");
    }

    [Fact]
    public async Task Report_skill_table_on_a_phone_fits_with_each_goal_name_on_a_line_and_each_figure_named()
    {
        var learner = await web.NewAccountAsync();
        var other = await web.NewAccountAsync();
        var settings = new SettingsStore(web.DataSource);
        await settings.SetAsync(learner.Id, "learning", """{"topics":["Physics"]}""");
        await settings.SetAsync(other.Id, "engagement", "{}");
        await settings.SetTopicsAsync(other.Id, ["Physics"], "engagement");
        var items = await new CatalogStore(web.DataSource).ResolveItemsAsync(["item-9"]);
        await new EventStore(web.DataSource).AppendAsync(
        [
            new NewEvent(learner.Id, items["item-9"], EventKind.QuizCorrect, null, DateTimeOffset.UtcNow.AddHours(-2), $"narrow-{Guid.NewGuid():N}"),
            new NewEvent(other.Id, items["item-9"], EventKind.QuizWrong, null, DateTimeOffset.UtcNow.AddHours(-2), $"narrow-{Guid.NewGuid():N}"),
        ]);
        var admin = await SignedInPageAsync(await web.NewAccountAsync("admin"));
        await admin.ArrivedAsync("/admin$");

        await admin.GotoAsync("/admin/report?days=7");

        // Seven columns squeezed into the phone's width wrapped "Help me learn" a word a line.
        var wrap = admin.Locator(".table-wrap:has(#skill-table)");
        await Assertions.Expect(wrap).ToBeVisibleAsync();
        var widths = await wrap.EvaluateAsync<int[]>("e => [e.scrollWidth, e.clientWidth]");
        Assert.True(widths[0] <= widths[1], $"the skill table is {widths[0]} pixels wide in a box of {widths[1]}");
        var goal = admin.Locator("#skill-table tr[data-group=learning] th");
        await Assertions.Expect(goal).ToHaveTextAsync("Help me learn");
        var lines = await goal.EvaluateAsync<int>("e => { const r = document.createRange(); r.selectNodeContents(e); return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }");
        Assert.Equal(1, lines);
        // Each figure says what it is, and stands on the screen.
        var headers = await admin.Locator("#skill-table thead th").AllTextContentsAsync();
        var cells = await admin.Locator("#skill-table tr[data-group=learning] td").AllAsync();
        Assert.Equal(headers.Count - 1, cells.Count);
        for (var c = 0; c < cells.Count; c++)
        {
            var named = await cells[c].EvaluateAsync<string>("e => getComputedStyle(e, '::before').content + ' ' + e.textContent");
            Assert.Contains(headers[c + 1], named, StringComparison.Ordinal);
            var box = (await cells[c].BoundingBoxAsync())!;
            Assert.True(box.X >= 0 && box.X + box.Width <= PhoneWidth, $"\"{named}\" runs from {box.X} to {box.X + box.Width}");
        }
    }

    [Fact]
    public async Task Report_on_a_phone_names_every_series_of_each_chart_in_full()
    {
        await ServedReaderAsync();
        var admin = await SignedInPageAsync(await web.NewAccountAsync("admin"));
        await admin.ArrivedAsync("/admin$");

        await admin.GotoAsync("/admin/report?days=7");

        var measured = 0;
        foreach (var chart in await admin.Locator("figure.chart").AllAsync())
        {
            var drawn = await chart.Locator(".chart-scroll g.legend-entry").AllAsync();
            if (drawn.Count == 0)
                continue;
            measured++;
            // The drawn legend would open cut off at the box's left; the list under the box names each series in view.
            var listed = await chart.Locator(".chart-legend li").AllAsync();
            Assert.Equal(drawn.Count, listed.Count);
            foreach (var entry in listed)
            {
                await Assertions.Expect(entry).ToBeVisibleAsync();
                var box = (await entry.BoundingBoxAsync())!;
                Assert.True(box.X >= 0 && box.X + box.Width <= PhoneWidth, $"\"{await entry.TextContentAsync()}\" runs from {box.X} to {box.X + box.Width}");
            }
            await Assertions.Expect(drawn[0]).ToBeHiddenAsync();
        }
        Assert.True(measured > 0, "no chart has a legend, so nothing was measured");
    }

    [Fact]
    public async Task Report_on_a_phone_keeps_each_charts_y_axis_in_view_at_the_charts_own_scale()
    {
        await ServedReaderAsync();
        var admin = await SignedInPageAsync(await web.NewAccountAsync("admin"));
        await admin.ArrivedAsync("/admin$");

        await admin.GotoAsync("/admin/report?days=7");

        var measured = 0;
        foreach (var frame in await admin.Locator(".chart-frame").AllAsync())
        {
            var scroll = frame.Locator(".chart-scroll");
            if (!await scroll.EvaluateAsync<bool>("e => e.scrollWidth > e.clientWidth + 1"))
                continue;
            measured++;
            var axis = frame.Locator("svg.y-axis");
            await Assertions.Expect(axis).ToBeVisibleAsync();
            var box = (await scroll.BoundingBoxAsync())!;
            var axisBox = (await axis.BoundingBoxAsync())!;
            Assert.True(Math.Abs(axisBox.X - box.X) < 1, $"the y-axis is at {axisBox.X}, the chart's box at {box.X}");
            // Each value on the axis stands level with its gridline's value in the chart scrolled under it.
            var shown = await axis.Locator("text.tick").AllAsync();
            var drawn = await scroll.Locator("svg text.y-tick").AllAsync();
            Assert.Equal(drawn.Count, shown.Count);
            Assert.NotEmpty(shown);
            for (var t = 0; t < shown.Count; t++)
            {
                var (a, b) = ((await shown[t].BoundingBoxAsync())!, (await drawn[t].BoundingBoxAsync())!);
                Assert.Equal(await drawn[t].TextContentAsync(), await shown[t].TextContentAsync());
                Assert.True(Math.Abs(a.Y - b.Y) < 1.5 && Math.Abs(a.Height - b.Height) < 1.5, $"tick {t} is at {a.Y} (height {a.Height}) on the axis, {b.Y} (height {b.Height}) in the chart");
                Assert.True(a.X >= 0, $"tick {t} starts off the screen at {a.X}");
            }
        }
        Assert.True(measured > 0, "no chart is wider than a phone, so nothing was measured");
    }

    [Fact]
    public async Task Report_table_on_a_phone_leaves_room_for_figures_beside_the_goal_names()
    {
        using (var reader = await web.OnboardedAsync(await web.NewAccountAsync(), "diversity"))
            await reader.PageAsync("/");
        await web.FlushAuditAsync();
        var admin = await SignedInPageAsync(await web.NewAccountAsync("admin"));
        await admin.ArrivedAsync("/admin$");

        await admin.GotoAsync("/admin/report?days=1");

        // The goal column stays in view as the figures scroll past it: on one line, the longest name took two thirds of the box.
        var goal = admin.Locator("#report tr[data-objective=diversity] th");
        await Assertions.Expect(goal).ToHaveTextAsync("Show me other perspectives");
        var box = (await admin.Locator(".table-wrap:has(#report)").BoundingBoxAsync())!;
        var name = (await goal.BoundingBoxAsync())!;
        Assert.True(name.Width <= box.Width / 2, $"the goal column is {name.Width} pixels of a {box.Width}-pixel box");
    }

    [Fact]
    public async Task Users_on_a_phone_are_a_control_tall_with_the_role_menu_beside_its_button()
    {
        // A name as long as the demo's, which wraps in the first column.
        await new AccountStore(web.DataSource).UpsertAsync($"u-{Guid.NewGuid():N}"[..20], "Simulated reader 01", "user", WebFixture.Password);
        var admin = await SignedInPageAsync(await web.NewAccountAsync("admin"));
        await admin.ArrivedAsync("/admin$");

        // The menu and its button stacked in a narrow column and made each row about 88 pixels tall.
        async Task AssertCompactAsync(string path)
        {
            await admin.GotoAsync(path);
            var rows = await admin.Locator("#users tbody tr").AllAsync();
            Assert.NotEmpty(rows);
            foreach (var row in rows.Take(10))
            {
                var menu = (await row.Locator("select").BoundingBoxAsync())!;
                var button = (await row.Locator("button").BoundingBoxAsync())!;
                Assert.True(Math.Abs(menu.Y + menu.Height / 2 - (button.Y + button.Height / 2)) < 2 && button.X >= menu.X + menu.Width,
                    $"the role menu at {menu.X},{menu.Y} and its button at {button.X},{button.Y} are not side by side");
                var height = (await row.BoundingBoxAsync())!.Height;
                Assert.True(height < menu.Height + button.Height, $"a row is {height} pixels tall, as tall as the {menu.Height}-pixel menu and {button.Height}-pixel button stacked");
            }
            Assert.True(await admin.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), $"{path} scrolls sideways on a phone");
        }
        await AssertCompactAsync("/admin/users?q=" + Uri.EscapeDataString("Simulated reader 01"));
        await AssertCompactAsync("/admin/users");

        // The menu and its button are still a plain form, which asks to confirm the change.
        var reader = admin.Locator("#users tbody tr:has(select option[value=user][selected])").First;
        // Scrolled to the menu as a person would; the name that stays at the box's left edge leaves it clear to click.
        await admin.Locator(".table-wrap:has(#users)").EvaluateAsync("e => e.scrollLeft = e.scrollWidth");
        await reader.Locator("select").SelectOptionAsync("admin");
        await reader.Locator("button").ClickAsync();
        await Assertions.Expect(admin.Locator("section.confirm h2")).ToContainTextAsync("an admin?");
    }

    [Fact]
    public async Task Audit_explorer_on_a_phone_keeps_each_date_and_time_whole()
    {
        await ServedReaderAsync();
        var admin = await SignedInPageAsync(await web.NewAccountAsync("admin"));
        await admin.ArrivedAsync("/admin$");
        await admin.GotoAsync("/admin/audit");

        // "2026-12-07 18:26:38" broke at its hyphens, three lines a row: now the date, then the time, at most two.
        var cells = await admin.Locator("main table tbody tr > td:first-child").EvaluateAllAsync<string[]>("""
            cells => cells.slice(0, 10).map(td => {
              const range = document.createRange();
              range.selectNodeContents(td);
              const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
              return td.textContent.trim() + ': ' + (lines <= 2 && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(td.textContent.trim()));
            })
            """);
        Assert.NotEmpty(cells);
        Assert.All(cells, c => Assert.EndsWith(": true", c, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Admin_tables_on_a_phone_scroll_in_their_own_box_keeping_the_column_each_row_is_about()
    {
        await ServedReaderAsync();
        await new ApiKeyStore(web.DataSource).CreateAsync("A platform with a long name that needs room", ["catalog", "events", "feeds"]);
        var admin = await SignedInPageAsync(await web.NewAccountAsync("admin"));
        await admin.ArrivedAsync("/admin$");

        var scrolled = 0;
        foreach (var path in new[] { "/admin", "/admin/audit", "/admin/report", "/admin/models", "/admin/users", "/admin/keys", "/admin/api-keys" })
        {
            await admin.GotoAsync(path);
            Assert.True(await admin.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), $"{path} scrolls sideways on a phone");
            foreach (var wrap in await admin.Locator(".table-wrap:has(table:not(.served))").AllAsync())
            {
                if (!await wrap.EvaluateAsync<bool>("e => e.scrollWidth > e.clientWidth + 1"))
                    continue;
                scrolled++;
                await wrap.EvaluateAsync("e => e.scrollLeft = e.scrollWidth");
                var box = (await wrap.BoundingBoxAsync())!;
                var first = (await wrap.Locator("tbody tr > :first-child").First.BoundingBoxAsync())!;
                Assert.True(first.X >= box.X - 1 && first.X + first.Width <= box.X + box.Width + 1,
                    $"{path}: scrolled to its end, the table's first column is at {first.X}–{first.X + first.Width}, outside its box at {box.X}–{box.X + box.Width}");
            }
        }
        Assert.True(scrolled > 0, "no admin table is wider than a phone, so nothing was measured");
    }

    [Fact]
    public async Task Models_reranker_run_on_a_phone_reads_as_a_block_without_a_sideways_scroll()
    {
        var trainer = new Training.ModelTraining(new Data.Models.ModelStore(web.DataSource), new EventStore(web.DataSource));
        var model = await trainer.TrainAsync(new Factorization.MatrixFactorizationOptions { NumberOfThreads = 1, ApproximationRank = 8, NumberOfIterations = 5 });
        var store = new Data.Models.RerankerStore(web.DataSource);
        var run = await store.BeginAsync(model.Version);
        await store.CompleteAsync(run, null, """
            {"modelVersion":1,"trainLists":560,"holdoutLists":140,"trainItems":5600,"holdoutFrom":"2026-01-02T00:00:00Z",
             "mfNdcg":0.6203,"rerankerNdcg":0.6164,"standardError":0.0186,"trainSeconds":1.5}
            """, "rejected");
        var admin = await SignedInPageAsync(await web.NewAccountAsync("admin"));
        await admin.ArrivedAsync("/admin$");

        await admin.GotoAsync("/admin/models");

        var wrap = admin.Locator(".table-wrap:has(#reranker-runs)");
        var widths = await wrap.EvaluateAsync<int[]>("e => [e.scrollWidth, e.clientWidth]");
        Assert.True(widths[0] <= widths[1], $"the re-ranker table is {widths[0]} pixels wide in a box of {widths[1]}: it scrolls sideways on a phone");
        var row = admin.Locator($"#reranker-runs tr[data-version='{run}']");
        // Seven columns squeezed to the phone made the row about 300 pixels tall, its status three lines of a word.
        var height = (await row.BoundingBoxAsync())!.Height;
        Assert.True(height < 260, $"a re-ranker run is {height} pixels tall on a phone");
        foreach (var cell in await row.Locator("td").AllAsync())
        {
            var box = (await cell.BoundingBoxAsync())!;
            Assert.True(box.X >= 0 && box.X + box.Width <= PhoneWidth, $"a cell runs from {box.X} to {box.X + box.Width}, off a {PhoneWidth}-pixel screen");
            // Each figure is named on a phone, where the table's header is out of sight.
            Assert.False(string.IsNullOrEmpty(await cell.GetAttributeAsync("data-label")));
        }
        Assert.True(await admin.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the models page scrolls sideways on a phone");
    }
}
