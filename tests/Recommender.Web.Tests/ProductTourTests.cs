using Microsoft.Playwright;
using Recommender.Data;
using Recommender.Data.Import;
using Recommender.Data.Models;
using Recommender.Factorization;
using Recommender.Serving;
using Recommender.Testing;
using Recommender.Training;

namespace Recommender.Web.Tests;

/// <summary>
/// The published web app on the demo <c>up</c> serves: both Stack Exchange sites read in place, a model trained on their
/// activity, the simulated readers' 14 days of lists and clicks, and the model and re-ranker trained again on them, so
/// the admin pages show what a new install shows.
/// </summary>
public sealed class PublishedDemoApp : PublishedWebApp
{
    protected override async Task SeedAsync()
    {
        // Without the data the tour is skipped, saying why; the app still starts, on an empty catalog.
        if (!Directory.Exists(RepositoryPaths.StackExchange))
            return;
        await new CatalogImporter(DataSource).ImportAsync(StackExchangeReader.Read(RepositoryPaths.StackExchange));
        // As `up` trains its first model: with the searches, so the models page shows what a new install shows.
        var trained = await new ModelTraining(new ModelStore(DataSource), new EventStore(DataSource))
            .TrainAsync(new MatrixFactorizationOptions { NumberOfThreads = 1 }, HyperparameterSearch.Default, RankingSearch.Default);
        Assert.True(trained.Activated, trained.Decision);
        var history = await SimulatedReaders.SeedDatabaseAsync(ConnectionString,
            Environment.GetEnvironmentVariable("Recommender__AuditSpoolPath") ?? Path.Combine(Path.GetTempPath(), "recommender-tour-spool"));
        Assert.NotNull(history);
        // As `up` does: the demo's model learns from activity, so it is trained again on the readers' activity and serves.
        Assert.True(history.Retrained?.Activated, history.Retrained?.Decision ?? "not trained again");
    }
}

/// <summary>
/// A first visit, as a reader and then as an admin, on the product as <c>up</c> serves it: the published build, in
/// Production, on the Stack Exchange demo. With <c>RECOMMENDER_SCREENSHOTS</c> set to a folder, the tour also takes the
/// screenshots the README and docs show (<c>./recommender screenshots</c> writes them to docs/screenshots).
/// </summary>
public sealed class ProductTourTests(PublishedDemoApp app) : BrowserTest, IClassFixture<PublishedDemoApp>
{
    private static readonly string[] ChosenTopics = ["quantumcomputing/qubit", "quantumcomputing/quantum-gate", "quantumcomputing/quantum-algorithms"];
    private static readonly string? ScreenshotFolder = Environment.GetEnvironmentVariable("RECOMMENDER_SCREENSHOTS");

    private async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new() { BaseURL = app.BaseAddress.ToString(), ViewportSize = new() { Width = 1200, Height = 900 } });
        return await context.NewPageAsync();
    }

    private static async Task SignInAsync(IPage page, Data.Account account)
    {
        await page.GetByLabel("Login").FillAsync(account.Login);
        await page.GetByLabel("Password").FillAsync(PublishedWebApp.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    /// <summary>The page as a person sees it, when screenshots were asked for: the first screenful, or one element.</summary>
    private static async Task ShotAsync(IPage page, string name, ILocator? only = null)
    {
        if (string.IsNullOrEmpty(ScreenshotFolder))
            return;
        Directory.CreateDirectory(ScreenshotFolder);
        var path = Path.Combine(ScreenshotFolder, $"{name}.png");
        if (only is null)
            await page.ScreenshotAsync(new() { Path = path });
        else
            await only.ScreenshotAsync(new() { Path = path });
    }

    [SharedDataFact(SharedDataSet.StackExchange)]
    public async Task A_reader_learns_three_topics_and_an_admin_finds_that_very_feed_and_compares_it_with_a_counterfactual()
    {
        var reader = await app.NewAccountAsync(displayName: "Dana Quantum");
        var page = await NewPageAsync();
        await page.GotoAsync("/sign-in");
        await ShotAsync(page, "sign-in");
        await SignInAsync(page, reader);

        // Onboarding: the topic tree is folded to what a person can take in, with the rest a click away.
        await page.ArrivedAsync("/welcome$");
        Assert.True(await page.Locator("input[name=topics]:visible").CountAsync() < 60, "the welcome page shows a wall of topics");
        await ShotAsync(page, "welcome");
        foreach (var topic in ChosenTopics)
            await page.Locator($"input[name=topics][value='{topic}']").CheckAsync();
        await page.GetByRole(AriaRole.Radio, new() { Name = "Help me learn" }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Show me my feed" }).ClickAsync();
        await Assertions.Expect(page.Locator(".active-goal")).ToHaveTextAsync("Help me learn");

        // The first page covers each chosen topic, or says which has nothing eligible; every reason agrees with its card.
        var shown = (await Task.WhenAll((await page.Locator("article.card .topic").AllAsync()).Select(t => t.GetAttributeAsync("data-topic")))).ToHashSet();
        var missing = await page.Locator(".missing-topics").CountAsync() > 0 ? await page.Locator(".missing-topics").InnerTextAsync() : "";
        Assert.All(ChosenTopics, t => Assert.True(shown.Contains(t) || missing.Contains(t, StringComparison.Ordinal), $"{t} is neither shown nor explained"));
        await ProductTests.AssertReasonsMatchCardsAsync(page, ChosenTopics);
        var titles = await page.Locator("article.card h2").AllInnerTextsAsync();
        var requestId = await page.Locator(".audit-ref code").InnerTextAsync();
        await ShotAsync(page, "feed");
        await ShotAsync(page, "card", page.Locator("article.card").First);

        // The chosen topic of the first card, which the reader is about to say they learned something from.
        var firstTopics = await Task.WhenAll((await page.Locator("article.card").First.Locator(".topic").AllAsync()).Select(t => t.GetAttributeAsync("data-topic")));
        var learnedFrom = ChosenTopics.First(firstTopics.Contains);

        // Feedback is acknowledged with what was recorded.
        await page.Locator("article.card").First.GetByRole(AriaRole.Button, new() { Name = "Learned something" }).ClickAsync();
        await Assertions.Expect(page.Locator(".ack")).ToContainTextAsync($"Recorded “Learned something” for “{titles[0]}”");
        await ShotAsync(page, "feedback", page.Locator(".ack"));

        await page.GotoAsync("/settings");
        await Assertions.Expect(page.Locator("section[data-live=true]")).ToBeVisibleAsync(new() { Timeout = 15000 });
        await ShotAsync(page, "settings");
        await page.GotoAsync($"/settings/shown/{requestId}");
        Assert.Equal(titles, await page.Locator("table.served tbody tr td:nth-child(2)").AllInnerTextsAsync());
        await ShotAsync(page, "shown");
        await page.GotoAsync("/catalog");
        await ShotAsync(page, "catalog");
        var forbidden = await page.GotoAsync("/admin");
        Assert.Equal(403, forbidden!.Status);
        await ShotAsync(page, "forbidden");
        if (!string.IsNullOrEmpty(ScreenshotFolder))
        {
            var phone = await (await Browser.NewContextAsync(new() { BaseURL = app.BaseAddress.ToString(), ViewportSize = new() { Width = 390, Height = 844 }, IsMobile = true })).NewPageAsync();
            await phone.GotoAsync("/sign-in");
            await SignInAsync(phone, reader);
            await Assertions.Expect(phone.Locator("article.card").First).ToBeVisibleAsync();
            await ShotAsync(phone, "feed-phone");
        }

        // The admin finds the reader by name, opens the audit record of that very feed, and runs a counterfactual.
        var admin = await NewPageAsync();
        await admin.GotoAsync("/sign-in");
        await SignInAsync(admin, await app.NewAccountAsync("admin", "Ada Auditor"));
        await admin.ArrivedAsync("/admin$");
        await ShotAsync(admin, "admin-overview");
        await admin.GotoAsync("/admin/users");
        await admin.GetByLabel("Find a person by login or name").FillAsync("Dana Quan");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        var row = admin.Locator($"#users tr[data-user='{reader.Id}']");
        await Assertions.Expect(row).ToContainTextAsync("Dana Quantum");
        await ShotAsync(admin, "admin-users");
        await row.GetByRole(AriaRole.Link, new() { Name = "Lists shown" }).ClickAsync();
        await Assertions.Expect(admin.Locator("main")).ToContainTextAsync("Lists shown to Dana Quantum");
        await ShotAsync(admin, "admin-audit");
        // Audit records are written a moment after the list is served.
        var record = admin.Locator($"a[href='/admin/audit/{requestId}']");
        for (var tries = 0; tries < 20 && await record.CountAsync() == 0; tries++)
        {
            await Task.Delay(250);
            await admin.ReloadAsync();
        }
        await record.ClickAsync();
        await Assertions.Expect(admin.Locator("#shown-to")).ToContainTextAsync("Dana Quantum");
        Assert.Equal(titles, await admin.Locator("table.served tbody tr td:nth-child(2)").AllInnerTextsAsync());
        await ShotAsync(admin, "admin-audit-record");

        await admin.Locator("#counterfactual-link").ClickAsync();
        // The topic of the item the reader said they learned something from, swapped for another site's: a swap that
        // reaches their ranking, so the two lists differ.
        await admin.Locator("select#from").SelectOptionAsync(learnedFrom);
        await admin.Locator("select#to").SelectOptionAsync("cardano/staking");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Compare" }).ClickAsync();
        await Assertions.Expect(admin.Locator("#summary")).ToContainTextAsync("Dana Quantum");
        var lists = admin.Locator(".side-by-side.cf section");
        Assert.Equal(2, await lists.CountAsync());
        Assert.Equal(["As they are", "With the change"], await lists.Locator("h2").AllInnerTextsAsync());
        foreach (var list in await lists.AllAsync())
            Assert.True(await list.Locator("li").CountAsync() > 0);
        Assert.NotEqual(await lists.Nth(0).Locator("li").AllInnerTextsAsync(), await lists.Nth(1).Locator("li").AllInnerTextsAsync());
        // The change is said in the words readers see, not by topic ids.
        var summary = await admin.Locator("#summary").InnerTextAsync();
        Assert.DoesNotContain("quantumcomputing/", summary, StringComparison.Ordinal);
        Assert.Matches("(1 consumed item|[0-9]+ consumed items) on “", summary);
        // The two lists stand beside each other, not one under the other.
        var left = await lists.Nth(0).BoundingBoxAsync();
        var right = await lists.Nth(1).BoundingBoxAsync();
        Assert.True(right!.X > left!.X + left.Width - 1 && Math.Abs(right.Y - left.Y) < 5, $"lists at {left.X},{left.Y} and {right.X},{right.Y}");
        await admin.Locator("#summary").EvaluateAsync("e => e.scrollIntoView()");
        await ShotAsync(admin, "admin-counterfactual");

        await admin.GotoAsync("/admin/models");
        await ShotAsync(admin, "admin-models");
        await admin.GotoAsync("/admin/report");
        // The simulated readers' two weeks: every goal served, each a line over many days rather than one dot.
        Assert.Equal(4, await admin.Locator("#report tbody tr").CountAsync());
        Assert.True(await admin.Locator("#trend-ild g.series[data-series=diversity] g.point").CountAsync() >= 7, "the report's trends show a dot, not a history");
        await ShotAsync(admin, "admin-report");
    }
}
