using System.Net;
using Dapper;
using Microsoft.AspNetCore.Mvc.Testing;
using Recommender.Data;

namespace Recommender.Web.Tests;

/// <summary>The red team's holes as the web app shows them: links, roles, posts from other sites, the privacy budget.</summary>
public sealed class SecurityTests(WebFixture web) : IClassFixture<WebFixture>
{
    [Fact]
    public async Task Catalog_renders_no_link_for_a_stored_script_url()
    {
        await using (var conn = await web.DataSource.OpenConnectionAsync())
        {
            // A row stored before the constraint existed: the constraint is dropped for this test database only.
            await conn.ExecuteAsync("alter table items drop constraint items_url_http");
            await conn.ExecuteAsync("""
                insert into items (external_id, title, url, published_at) values
                ('aaa-script', 'Aaa script', 'javascript:alert(1)', now() + interval '1 day'), ('aaa-data', 'Aaa data', 'data:text/html,x', now() + interval '1 day'),
                ('aaa-web', 'Aaa web', 'https://example.org/', now() + interval '1 day')
                """);
        }
        using var client = web.NewClient();
        await client.SignInAsync(await web.NewAccountAsync());

        var (status, page, _) = await client.PageAsync("/catalog?offset=0");

        Assert.Equal(HttpStatusCode.OK, status);
        var hrefs = page.QuerySelectorAll("a[href]").Select(a => a.GetAttribute("href")!).ToList();
        Assert.DoesNotContain(hrefs, h => h.StartsWith("javascript:", StringComparison.OrdinalIgnoreCase) || h.StartsWith("data:", StringComparison.OrdinalIgnoreCase));
        Assert.Contains("https://example.org/", hrefs);
        Assert.Contains("Aaa script", page.Body!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Role_demotion_reaches_an_open_web_session_on_its_next_request()
    {
        var target = await web.NewAccountAsync("admin");
        await web.NewAccountAsync("admin");
        using var client = web.NewClient();
        await client.SignInAsync(target);
        Assert.Equal(HttpStatusCode.OK, (await client.PageAsync("/admin/users")).Status);

        await new AccountStore(web.DataSource).SetRoleAsync(target.Id, "user");

        using var response = await client.GetAsync("/admin/users");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task SignIn_guesses_from_one_address_throttle_it_but_never_lock_the_owner_out_elsewhere()
    {
        var owner = await web.NewAccountAsync("admin");
        // Behind a trusted proxy, which names each client's address.
        using var proxied = web.WithWebHostBuilder(b => b.UseSetting("FORWARDEDHEADERS_ENABLED", "true"));
        using var attacker = From(proxied, "203.0.113.7");
        using var home = From(proxied, "198.51.100.20");

        var (_, page, _) = await attacker.PageAsync("/sign-in");
        for (var i = 1; i < AccountStore.MaxFailedSignIns; i++)
        {
            using var failed = await attacker.SubmitAsync(page, "form[action='/sign-in']", ("login", owner.Login), ("password", "guess " + i));
            Assert.StartsWith("/sign-in?failed=1", failed.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }
        using (var last = await attacker.SubmitAsync(page, "form[action='/sign-in']", ("login", owner.Login), ("password", "guess last")))
            Assert.Equal(HttpStatusCode.TooManyRequests, last.StatusCode);
        // The guesser is held off even with the right password, told for how long.
        using var throttled = await attacker.SubmitAsync(page, "form[action='/sign-in']", ("login", owner.Login), ("password", WebFixture.Password));
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.InRange(throttled.Headers.RetryAfter!.Delta!.Value, AccountStore.LockDuration - TimeSpan.FromMinutes(1), AccountStore.LockDuration);
        var next = (await WebClient.ParseAsync(throttled)).QuerySelector("main a[href^='/sign-in']")!.GetAttribute("href")!;
        var message = (await attacker.PageAsync(next)).Document.QuerySelector("[role=alert]")!.TextContent;
        Assert.Contains("Too many failed sign-ins for this account from this connection", message, StringComparison.Ordinal);
        Assert.Contains("Try again in 15 minutes. Signing in from anywhere else is not affected.", message, StringComparison.Ordinal);

        // The owner, from another address, signs in straight away.
        var (_, ownPage, _) = await home.PageAsync("/sign-in");
        using var signedIn = await home.SubmitAsync(ownPage, "form[action='/sign-in']", ("login", owner.Login), ("password", WebFixture.Password));
        Assert.Equal((HttpStatusCode.Redirect, "/admin"), (signedIn.StatusCode, signedIn.Headers.Location?.OriginalString));
    }

    private static WebClient From(WebApplicationFactory<Program> host, string address)
    {
        var http = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        http.DefaultRequestHeaders.Add("X-Forwarded-For", address);
        return new WebClient(http);
    }

    [Theory]
    [InlineData("Origin", "https://evil.example")]
    [InlineData("Referer", "https://evil.example/form.html")]
    public async Task Post_from_another_site_is_refused_even_with_a_valid_token(string header, string value)
    {
        var account = await web.NewAccountAsync();
        using var client = web.NewClient();
        await client.SignInAsync(account);
        var token = await client.TokenAsync("/settings");

        using var request = new HttpRequestMessage(HttpMethod.Post, "/sign-out")
        {
            Content = new FormUrlEncodedContent([KeyValuePair.Create("__RequestVerificationToken", token)]),
        };
        request.Headers.TryAddWithoutValidation(header, value);
        using var response = await client.SendRawAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PageAsync("/settings")).Status);
    }

    [Fact]
    public async Task Report_page_shows_the_privacy_budget_spent_and_left()
    {
        using var client = web.NewClient();
        await client.SignInAsync(await web.NewAccountAsync("admin"));
        var token = await client.TokenAsync("/admin/report");
        using (var download = await client.PostAsync("/admin/do/export", [("__RequestVerificationToken", token), ("epsilon", "2"), ("days", "7"), ("confirmed", "yes")]))
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);

        var (status, page, _) = await client.PageAsync("/admin/report");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("ε = 2 of 10 spent; 8 left", string.Join(' ', page.QuerySelector(".budget")!.TextContent.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1e-308")]
    [InlineData("1e-20")]
    [InlineData("0.001")]
    [InlineData("11")]
    public async Task Export_with_an_epsilon_out_of_range_is_refused_on_the_report_and_spends_nothing(string epsilon)
    {
        using var client = web.NewClient();
        await client.SignInAsync(await web.NewAccountAsync("admin"));
        var token = await client.TokenAsync("/admin/report");
        var before = await SpendsAsync();

        using var response = await client.PostAsync("/admin/do/export", [("__RequestVerificationToken", token), ("epsilon", epsilon), ("days", "7"), ("confirmed", "yes")]);

        Assert.Equal("/admin/report?days=7&problem=epsilon#export", response.Headers.Location?.OriginalString);
        Assert.Equal(before, await SpendsAsync());
    }

    [Fact]
    public async Task Export_cannot_be_spent_by_a_link_or_a_forged_post()
    {
        using var client = web.NewClient();
        await client.SignInAsync(await web.NewAccountAsync("admin"));
        var before = await SpendsAsync();

        // A link from another site, as the download used to be, and a post without this session's token.
        using (var link = await client.GetAsync("/admin/export.json?epsilon=10&days=7"))
            Assert.Equal(HttpStatusCode.NotFound, link.StatusCode);
        using (var forged = await client.PostAsync("/admin/do/export", [("epsilon", "10"), ("days", "7"), ("confirmed", "yes")]))
            Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);

        Assert.Equal(before, await SpendsAsync());
    }

    private async Task<long> SpendsAsync()
    {
        await using var conn = await web.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>("select count(*) from privacy_budget_spends");
    }
}
