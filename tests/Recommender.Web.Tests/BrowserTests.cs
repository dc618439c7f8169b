using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Recommender.Core;
using Recommender.Data;
using Recommender.Serving;
using Recommender.Testing;

namespace Recommender.Web.Tests;

/// <summary>
/// The whole journey in a real Chromium (Debian's; never a downloaded one): sign in, onboard, switch goal, see the feed
/// and its reasons change, give feedback, then as an admin open the audit record of that very feed. Saves a
/// screenshot of every page to <c>.data/test-results/screenshots</c>, for a person looking into a failure; the docs'
/// screenshots come from the product tour on the demo data (<see cref="ProductTourTests"/>).
/// </summary>
[Collection(WebCollection.Name)]
public sealed partial class BrowserTests(WebFixture web) : IAsyncLifetime
{
    private static readonly string Screenshots = Path.Combine(RepositoryPaths.Root, ".data", "test-results", "screenshots");
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync();
        _browser = await Chromium.LaunchAsync(_playwright);
        Directory.CreateDirectory(Screenshots);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }

    private async Task<IPage> SignedInPageAsync(Account account, string? screenshot = null)
    {
        var context = await _browser.NewContextAsync(new() { BaseURL = web.BaseAddress.ToString(), ViewportSize = new() { Width = 1100, Height = 900 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/sign-in");
        await page.GetByLabel("Login").FillAsync(account.Login);
        await page.GetByLabel("Password").FillAsync(WebFixture.Password);
        if (screenshot is not null)
            await ShotAsync(page, screenshot);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        return page;
    }

    private static Task ShotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });

    private static async Task<string[]> TextsAsync(IPage page, string selector) => [.. await page.Locator(selector).AllInnerTextsAsync()];

    [Fact]
    public async Task Journey_switch_goal_give_feedback_and_audit_that_feed()
    {
        var reader = await web.NewAccountAsync();
        var page = await SignedInPageAsync(reader, "sign-in");

        // Onboarding: a new account picks topics and a goal first.
        await page.ArrivedAsync("/welcome$");
        await page.GetByLabel("Oceans").CheckAsync();
        await page.GetByLabel("Physics").CheckAsync();
        await page.GetByRole(AriaRole.Radio, new() { Name = "Help me learn" }).CheckAsync();
        await ShotAsync(page, "welcome");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show me my feed" }).ClickAsync();

        await Assertions.Expect(page.Locator(".active-goal")).ToHaveTextAsync("Help me learn");
        var learningTitles = await TextsAsync(page, "article.card h2");
        var learningWhy = await TextsAsync(page, ".why");
        Assert.Equal(10, learningTitles.Length);
        Assert.All(learningWhy, w => Assert.Contains("Help me learn", w, StringComparison.Ordinal));
        await ShotAsync(page, "feed");

        // One click switches the goal; the list and its reasons follow.
        await page.Locator("button[data-objective=no_profiling]").ClickAsync();
        await Assertions.Expect(page.Locator(".active-goal")).ToHaveTextAsync("Don't profile me");
        var switchedTitles = await TextsAsync(page, "article.card h2");
        var switchedWhy = await TextsAsync(page, ".why");
        Assert.NotEqual(learningTitles, switchedTitles);
        Assert.All(switchedWhy, w => Assert.Contains("Chosen without using anything about you.", w, StringComparison.Ordinal));
        Assert.Empty(switchedWhy.Intersect(learningWhy));

        // Feedback on the first card of this very feed page.
        var requestId = await page.Locator(".audit-ref code").InnerTextAsync();
        // The footer links to this very list's record, not only to the list of lists.
        Assert.Equal(1, await page.Locator($".audit-ref a[href='/settings/shown/{requestId}']").CountAsync());
        var firstCard = page.Locator("article.card").First;
        var itemId = long.Parse(ItemIdPattern().Match(await firstCard.GetAttributeAsync("id") ?? "").Value, System.Globalization.CultureInfo.InvariantCulture);
        await firstCard.GetByRole(AriaRole.Button, new() { Name = "Glad I saw this" }).ClickAsync();
        await page.ArrivedAsync($"noted={itemId}");
        await using (var conn = await web.DataSource.OpenConnectionAsync())
        {
            Assert.Equal(1, await conn.ExecuteScalarAsync<long>(
                "select count(*) from events where user_id = @Id and item_id = @itemId and kind = 'like'", new { reader.Id, itemId }));
        }

        // Feedback further down keeps the reader where they were: the same page, card for card (ranked again, it would
        // have dropped the rated card and moved the rest), with what it recorded under the rated card, in view.
        var cards = page.Locator("article.card");
        var titlesBefore = await TextsAsync(page, "article.card h2");
        var ratedId = await cards.Nth(3).GetAttributeAsync("id");
        var ratedTitle = await cards.Nth(3).Locator("h2").InnerTextAsync();
        await cards.Nth(3).GetByRole(AriaRole.Button, new() { Name = "Not interested" }).ClickAsync();
        await page.ArrivedAsync("#ack$");
        Assert.Equal(titlesBefore, await TextsAsync(page, "article.card h2"));
        await Assertions.Expect(page.Locator($"#{ratedId} + .ack")).ToContainTextAsync($"Recorded “Not interested” for “{ratedTitle}”");
        await Assertions.Expect(page.Locator(".ack")).ToBeInViewportAsync();
        Assert.True(await page.EvaluateAsync<double>("window.scrollY") > 0, "the feed went back to the top after feedback further down");

        // The next page starts at its top, not where the reader pressed More at the bottom of this one.
        await page.Locator("a[rel=next]").ClickAsync();
        await page.ArrivedAsync("cursor=");
        await Assertions.Expect(page.Locator("article.card").First).ToBeInViewportAsync();
        Assert.Equal(0, await page.EvaluateAsync<double>("window.scrollY"));
        await page.GotoAsync("/");

        await page.GotoAsync("/settings");
        await Assertions.Expect(page.Locator("#goal-no_profiling")).ToHaveClassAsync(new Regex("active"));
        await ShotAsync(page, "settings");

        // The person's own audit trail: that very page, item for item, with why.
        await web.FlushAuditAsync();
        await page.GotoAsync($"/settings/shown/{requestId}");
        Assert.Equal(switchedTitles, await TextsAsync(page, "table.served tbody tr td:nth-child(2)"));
        // The reader reads the settings in words; the stored form is for auditors.
        Assert.Equal(0, await page.Locator("code.params").CountAsync());
        await ShotAsync(page, "shown");
        await page.GotoAsync("/catalog");
        await ShotAsync(page, "catalog");

        // A person who is not an admin is refused every admin page with a real 403.
        foreach (var path in new[] { "/admin", "/admin/audit", "/admin/models", "/admin/users", $"/admin/audit/{requestId}", "/admin/report", $"/admin/counterfactual?user={reader.Id}&attribute=age&value=70" })
        {
            var response = await page.GotoAsync(path);
            Assert.True(response!.Status == 403, $"{path}: {response.Status}");
        }
        await ShotAsync(page, "forbidden");

        // The admin finds that feed in the audit log, with its scores and components.
        await web.FlushAuditAsync();
        var admin = await SignedInPageAsync(await web.NewAccountAsync("admin"));
        await admin.GotoAsync($"/admin/audit?user={reader.Id}");
        await Assertions.Expect(admin.Locator($"a[href='/admin/audit/{requestId}']")).ToBeVisibleAsync();
        await ShotAsync(admin, "admin-audit");
        await admin.Locator($"a[href='/admin/audit/{requestId}']").ClickAsync();
        await Assertions.Expect(admin.Locator(".request-id")).ToHaveTextAsync(requestId);
        Assert.Equal(switchedTitles, await TextsAsync(admin, "table.served tbody tr td:nth-child(2)"));
        Assert.Contains("recency", await admin.Locator("table.served").InnerTextAsync(), StringComparison.Ordinal);
        await Assertions.Expect(admin.Locator("code.params")).ToBeVisibleAsync();
        await ShotAsync(admin, "admin-audit-record");

        await admin.GotoAsync("/admin");
        await Assertions.Expect(admin.Locator("figure.chart .chart-scroll svg")).ToBeVisibleAsync();
        await ShotAsync(admin, "admin-overview");
        // A week of use by people on each goal, so the report's trends and outcome checks have something to show.
        await SeedWeekAsync();
        await admin.GotoAsync("/admin/report?days=7");
        foreach (var chart in new[] { "#trend-ild", "#trend-low-credibility", "#skill-chart", "#breadth-chart" })
            await Assertions.Expect(admin.Locator($"{chart} .chart-scroll svg")).ToBeVisibleAsync();
        await ShotAsync(admin, "admin-report");
        // Spending privacy budget asks once, naming what it spends and what is left; nothing is spent by asking.
        await admin.GetByRole(AriaRole.Button, new() { Name = "Download…" }).ClickAsync();
        await Assertions.Expect(admin.Locator("#spend-title")).ToHaveTextAsync(new Regex(@"^Spend ε = 1 of the [0-9.]+ left on counts from the last 7 days\?$"));
        await admin.Locator("#spend-title").ScrollIntoViewIfNeededAsync();
        await ShotAsync(admin, "admin-export-confirm");
        // A record not written yet keeps the record page's own message and a way back, not the site's "no such page".
        await admin.GotoAsync($"/admin/audit/{Guid.Empty}");
        await Assertions.Expect(admin.Locator("#no-record")).ToBeVisibleAsync();
        await ShotAsync(admin, "admin-audit-record-missing");
        // Counterfactual: the same person with their Oceans history read as Physics, both lists side by side.
        await admin.GotoAsync("/admin/counterfactual");
        await admin.GetByLabel("Person (login or name)").FillAsync(reader.Login);
        await admin.GetByLabel("From topic").SelectOptionAsync("Oceans");
        await admin.GetByLabel("To topic").SelectOptionAsync("Physics");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Compare" }).ClickAsync();
        await Assertions.Expect(admin.Locator("#summary")).ToContainTextAsync("rank-biased overlap");
        Assert.Equal(2, await admin.Locator(".side-by-side ol.cf-list").CountAsync());
        Assert.Equal(10, await admin.Locator(".side-by-side ol.cf-list").First.Locator("li").CountAsync());
        await ShotAsync(admin, "admin-counterfactual");
        await admin.GotoAsync("/admin/models");
        await ShotAsync(admin, "admin-models");
        await admin.GotoAsync("/admin/users");
        await ShotAsync(admin, "admin-users");

        // And on a phone-sized screen the feed still fits without sideways scrolling.
        await page.SetViewportSizeAsync(390, 844);
        await page.GotoAsync("/");
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the feed scrolls sideways on a phone");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "feed-phone.png") });
    }

    [Fact]
    public async Task Feedback_acknowledgement_takes_focus_under_the_rated_card_and_after_undo_back_claims_nothing()
    {
        var page = await SignedInPageAsync(await web.NewAccountAsync());
        await page.ArrivedAsync("/welcome$");
        await page.GetByLabel("Oceans").CheckAsync();
        await page.GetByRole(AriaRole.Radio, new() { Name = "Help me learn" }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Show me my feed" }).ClickAsync();
        await Assertions.Expect(page.Locator(".active-goal")).ToHaveTextAsync("Help me learn");
        await web.FlushAuditAsync();

        var card = page.Locator("article.card").Nth(4);
        var title = await card.Locator("h2").InnerTextAsync();
        await card.GetByRole(AriaRole.Button, new() { Name = "Too hard" }).ClickAsync();
        await page.ArrivedAsync("#ack$");
        var ack = page.Locator(".ack");
        await Assertions.Expect(ack).ToContainTextAsync($"Recorded “Too hard” for “{title}”");
        // After the full page load focus is on the acknowledgement, so a screen reader reads it out; it still stands
        // under the rated card, about a third of the way down the window.
        await Assertions.Expect(ack).ToBeFocusedAsync();
        await Assertions.Expect(ack).ToBeInViewportAsync();
        var top = await ack.EvaluateAsync<double>("e => e.getBoundingClientRect().top / window.innerHeight");
        Assert.InRange(top, 0.25, 0.45);
        await Assertions.Expect(card.GetByRole(AriaRole.Button, new() { Name = "Too hard" })).ToHaveAttributeAsync("aria-pressed", "true");
        var undo = ack.GetByRole(AriaRole.Button, new() { Name = "Undo" });
        Assert.True((await undo.BoundingBoxAsync())!.Height >= 44, "Undo is smaller than a 44 px target");
        await ShotAsync(page, "feedback-ack");

        await undo.ClickAsync();
        await page.ArrivedAsync("undone=");
        await Assertions.Expect(ack).ToContainTextAsync($"Undone: “Too hard” is no longer recorded for “{title}”");
        await Assertions.Expect(ack).ToBeFocusedAsync();
        await Assertions.Expect(card.GetByRole(AriaRole.Button, new() { Name = "Too hard" })).ToHaveAttributeAsync("aria-pressed", "false");

        // Back to the page that acknowledged the click: it is no longer recorded, so that page no longer says it is.
        await page.GoBackAsync();
        await page.ArrivedAsync("noted=");
        await Assertions.Expect(page.Locator("article.card").Nth(4)).ToBeVisibleAsync();
        Assert.Equal(0, await page.Locator(".ack").CountAsync());
    }

    /// <summary>
    /// Three people on each goal read their feed once a day for the past week: each list is served by the real
    /// pipeline and then dated back to its day, and each person acts on the top of it that day — learners answer a
    /// quiz on it (right on the first try from the second day), everyone else clicks the first three items.
    /// </summary>
    private async Task SeedWeekAsync()
    {
        var feeds = web.Services.GetRequiredService<FeedService>();
        var settings = new SettingsStore(web.DataSource);
        var events = new EventStore(web.DataSource);
        var people = new List<(long Id, string Goal)>();
        foreach (var goal in new[] { "learning", "diversity", "engagement", "no_profiling" })
        {
            for (var i = 0; i < 3; i++)
            {
                var account = await web.NewAccountAsync();
                var topic = SmallWorld.Topics[(people.Count + i) % SmallWorld.Topics.Length];
                await settings.SetAsync(account.Id, goal, goal == "learning" ? $$"""{"topics":["{{topic}}"]}""" : "{}");
                await settings.SetTopicsAsync(account.Id, [topic], goal);
                people.Add((account.Id, goal));
            }
        }
        var now = DateTimeOffset.UtcNow;
        for (var daysAgo = 6; daysAgo >= 0; daysAgo--)
        {
            var served = new List<Guid>();
            var actions = new List<NewEvent>();
            foreach (var (id, goal) in people)
            {
                var feed = await feeds.GetFeedAsync(id, 10);
                served.Add(feed.RequestId);
                var at = now.AddDays(-daysAgo).AddMinutes(-60 + actions.Count);
                var picks = goal == "learning" ? feed.Items.Take(1) : feed.Items.Take(3);
                var kind = goal != "learning" ? EventKind.Click : daysAgo == 6 ? EventKind.QuizWrong : EventKind.QuizCorrect;
                actions.AddRange(picks.Select(item => new NewEvent(id, item.ItemId, kind, null, at, $"week-{feed.RequestId:N}-{item.ItemId}")));
            }
            await events.AppendAsync(actions);
            await web.FlushAuditAsync();
            await using var conn = await web.DataSource.OpenConnectionAsync();
            await conn.ExecuteAsync("update served_lists set created_at = created_at - make_interval(days => @daysAgo) where request_id = any(@served)",
                new { daysAgo, served = served.ToArray() });
        }
    }

    [GeneratedRegex(@"\d+")]
    private static partial Regex ItemIdPattern();
}
