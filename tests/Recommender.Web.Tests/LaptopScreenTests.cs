using Microsoft.Playwright;
using Recommender.Data;
using Recommender.Data.Models;
using Recommender.Factorization;
using Recommender.Training;

namespace Recommender.Web.Tests;

/// <summary>
/// Admin pages as a laptop (1280 × 900) shows them, in a real Chromium: whether a table fits its box and a label sits
/// where it belongs can only be measured in a browser.
/// </summary>
[Collection(WebCollection.Name)]
public sealed class LaptopScreenTests(WebFixture web) : BrowserTest
{
    private const int Width = 1280, Height = 900;

    [Theory]
    [InlineData(Width, Height)]
    [InlineData(1200, 800)]
    public async Task Models_table_fits_its_box_on_a_laptop_with_rows_a_few_lines_tall(int width, int height)
    {
        // Two more models, so an older ready one offers "Roll back…".
        var trainer = new ModelTraining(new ModelStore(web.DataSource), new EventStore(web.DataSource));
        var options = new MatrixFactorizationOptions { NumberOfThreads = 1, ApproximationRank = 8 };
        var first = await trainer.TrainAsync(options);
        await trainer.TrainAsync(options);
        // Activated on the page by an admin whose login is an address, one long word: it must not widen its column.
        Assert.True(await new ModelStore(web.DataSource).ActivateAsync(first.Version, new ModelActivator(ModelActivator.Page, "maria.vandenberg@example.org")));
        var admin = await SignedInPageAsync(web.BaseAddress, (await web.NewAccountAsync("admin")).Login, WebFixture.Password, width, height);
        await admin.ArrivedAsync("/admin$");

        await admin.GotoAsync("/admin/models");

        var wrap = admin.Locator(".table-wrap:has(#models)");
        var widths = await wrap.EvaluateAsync<int[]>("e => [e.scrollWidth, e.clientWidth]");
        var (scrollWidth, clientWidth) = (widths[0], widths[1]);
        var columns = await admin.Locator("#models thead th").EvaluateAllAsync<string[]>("ths => ths.map(t => t.textContent.trim() + '=' + Math.round(t.getBoundingClientRect().width))");
        Assert.True(scrollWidth <= clientWidth, $"the models table is {scrollWidth} pixels wide in a box of {clientWidth}: it scrolls sideways on a laptop ({string.Join(", ", columns)})");
        Assert.True(await admin.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the models page scrolls sideways on a laptop");
        // Readable rows: the longest cell wraps to a few lines (about five on the demo), not a word a line.
        var lineHeight = await admin.Locator("#models tbody td").First.EvaluateAsync<double>("e => parseFloat(getComputedStyle(e).lineHeight)");
        foreach (var row in await admin.Locator("#models tbody tr").AllAsync())
        {
            var box = (await row.BoundingBoxAsync())!;
            Assert.True(box.Height <= 6 * lineHeight, $"a models row is {box.Height} pixels tall, taller than six lines of {lineHeight}");
        }
        // A button's words on one line: "Roll back to this…" wrapped to four lines beside the data.
        var buttons = await admin.Locator("#models a.button").EvaluateAllAsync<string[]>("""
            links => links.map(a => { const r = document.createRange(); r.selectNodeContents(a); return a.textContent + ": " + r.getClientRects().length; })
            """);
        Assert.Contains(buttons, b => b.StartsWith("Roll back…", StringComparison.Ordinal));
        Assert.All(buttons, b => Assert.EndsWith(": 1", b, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Admin_menu_stands_on_one_line_at_1200_pixels_and_Train_now_keeps_its_explanation_beside_it()
    {
        var admin = await SignedInPageAsync(web.BaseAddress, (await web.NewAccountAsync("admin")).Login, WebFixture.Password, 1200, 800);
        await admin.ArrivedAsync("/admin$");

        await admin.GotoAsync("/admin/models");

        // With wider gaps "API keys" stood alone on a second line.
        var tops = await admin.Locator("nav.subnav a").EvaluateAllAsync<double[]>("links => links.map(a => a.getBoundingClientRect().top)");
        Assert.Equal(8, tops.Length);
        Assert.True(tops.Distinct().Count() == 1, $"the admin menu's links stand at {string.Join(", ", tops)}");
        // The explanation wraps in its own column beside the button, not under it.
        var button = (await admin.Locator("form.train-now button").BoundingBoxAsync())!;
        var text = (await admin.Locator("form.train-now .muted").BoundingBoxAsync())!;
        Assert.True(text.X >= button.X + button.Width, $"the explanation starts at {text.X}, inside the button's {button.X}–{button.X + button.Width}");
    }

    [Fact]
    public async Task Report_table_fits_a_1200_pixel_screen_with_every_measure_named_in_full_on_hover()
    {
        // A list served on the goal with the longest name, so the widest row is in the table.
        using (var reader = await web.OnboardedAsync(await web.NewAccountAsync(), "diversity"))
            await reader.PageAsync("/");
        await web.FlushAuditAsync();
        var admin = await SignedInPageAsync(web.BaseAddress, (await web.NewAccountAsync("admin")).Login, WebFixture.Password, 1200, 800);
        await admin.ArrivedAsync("/admin$");

        await admin.GotoAsync("/admin/report?days=1");

        await Assertions.Expect(admin.Locator("#report tr[data-objective=diversity]")).ToBeVisibleAsync();
        var widths = await admin.Locator(".table-wrap:has(#report)").EvaluateAsync<int[]>("e => [e.scrollWidth, e.clientWidth]");
        Assert.True(widths[0] <= widths[1], $"the report table is {widths[0]} pixels wide in a box of {widths[1]}: it scrolls sideways at 1200 pixels");
        Assert.True(await admin.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the report page scrolls sideways at 1200 pixels");
        // A short header names its measure in full on hover, as the list under the table does.
        var gini = admin.Locator("#report th:has(a[href*='sort=gini']) abbr");
        await Assertions.Expect(gini).ToHaveAttributeAsync("title", "Exposure Gini");
        await Assertions.Expect(admin.Locator("#metric-meanings dt[data-column=gini]")).ToHaveTextAsync("Gini (Exposure Gini)");
    }

    [Fact]
    public async Task Shown_record_on_a_laptop_keeps_the_reasons_readable_beside_a_long_title()
    {
        var page = await ShownRecordAsync();

        // Titles as long as the demo's, one with a long unbroken string: the fixture's are short, so each cell gets one in
        // the page as served.
        await page.EvaluateAsync("""
            () => document.querySelectorAll('table.served td.item').forEach((e, i) => e.textContent = i === 0
                ? 'Testnet Node Error - [cardano-:cardano.node.DnsSubscription:Error:211493]'
                : 'Where can I learn to make Cardano NFTs that have varying rarity levels when they are purchased for the first time?')
            """);

        var fontSize = await page.Locator("table.served td.reasons").First.EvaluateAsync<double>("e => parseFloat(getComputedStyle(e).fontSize)");
        foreach (var cell in await page.Locator("table.served td.reasons").AllAsync())
        {
            var box = (await cell.BoundingBoxAsync())!;
            Assert.True(box.Width >= 16 * fontSize, $"the reasons are squeezed into {box.Width} pixels beside a long title");
        }
    }

    [Fact]
    public async Task Shown_record_on_a_laptop_keeps_each_part_of_the_score_on_the_line_of_its_figure()
    {
        var page = await ShownRecordAsync();

        // "its source's credibility" wrapped in the parts' column with its figure alone on the next line.
        var parts = await page.Locator("table.served td.parts li").EvaluateAllAsync<string[]>("""
            items => items.map(li => {
              const words = li.firstElementChild.getClientRects(), figure = li.querySelector('.num').getBoundingClientRect();
              return li.textContent + ': ' + (Math.abs(words[words.length - 1].top - figure.top) < 2);
            })
            """);
        Assert.Contains(parts, p => p.StartsWith("its source's credibility", StringComparison.Ordinal));
        Assert.All(parts, p => Assert.EndsWith(": true", p, StringComparison.Ordinal));
        // And each part on one line of its own, so the column reads as a list.
        var lines = await page.Locator("table.served td.parts li").EvaluateAllAsync<double[]>(
            "items => items.map(li => li.getBoundingClientRect().height / parseFloat(getComputedStyle(li).lineHeight))");
        Assert.All(lines, n => Assert.True(n < 1.5, $"a part of the score takes {n:0.0} lines"));
    }

    [Theory]
    [InlineData(1280, 900)]
    [InlineData(390, 844)]
    public async Task Counterfactual_marks_and_scores_never_break_across_lines_whatever_the_title_s_length(int width, int height)
    {
        var admin = await SignedInPageAsync(web.BaseAddress, (await web.NewAccountAsync("admin")).Login, WebFixture.Password, width, height);
        await admin.ArrivedAsync("/admin$");

        // The small world's user u0 read Oceans; read as Music, items move, appear and drop.
        await admin.GotoAsync("/admin/counterfactual?who=u0&from=Oceans&to=Music&compare=1");
        // Titles of every length from short to long, so a line ends at every place a mark or a score can stand.
        var broken = await admin.EvaluateAsync<string[]>("""
            () => {
              const broken = [], words = 'What are the security risks of storing an encrypted wallet seed in a password manager on a phone? ';
              for (const li of document.querySelectorAll('.cf-list li')) {
                const title = li.querySelector('.title');
                const mark = li.querySelector('.change'), score = li.querySelector('span[title=score]');
                const left = li.getBoundingClientRect().left + parseFloat(getComputedStyle(li).paddingLeft);
                for (let n = 8; n <= words.length; n++) {
                  title.textContent = words.slice(0, n).trimEnd();
                  if (mark && mark.getClientRects().length > 1) broken.push(`mark ${mark.textContent} split at ${n}`);
                  if (score.getBoundingClientRect().left - left < 2) broken.push(`score alone on a line at ${n}`);
                }
              }
              return broken;
            }
            """);

        Assert.True(await admin.Locator(".cf-list .change").CountAsync() > 0, "no item moved, appeared or dropped");
        Assert.Empty(broken);
    }

    [Theory]
    [InlineData(1280, 900)]
    [InlineData(1200, 800)]
    public async Task Users_table_keeps_each_login_on_one_line_and_fits_the_screen(int width, int height)
    {
        var admin = await SignedInPageAsync(web.BaseAddress, (await web.NewAccountAsync("admin")).Login, WebFixture.Password, width, height);
        await admin.ArrivedAsync("/admin$");

        await admin.GotoAsync("/admin/users");
        // People as the demo has them, its simulated readers' hyphenated logins beside a platform's user: the fixture's
        // are fewer and shorter, so the rows get the demo's words in the page as served.
        await admin.EvaluateAsync("""
            () => document.querySelectorAll('#users tbody tr').forEach((row, i) => {
                const cells = row.querySelectorAll('td');
                const n = String(i + 1).padStart(2, '0');
                cells[0].textContent = i === 0 ? 'Robert Cartaino' : 'Simulated reader ' + n;
                cells[1].textContent = i === 0 ? '' : 'simulated-' + n;
                cells[2].textContent = i === 0 ? 'stackexchange:19853411' : '';
            })
            """);

        var lines = await admin.Locator("#users tbody td:nth-child(2)").EvaluateAllAsync<double[]>("""
            cells => cells.filter(c => c.textContent.trim()).map(c => {
                const r = document.createRange(); r.selectNodeContents(c);
                return r.getBoundingClientRect().height / parseFloat(getComputedStyle(c).lineHeight);
            })
            """);
        Assert.True(lines.Length >= 2, $"only {lines.Length} logins to measure");
        Assert.All(lines, n => Assert.True(n < 1.5, $"a login stands on {n:0.0} lines"));
        var widths = await admin.Locator(".table-wrap:has(#users)").EvaluateAsync<int[]>("e => [e.scrollWidth, e.clientWidth]");
        Assert.True(widths[0] <= widths[1], $"the users table is {widths[0]} pixels wide in a box of {widths[1]}: it scrolls sideways at {width} pixels");
        Assert.True(await admin.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), $"the users page scrolls sideways at {width} pixels");
    }

    [Theory]
    [InlineData(1280, 900)]
    [InlineData(1200, 800)]
    public async Task Audit_record_id_box_shows_its_whole_example_id(int width, int height)
    {
        var admin = await SignedInPageAsync(web.BaseAddress, (await web.NewAccountAsync("admin")).Login, WebFixture.Password, width, height);
        await admin.ArrivedAsync("/admin$");

        await admin.GotoAsync("/admin/audit");

        // The example typed in, as the browser lays out a value the width of the placeholder: it fits, or the box scrolls.
        var record = admin.Locator("input[name=record]");
        var example = await record.GetAttributeAsync("placeholder");
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", example);
        await record.FillAsync(example!);
        var widths = await record.EvaluateAsync<int[]>("e => [e.scrollWidth, e.clientWidth]");
        Assert.True(widths[0] <= widths[1], $"the record id needs {widths[0]} pixels in a box of {widths[1]}: its end is cut off");
    }

    [Fact]
    public async Task Audit_filter_labels_in_one_row_stand_level_with_their_controls_as_tall_as_the_button()
    {
        var admin = await SignedInPageAsync(web.BaseAddress, (await web.NewAccountAsync("admin")).Login, WebFixture.Password, Width, Height);
        await admin.ArrivedAsync("/admin$");

        await admin.GotoAsync("/admin/audit");

        // The form's first row: the fields (a label above its control) that start on the same line as the first.
        var boxes = await admin.Locator("form.filters:has([name=who]) > .field").EvaluateAllAsync<double[][]>("""
            fs => fs.map(f => { const c = f.querySelector('input, select').getBoundingClientRect(); return [f.querySelector('label').getBoundingClientRect().top, c.top, c.bottom]; })
            """);
        var row = boxes.Where(b => Math.Abs(b[0] - boxes[0][0]) < 20).ToList();
        Assert.True(row.Count >= 3, $"only {row.Count} labels on the first row");
        var button = (await admin.Locator("form.filters:has([name=who]) button").BoundingBoxAsync())!;
        Assert.All(row, b => Assert.True(Math.Abs(b[0] - row[0][0]) <= 1, $"a label starts at {b[0]}, the first at {row[0][0]}: the row's labels are not level"));
        Assert.All(row, b => Assert.True(b[2] - b[1] >= button.Height - 1, $"a control is {b[2] - b[1]} pixels tall beside a {button.Height}-pixel button"));
    }

    [Fact]
    public async Task Filter_labels_stand_above_their_controls_on_the_report_and_counterfactual_pages()
    {
        var admin = await SignedInPageAsync(web.BaseAddress, (await web.NewAccountAsync("admin")).Login, WebFixture.Password, Width, Height);
        await admin.ArrivedAsync("/admin$");

        foreach (var (path, id) in new[] { ("/admin/report", "epsilon"), ("/admin/report", "days"), ("/admin/counterfactual", "who") })
        {
            await admin.GotoAsync(path);
            // The label's own words, without the control it may hold.
            var words = await admin.Locator($"label[for={id}]").EvaluateAsync<double[]>("""
                e => { const r = document.createRange(); r.selectNodeContents(e.firstChild); const b = r.getBoundingClientRect(); return [b.left, b.bottom]; }
                """);
            var control = (await admin.Locator($"#{id}").BoundingBoxAsync())!;
            Assert.True(words[1] <= control.Y + 1 && Math.Abs(words[0] - control.X) <= 1,
                $"{path}: the words of the {id} label end at ({words[0]}, {words[1]}); its control starts at ({control.X}, {control.Y}): they should stand above it, left-aligned");
        }
    }

    [Theory]
    [InlineData(Width, Height)]
    [InlineData(1200, 800)]
    public async Task Audit_record_gives_each_title_room_for_a_few_words_a_line(int width, int height)
    {
        var (_, served) = await FirstFeedAsync();
        var admin = await SignedInPageAsync(web.BaseAddress, (await web.NewAccountAsync("admin")).Login, WebFixture.Password, width, height);
        await admin.ArrivedAsync("/admin$");
        await admin.GotoAsync($"/admin/audit/{served.RequestId}");

        // A title and reasons as long as the demo's: the fixture's are short.
        await admin.EvaluateAsync("""
            () => {
              document.querySelectorAll('table.served td.item').forEach(e => e.textContent =
                'Where can I learn to make Cardano NFTs that have varying rarity levels when they are purchased for the first time?');
              document.querySelectorAll('table.served td.reasons').forEach(e => e.textContent =
                'A good first step into quantum-algorithms. Mostly because it is about quantum-algorithms, a topic you chose and its '
                + 'level suits someone new to the topic. Its signature checks out against the key registered for James Wootton: '
                + 'unchanged since it was signed.');
            }
            """);

        // In the text column the title had about 165 pixels here (about 110 beside the demo's longer parts), a word or two a line.
        var fontSize = await admin.Locator("table.served td.item").First.EvaluateAsync<double>("e => parseFloat(getComputedStyle(e).fontSize)");
        var box = (await admin.Locator("table.served td.item").First.BoundingBoxAsync())!;
        Assert.True(box.Width >= 14 * fontSize, $"the title is squeezed into {box.Width} pixels");
        var widths = await admin.Locator("table.served").EvaluateAsync<int[]>("t => [t.parentElement.scrollWidth, t.parentElement.clientWidth]");
        Assert.True(widths[0] <= widths[1], $"the record's table scrolls sideways: {widths[0]} pixels in {widths[1]}");
    }

    /// <summary>A new reader, and the record of the first feed they were served.</summary>
    private async Task<(Account Reader, ServedListRow Served)> FirstFeedAsync()
    {
        var reader = await web.NewAccountAsync();
        using (var client = await web.OnboardedAsync(reader))
            await client.PageAsync("/");
        await web.FlushAuditAsync();
        return (reader, (await new ServedListStore(web.DataSource).QueryAsync(new ServedListFilter(UserId: reader.Id, Limit: 1)))[0]);
    }

    /// <summary>A new reader's first feed, then their "What I was shown" record of it, signed in as them on a laptop.</summary>
    private async Task<IPage> ShownRecordAsync()
    {
        var (reader, served) = await FirstFeedAsync();
        var page = await SignedInPageAsync(web.BaseAddress, reader.Login, WebFixture.Password, Width, Height);
        await page.ArrivedAsync("/$");
        await page.GotoAsync($"/settings/shown/{served.RequestId}");
        return page;
    }
}
