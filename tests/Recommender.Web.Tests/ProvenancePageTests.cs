using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Recommender.Core;
using Recommender.Data;
using Recommender.Data.Import;
using Recommender.Testing;

namespace Recommender.Web.Tests;

/// <summary>The web app on the generated demo signed as <c>up</c> signs a demo: some sources sign, one item altered after signing.</summary>
public sealed class SignedDemoWebFixture : WebApplicationFactory<Program>, IAsyncLifetime
{
    private readonly TestDatabase _db = new();
    private readonly string _keys = Directory.CreateTempSubdirectory("recommender-demo-keys-").FullName;

    public Npgsql.NpgsqlDataSource DataSource => _db.DataSource;
    public Uri BaseAddress { get; private set; } = null!;
    public DemoSigning Signing { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        var batch = GeneratedDemo.Create();
        Signing = DemoProvenance.Sign(batch, _keys);
        await new CatalogImporter(DataSource).ImportAsync(batch);
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
        Directory.Delete(_keys, recursive: true);
    }
}

public sealed class ProvenancePageTests(SignedDemoWebFixture web) : BrowserTest, IClassFixture<SignedDemoWebFixture>
{

    private Task<IPage> SignedInPageAsync(Account account) => SignedInPageAsync(web.BaseAddress, account.Login, WebFixture.Password);

    [Fact]
    public async Task Demo_feed_shows_signature_verified_mark_naming_the_key_source_and_catalog_shows_all_three_states()
    {
        Assert.Equal(DemoProvenance.SigningSources, web.Signing.Sources.Count);
        var account = await new AccountStore(web.DataSource).UpsertAsync($"prov-{Guid.NewGuid():N}"[..20], "Test reader", "user", WebFixture.Password);
        await new SettingsStore(web.DataSource).SetAsync(account.Id, "learning", """{"only_verified_sources":true}""");
        var page = await SignedInPageAsync(account);

        await page.GotoAsync("/");
        var marks = page.Locator("article.card .prov");
        Assert.True(await marks.CountAsync() > 0);
        foreach (var mark in await marks.AllAsync())
        {
            Assert.Equal(ProvenanceStates.Verified, await mark.GetAttributeAsync("data-provenance"));
            Assert.Equal("\u2713 signature verified", await mark.Locator(".prov-label").InnerTextAsync());
            Assert.Matches("^Signed with the publishing key registered here for Generated source \\d+ ", await mark.Locator(".prov-text").TextContentAsync());
        }
        // The card's reasons say so too, naming the same source the mark's explanation names.
        var first = page.Locator("article.card").First;
        var signer = System.Text.RegularExpressions.Regex.Match(await first.Locator(".prov-text").TextContentAsync() ?? "", "registered here for (.+?) \\(").Groups[1].Value;
        Assert.StartsWith("Generated source ", signer, StringComparison.Ordinal);
        Assert.Contains($"the key registered for {signer}: unchanged since it was signed", await first.Locator(".why").InnerTextAsync(), StringComparison.Ordinal);
        // A tap opens the explanation, and Escape closes it.
        await first.Locator(".prov button").ClickAsync();
        await Assertions.Expect(first.Locator(".prov-text")).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(first.Locator(".prov-text")).ToBeHiddenAsync();

        // The catalog, page by page: verified, unsigned and the altered item, each with its own explanation.
        var seen = new Dictionary<string, string>();
        for (var offset = 0; offset < 400 && seen.Count < 3; offset += 50)
        {
            await page.GotoAsync($"/catalog?offset={offset}");
            foreach (var mark in await page.Locator("li.item .prov").AllAsync())
                seen.TryAdd((await mark.GetAttributeAsync("data-provenance"))!, (await mark.Locator(".prov-text").TextContentAsync())!);
        }
        Assert.Equal([ProvenanceStates.Invalid, ProvenanceStates.Unsigned, ProvenanceStates.Verified], seen.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("altered after signing", seen[ProvenanceStates.Invalid], StringComparison.Ordinal);
        Assert.Contains("did not sign", seen[ProvenanceStates.Unsigned], StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }
}
