using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Recommender.Web.Tests;

/// <summary>
/// The published web app in a real Chromium, as a person meets it after <c>./recommender up</c>: styled, every reason
/// true to its card, goals that remember what the reader chose, a live goals page, feedback acknowledged with an undo,
/// and a styled page with the right status for an unknown address.
/// </summary>
public sealed partial class ProductTests(PublishedWebApp app) : BrowserTest, IClassFixture<PublishedWebApp>
{
    private static readonly string[] ChosenTopics = ["Oceans", "Physics", "History"];

    private Task<IPage> SignedInAsync(Data.Account account) => SignedInPageAsync(app.BaseAddress, account.Login, PublishedWebApp.Password);

    [Fact]
    public async Task Published_app_serves_its_stylesheet_and_pages_are_styled()
    {
        var page = await (await Browser.NewContextAsync(new() { BaseURL = app.BaseAddress.ToString() })).NewPageAsync();
        var css = await page.APIRequest.GetAsync("/app.css");
        Assert.True(css.Ok, $"app.css: {css.Status}\n{app.Output}");
        Assert.Contains("--accent", await css.TextAsync(), StringComparison.Ordinal);

        await page.GotoAsync("/sign-in");
        // Computed from the stylesheet, not the browser's defaults: a bordered header and no default 8px body margin.
        Assert.Equal("solid", await page.EvaluateAsync<string>("getComputedStyle(document.querySelector('header.top')).borderBottomStyle"));
        Assert.Equal("0px", await page.EvaluateAsync<string>("getComputedStyle(document.body).marginTop"));
    }

    [Fact]
    public async Task Unknown_address_gets_a_styled_page_with_status_404_and_a_way_back()
    {
        var page = await SignedInAsync(await app.NewAccountAsync());
        var response = await page.GotoAsync("/no-such-page");

        Assert.Equal(404, response!.Status);
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Page not found");
        await Assertions.Expect(page.Locator("main a[href='/']")).ToBeVisibleAsync();
        Assert.Equal("solid", await page.EvaluateAsync<string>("getComputedStyle(document.querySelector('header.top')).borderBottomStyle"));
    }

    [Fact]
    public async Task Reader_learns_three_topics_switches_and_back_reasons_match_cards_feedback_can_be_undone()
    {
        var reader = await app.NewAccountAsync();
        var page = await SignedInAsync(reader);
        await page.ArrivedAsync("/welcome$");
        foreach (var topic in ChosenTopics)
            await page.GetByLabel(topic).CheckAsync();
        await page.GetByRole(AriaRole.Radio, new() { Name = "Help me learn" }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Show me my feed" }).ClickAsync();
        await Assertions.Expect(page.Locator(".active-goal")).ToHaveTextAsync("Help me learn");

        // The first page covers each chosen topic, and every reason agrees with its card.
        var topicsShown = (await page.Locator("article.card .topic").AllInnerTextsAsync()).ToHashSet();
        Assert.All(ChosenTopics, t => Assert.Contains(t, topicsShown));
        await AssertReasonsMatchCardsAsync(page, ChosenTopics);

        // Learning → diversity → learning keeps the three topics.
        await page.Locator("button[data-objective=diversity]").ClickAsync();
        await Assertions.Expect(page.Locator(".active-goal")).ToHaveTextAsync("Show me other perspectives");
        await AssertReasonsMatchCardsAsync(page, []);
        await page.Locator("button[data-objective=learning]").ClickAsync();
        await Assertions.Expect(page.Locator(".active-goal")).ToHaveTextAsync("Help me learn");
        await page.GotoAsync("/settings");
        foreach (var topic in ChosenTopics)
            await Assertions.Expect(page.Locator($"section[aria-labelledby=tune] input[name=topics][value='{topic}']")).ToBeCheckedAsync();
        // The four goals two by two on a wide screen: none stands alone on a row of its own.
        var rows = await page.EvaluateAsync<int[]>("[...document.querySelectorAll('.goals > article.goal')].map(g => g.offsetTop)");
        Assert.Equal([2, 2], rows.GroupBy(top => top).Select(g => g.Count()));
        // The history records the real values the goal came back with, not "defaults".
        var latest = await page.Locator("ul.history li").First.InnerTextAsync();
        Assert.All(ChosenTopics, t => Assert.Contains(t, latest, StringComparison.Ordinal));

        // Feedback is acknowledged with what was recorded, and can be taken back.
        await page.GotoAsync("/");
        var title = await page.Locator("article.card h2").First.InnerTextAsync();
        await page.Locator("article.card").First.GetByRole(AriaRole.Button, new() { Name = "Too hard" }).ClickAsync();
        await Assertions.Expect(page.Locator(".ack")).ToContainTextAsync($"Recorded “Too hard” for “{title}”");
        await page.Locator(".ack").GetByRole(AriaRole.Button, new() { Name = "Undo" }).ClickAsync();
        await Assertions.Expect(page.Locator(".ack")).ToContainTextAsync($"Undone: “Too hard” is no longer recorded for “{title}”");
        await using var conn = await app.DataSource.OpenConnectionAsync();
        await using var count = new Npgsql.NpgsqlCommand("select count(*) from events where user_id = $1 and kind = 'too_hard'", conn) { Parameters = { new() { Value = reader.Id } } };
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Goals_page_previews_follow_the_controls_and_a_mix_of_nothing_is_refused()
    {
        var reader = await app.NewAccountAsync();
        var page = await SignedInAsync(reader);
        await page.ArrivedAsync("/welcome$");
        await page.GetByLabel("Oceans").CheckAsync();
        await page.GetByRole(AriaRole.Radio, new() { Name = "Help me learn" }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Show me my feed" }).ClickAsync();
        await page.GotoAsync("/settings");
        // Live once the page's connection is up; clicks before that would reach only the plain HTML.
        await Assertions.Expect(page.Locator("section[data-live=true]")).ToBeVisibleAsync(new() { Timeout = 15000 });
        var before = await page.Locator("#goal-learning ol.preview").InnerTextAsync();

        // Choosing Music instead of Oceans changes what learning would show, without saving or reloading.
        await page.Locator("section[aria-labelledby=tune] input[name=topics][value='Music']").CheckAsync();
        await page.Locator("section[aria-labelledby=tune] input[name=topics][value='Oceans']").UncheckAsync();
        await Assertions.Expect(page.Locator("#goal-learning ol.preview")).Not.ToHaveTextAsync(before);
        await Assertions.Expect(page.Locator("#goal-learning ol.preview")).ToContainTextAsync("Music");

        // Every weight at 0: the page says why it cannot be saved, and the server refuses it too.
        await page.Locator("#blend summary").ClickAsync();
        foreach (var input in await page.Locator("#blend input[type=number]").AllAsync())
            await input.FillAsync("0");
        await Assertions.Expect(page.Locator("#blend .field-error")).ToContainTextAsync("at least one goal a weight above 0");
        await Assertions.Expect(page.Locator("#blend button[type=submit]")).ToBeDisabledAsync();
    }

    /// <summary>For every card: a reason may call the source credible only if its badge does, name a chosen topic only if the card shows it, speak of level only if the card has one.</summary>
    internal static async Task AssertReasonsMatchCardsAsync(IPage page, IReadOnlyCollection<string> chosen)
    {
        var cards = await page.Locator("article.card").AllAsync();
        Assert.NotEmpty(cards);
        foreach (var card in cards)
        {
            var why = await card.Locator(".why").InnerTextAsync();
            // Chips show a sub-topic without its subject in front, as reasons name it; data-topic holds the full name.
            var topics = await card.Locator(".topic").AllInnerTextsAsync();
            var names = await Task.WhenAll((await card.Locator(".topic").AllAsync()).Select(t => t.GetAttributeAsync("data-topic")));
            var badge = await card.Locator(".badge").InnerTextAsync();
            var level = await card.Locator(".level").InnerTextAsync();
            if (why.Contains("credible source", StringComparison.Ordinal))
                Assert.Equal("credible source", badge);
            foreach (Match m in TopicYouChose().Matches(why))
                Assert.True(topics.Contains(m.Groups[1].Value) && names.Any(n => chosen.Contains(n!) && (n == m.Groups[1].Value || n!.EndsWith("/" + m.Groups[1].Value, StringComparison.Ordinal))),
                    $"\"{why}\" on a card with topics {string.Join(", ", names)}");
            if (LevelClaim().IsMatch(why))
                Assert.NotEqual(Explanations.Level(null), level);
        }
    }

    [GeneratedRegex(@"(?:about|On) ([^,]+), a topic you chose")]
    private static partial Regex TopicYouChose();

    [GeneratedRegex(@"challenge|gentle start|right level|suits someone new|at your level|step beyond|above your level|level you have been reading|first step|answers and feedback so far|hard one")]
    private static partial Regex LevelClaim();
}
