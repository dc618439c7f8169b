using System.Net;
using AngleSharp.Dom;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Recommender.Data;
using Recommender.Data.Import;
using Recommender.Data.Models;
using Recommender.Factorization;
using Recommender.Testing;
using Recommender.Training;

namespace Recommender.Web.Tests;

/// <summary>The web app on the Stack Exchange demo as <c>up</c> loads it: both real dumps, and the model trained on their activity.</summary>
public sealed class StackExchangeWebFixture : WebApplicationFactory<Program>, IAsyncLifetime
{
    private readonly TestDatabase _db = new();

    public Npgsql.NpgsqlDataSource DataSource => _db.DataSource;
    public Uri BaseAddress { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        // Without the data every test here is skipped, saying why; the app still starts, on an empty catalog.
        if (Directory.Exists(RepositoryPaths.StackExchange))
        {
            await new CatalogImporter(DataSource).ImportAsync(StackExchangeReader.Read(RepositoryPaths.StackExchange));
            // As up does: the demo has no ratings, so the model is trained on its activity.
            var trained = await new ModelTraining(new ModelStore(DataSource), new EventStore(DataSource)).TrainAsync(new MatrixFactorizationOptions { NumberOfThreads = 1 });
            Assert.True(trained.Activated, trained.Decision);
        }
        UseKestrel(0);
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        BaseAddress = new Uri(addresses.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Recommender", _db.ConnectionString);
        builder.UseEnvironment("Production");
        builder.UseStaticWebAssets();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await _db.DisposeAsync();
    }
}

public sealed class StackExchangePageTests(StackExchangeWebFixture web) : IClassFixture<StackExchangeWebFixture>
{
    [SharedDataFact(SharedDataSet.StackExchange)]
    public async Task Feed_on_the_stackexchange_demo_shows_attribution_and_settings_group_sub_topics_under_their_site()
    {
        var account = await new AccountStore(web.DataSource).UpsertAsync($"se-{Guid.NewGuid():N}"[..20], "Test reader", "user", WebFixture.Password);
        using var client = new WebClient(web.BaseAddress);
        await client.SignInAsync(account);
        var (_, welcome, _) = await client.PageAsync("/welcome");
        using (var response = await client.SubmitAsync(welcome, "form[action='/me/goal']", ("topics", "cardano"), ("objectiveId", "learning")))
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);

        var (status, feed, _) = await client.PageAsync("/");

        Assert.Equal(HttpStatusCode.OK, status);
        var cards = feed.QuerySelectorAll("article.card");
        Assert.NotEmpty(cards);
        foreach (var card in cards)
        {
            // Learning in the chosen subject: every card is a Cardano question, linked to its original, its authors to their profiles.
            Assert.StartsWith("https://cardano.stackexchange.com/questions/", card.QuerySelector(".original a")!.GetAttribute("href"), StringComparison.Ordinal);
            Assert.All(card.QuerySelectorAll(".author a, .asker a"), a =>
                Assert.StartsWith("https://cardano.stackexchange.com/users/", a.GetAttribute("href"), StringComparison.Ordinal));
            Assert.NotEmpty(card.QuerySelector(".summary")!.TextContent);
            Assert.StartsWith("Level: reads at US school grade", card.QuerySelector(".level-basis")!.TextContent, StringComparison.Ordinal);
            // What the level and credibility rest on is a click away, so a card stays short enough to scan.
            Assert.False(card.QuerySelector("details.about:has(.level-basis):has(.credibility-basis)")!.HasAttribute("open"));
            Assert.Contains("Source: Stack Exchange (Cardano), CC BY-SA", card.QuerySelector(".license")!.TextContent, StringComparison.Ordinal);
        }

        var (_, settings, _) = await client.PageAsync("/settings");
        var groups = settings.QuerySelectorAll("fieldset.topic-group");
        // "All of Cardano · 1,042 items": the subject by its title, and how much it holds.
        Assert.Equal(["All of Cardano", "All of Quantum Computing"], groups.Select(g => g.QuerySelector("legend")!.TextContent.Split('·')[0].Trim()));
        Assert.True(settings.QuerySelector<AngleSharp.Html.Dom.IHtmlInputElement>("fieldset.topic-group input[value=cardano]")!.IsChecked);
        Assert.Contains(groups[0].QuerySelectorAll(".topics-grid label"), l => l.TextContent.Trim() == "staking");
    }

    [SharedDataFact(SharedDataSet.StackExchange)]
    public async Task Admin_counterfactual_topic_menus_name_topics_as_readers_see_them_and_send_their_ids()
    {
        var account = await new AccountStore(web.DataSource).UpsertAsync($"se-cf-{Guid.NewGuid():N}"[..20], "Test admin", "admin", WebFixture.Password);
        using var client = new WebClient(web.BaseAddress);
        await client.SignInAsync(account);

        var (_, page, _) = await client.PageAsync("/admin/counterfactual?from=quantumcomputing%2Fqubit");

        foreach (var menu in new[] { "select#from", "select#to" })
        {
            var options = page.QuerySelectorAll($"{menu} option").Where(o => o.GetAttribute("value") != "").ToList();
            Assert.True(options.Count > 100, $"{menu}: {options.Count} topics");
            // Each topic under its site, by the name the topic picker gives it; the value is still the topic's id.
            var qubit = options.Single(o => o.GetAttribute("value") == "quantumcomputing/qubit");
            Assert.Equal(("qubit", "Quantum Computing"), (qubit.TextContent, qubit.ParentElement!.GetAttribute("label")));
            Assert.Equal(["Cardano", "Quantum Computing"], page.QuerySelectorAll($"{menu} optgroup").Select(g => g.GetAttribute("label")));
            Assert.Equal("All of Quantum Computing", options.Single(o => o.GetAttribute("value") == "quantumcomputing").TextContent);
            Assert.DoesNotContain(options, o => o.TextContent.Contains('/', StringComparison.Ordinal));
        }
        Assert.Equal("quantumcomputing/qubit", page.QuerySelector("select#from option[selected]")!.GetAttribute("value"));
    }

    [SharedDataFact(SharedDataSet.StackExchange)]
    public async Task Admin_overview_and_models_page_measure_a_ranking_model_by_ndcg_against_popularity()
    {
        // The demo's model ranks (one-class, on activity): it has no RMSE, so the chart and the table speak of NDCG@10.
        var account = await new AccountStore(web.DataSource).UpsertAsync($"se-admin-{Guid.NewGuid():N}"[..20], "Test admin", "admin", WebFixture.Password);
        using var client = new WebClient(web.BaseAddress);
        await client.SignInAsync(account);

        var (_, overview, _) = await client.PageAsync("/admin");
        var (_, models, _) = await client.PageAsync("/admin/models");

        var svg = overview.QuerySelector("figure.chart svg")!;
        // A figure is joined to the word before it by a no-break space (\s matches either).
        Assert.Matches(@"^Holdout NDCG@10: the active model\sv\d+ scores\s0\.\d+, (\d+%\sbetter than popularity|where popularity scores\s0\.000)$", svg.QuerySelector("title")!.TextContent);
        Assert.Contains(svg.QuerySelectorAll("text.legend"), t => t.TextContent == "popularity (baseline)");
        Assert.Single(svg.QuerySelectorAll("g.series[data-series=active] g.point"));
        var active = models.QuerySelector("tr.active")!.QuerySelectorAll("td");
        Assert.StartsWith("NDCG@10 0.", active[3].TextContent, StringComparison.Ordinal);
        Assert.StartsWith("popularity 0", active[4].TextContent, StringComparison.Ordinal);
    }
}
