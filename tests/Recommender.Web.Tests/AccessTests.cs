using System.Globalization;
using System.Net;
using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Recommender.Data;
using Recommender.Data.Models;
using Recommender.Testing;
using Xunit.Abstractions;

namespace Recommender.Web.Tests;

/// <summary>Who may open and post what in the web app: every route crawled as every kind of visitor, and forged posts.</summary>
[Collection(WebCollection.Name)]
public sealed class AccessTests(WebFixture web, ITestOutputHelper output)
{
    private static readonly string[] CallerNames = ["anonymous", "person", "other person", "admin"];

    /// <summary>
    /// One route and method, what the crawl sends, and per caller the status it must get: "302 /sign-in" also requires
    /// the redirect to start with that path.
    /// </summary>
    private sealed record RouteCase(string Method, string Pattern, string Path, (string Name, string Value)[]? Form, string[] Expected, bool FreshSessions = false);

    private sealed record CrawlIds(Guid RequestId, long ItemId, long PersonId, int ModelVersion);

    private static readonly string[] Everyone200 = ["200", "200", "200", "200"];

    /// <summary>
    /// Pages take posts of their own (Blazor's form handling) besides the endpoints the forms post to; none of ours names
    /// a page as its action, so a post to a page is refused once authorization lets it through.
    /// </summary>
    private static readonly string[] PostToPage = ["302 /sign-in", "400", "400", "400"];

    private static readonly string[] PostToAdminPage = ["302 /sign-in", "403", "403", "400"];

    private static RouteCase[] Expectations(CrawlIds ids, IEnumerable<string> staticAssets) =>
    [
        // Files from wwwroot are public, each by GET and HEAD; any other file name is not found.
        .. staticAssets.SelectMany(a => new[] { new RouteCase("GET", a, "/" + a, null, Everyone200), new RouteCase("HEAD", a, "/" + a, null, Everyone200) }),
        new("GET", "{**path:file}", "/missing.css", null, ["404", "404", "404", "404"]),
        new("HEAD", "{**path:file}", "/missing.css", null, ["404", "404", "404", "404"]),
        new("GET", "/_framework/opaque-redirect", "/_framework/opaque-redirect", null, ["400", "400", "400", "400"]),
        new("POST", "/catalog", "/catalog", [], ["400", "400", "400", "400"]),
        new("POST", "/error", "/error", [], ["400", "400", "400", "400"]),
        new("POST", "/", "/", [], PostToPage),
        new("POST", "/welcome", "/welcome", [], PostToPage),
        new("POST", "/settings", "/settings", [], PostToPage),
        new("POST", "/settings/shown/{RequestId:guid}", $"/settings/shown/{ids.RequestId}", [], PostToPage),
        new("POST", "/admin", "/admin", [], PostToAdminPage),
        new("POST", "/admin/audit", "/admin/audit", [], PostToAdminPage),
        new("POST", "/admin/audit/{RequestId:guid}", $"/admin/audit/{ids.RequestId}", [], PostToAdminPage),
        new("POST", "/admin/report", "/admin/report", [], PostToAdminPage),
        new("POST", "/admin/counterfactual", "/admin/counterfactual", [], PostToAdminPage),
        new("POST", "/admin/models", "/admin/models", [], PostToAdminPage),
        new("POST", "/admin/users", "/admin/users", [], PostToAdminPage),
        new("POST", "/admin/keys", "/admin/keys", [], PostToAdminPage),
        new("POST", "/admin/api-keys", "/admin/api-keys", [], PostToAdminPage),
        // anonymous, person, other person, admin
        new("GET", "/health", "/health", null, ["200", "200", "200", "200"]),
        // The Prometheus scrape: anonymous, like /health (docs/security.md says who should reach it).
        new("GET", "/metrics", "/metrics", null, ["200", "200", "200", "200"]),
        // The page for an address with no page of its own keeps the status it names.
        new("GET", "/status/{Code:int}", "/status/404", null, ["404", "404", "404", "404"]),
        new("POST", "/status/{Code:int}", "/status/404", [], ["400", "400", "400", "400"]),
        // The goals page's live connection (interactive server rendering).
        new("GET", "/_blazor/negotiate", "/_blazor/negotiate", null, ["405", "405", "405", "405"]),
        new("GET", "/_blazor", "/_blazor", null, ["400", "400", "400", "400"]),
        new("GET", "/_blazor/disconnect/", "/_blazor/disconnect/", null, ["405", "405", "405", "405"]),
        new("GET", "/_blazor/initializers/", "/_blazor/initializers/", null, ["200", "200", "200", "200"]),
        new("GET", "/sign-in", "/sign-in", null, ["200", "200", "200", "200"]),
        new("GET", "/error", "/error", null, ["200", "200", "200", "200"]),
        new("GET", "/catalog", "/catalog", null, ["200", "200", "200", "200"]),
        new("GET", "/", "/", null, ["302 /sign-in", "200", "200", "200"]),
        new("GET", "/welcome", "/welcome", null, ["302 /sign-in", "200", "200", "200"]),
        new("GET", "/settings", "/settings", null, ["302 /sign-in", "200", "200", "200"]),
        // "What I was shown" is only ever one's own: the person's record is not found for anyone else, admins included.
        new("GET", "/settings/shown/{RequestId:guid}", $"/settings/shown/{ids.RequestId}", null, ["302 /sign-in", "200", "404", "404"]),
        new("GET", "/admin", "/admin", null, ["302 /sign-in", "403", "403", "200"]),
        new("GET", "/admin/audit", "/admin/audit", null, ["302 /sign-in", "403", "403", "200"]),
        new("GET", "/admin/audit/{RequestId:guid}", $"/admin/audit/{ids.RequestId}", null, ["302 /sign-in", "403", "403", "200"]),
        // The audit pages' downloads: admins only, as the pages.
        new("GET", "/admin/audit/{requestId:guid}.json", $"/admin/audit/{ids.RequestId}.json", null, ["302 /sign-in", "403", "403", "200"]),
        new("GET", "/admin/audit/records.jsonl", $"/admin/audit/records.jsonl?user={ids.PersonId}", null, ["302 /sign-in", "403", "403", "200"]),
        new("GET", "/admin/report", "/admin/report", null, ["302 /sign-in", "403", "403", "200"]),
        new("GET", "/admin/counterfactual", $"/admin/counterfactual?user={ids.PersonId}", null, ["302 /sign-in", "403", "403", "200"]),
        new("GET", "/admin/models", "/admin/models", null, ["302 /sign-in", "403", "403", "200"]),
        new("GET", "/admin/users", "/admin/users", null, ["302 /sign-in", "403", "403", "200"]),
        new("GET", "/admin/keys", "/admin/keys", null, ["302 /sign-in", "403", "403", "200"]),
        new("GET", "/admin/api-keys", "/admin/api-keys", null, ["302 /sign-in", "403", "403", "200"]),
        new("POST", "/sign-in", "/sign-in", [("login", "nobody"), ("password", "wrong"), ("returnUrl", "/")],
            ["302 /sign-in?failed=1", "302 /sign-in?failed=1", "302 /sign-in?failed=1", "302 /sign-in?failed=1"]),
        new("POST", "/me/feedback", "/me/feedback", [("itemId", ids.ItemId.ToString(CultureInfo.InvariantCulture)), ("kind", "like"), ("requestId", ids.RequestId.ToString()), ("returnUrl", "/")],
            ["302 /sign-in", "302 /?noted=", "302 /?noted=", "302 /?noted="]),
        new("POST", "/me/feedback/undo", "/me/feedback/undo", [("itemId", ids.ItemId.ToString(CultureInfo.InvariantCulture)), ("kind", "like"), ("requestId", ids.RequestId.ToString()), ("returnUrl", "/")],
            ["302 /sign-in", "302 /?undone=", "302 /?undone=", "302 /?undone="]),
        new("POST", "/me/goal", "/me/goal", [("objectiveId", "learning"), ("returnUrl", "/")], ["302 /sign-in", "302 /?changed=learning", "302 /?changed=learning", "302 /?changed=learning"]),
        new("POST", "/me/settings", "/me/settings", [("topics", "Oceans"), ("credibilityFloor", "0.2")], ["302 /sign-in", "302 /settings?saved=1", "302 /settings?saved=1", "302 /settings?saved=1"]),
        new("POST", "/me/blend", "/me/blend", [("learning_weight", "1")], ["302 /sign-in", "302 /settings?saved=1", "302 /settings?saved=1", "302 /settings?saved=1"]),
        new("POST", "/admin/do/train", "/admin/do/train", [], ["302 /sign-in", "403", "403", "302 /admin/models?"]),
        new("POST", "/admin/do/activate", "/admin/do/activate", [("version", ids.ModelVersion.ToString(CultureInfo.InvariantCulture))],
            ["302 /sign-in", "403", "403", "302 /admin/models?confirm="]),
        new("POST", "/admin/do/role", "/admin/do/role", [("userId", ids.PersonId.ToString(CultureInfo.InvariantCulture)), ("role", "user")],
            ["302 /sign-in", "403", "403", "302 /admin/users?confirm="]),
        // Revoking a publisher key asks once: without the confirmation's answer the post goes to that step.
        new("POST", "/admin/do/revoke-key", "/admin/do/revoke-key", [("keyId", "0000000000000000")],
            ["302 /sign-in", "403", "403", "302 /admin/keys?confirm="]),
        // A platform API key: created at once (the key is shown on the page), revoked once confirmed.
        new("POST", "/admin/do/create-api-key", "/admin/do/create-api-key", [("name", "crawl"), ("scope", "feeds")],
            ["302 /sign-in", "403", "403", "302 /admin/api-keys?done="]),
        new("POST", "/admin/do/revoke-api-key", "/admin/do/revoke-api-key", [("id", "1")],
            ["302 /sign-in", "403", "403", "302 /admin/api-keys?confirm=1"]),
        // Spending privacy budget asks once too.
        new("POST", "/admin/do/export", "/admin/do/export", [("epsilon", "1"), ("days", "7")],
            ["302 /sign-in", "403", "403", "302 /admin/report?days=7&spend=1"]),
        new("POST", "/sign-out", "/sign-out", [], ["302 /sign-in", "302 /sign-in", "302 /sign-in", "302 /sign-in"], FreshSessions: true),
    ];

    [Fact]
    public async Task Routes_every_route_and_method_crawled_as_every_visitor_gets_its_expected_status()
    {
        var person = await web.NewAccountAsync();
        var callers = new[] { web.NewClient(), await web.OnboardedAsync(person), await web.OnboardedAsync(await web.NewAccountAsync()), await web.OnboardedAsync(await web.NewAccountAsync("admin")) };
        var (_, feed, _) = await callers[1].PageAsync("/");
        Assert.NotEmpty(feed.QuerySelectorAll("form[action='/me/feedback']"));
        await web.FlushAuditAsync();
        var served = (await new ServedListStore(web.DataSource).QueryAsync(new ServedListFilter(UserId: person.Id, Limit: 1)))[0];
        var active = (await new ModelStore(web.DataSource).ListAsync()).Single(m => m.IsActive);
        var ids = new CrawlIds(served.RequestId, served.ReadItems()[0].ItemId, person.Id, active.Version);
        var tokens = new string[callers.Length];
        for (var c = 0; c < callers.Length; c++)
            tokens[c] = await callers[c].TokenAsync(c == 0 ? "/sign-in" : "/settings");
        var endpoints = web.Services.GetRequiredService<IEnumerable<EndpointDataSource>>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>().ToList();
        var mapped = endpoints.SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => $"{m} {e.RoutePattern.RawText}")).ToHashSet();
        var staticAssets = endpoints.Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.StaticAssets.StaticAssetDescriptor>() is not null)
            .Select(e => e.RoutePattern.RawText!).Distinct();
        var expectations = Expectations(ids, staticAssets);
        var expected = expectations.Select(r => $"{r.Method} {r.Pattern}").ToHashSet();
        Assert.True(!mapped.Except(expected).Any(), "mapped but not expected: " + string.Join(", ", mapped.Except(expected)));
        Assert.True(!expected.Except(mapped).Any(), "expected but not mapped: " + string.Join(", ", expected.Except(mapped)));

        var failures = new List<string>();
        var table = new StringBuilder($"{"route",-42}{string.Concat(CallerNames.Select(n => $"{n,-30}"))}\n");
        foreach (var route in expectations)
        {
            table.Append($"{route.Method + " " + route.Pattern,-42}");
            for (var c = 0; c < callers.Length; c++)
            {
                var (client, token) = (callers[c], tokens[c]);
                if (route.FreshSessions && c > 0)
                {
                    client = await web.OnboardedAsync(await web.NewAccountAsync(c == 3 ? "admin" : "user"));
                    token = await client.TokenAsync("/settings");
                }
                using var response = route.Form is null
                    ? await client.SendAsync(new HttpMethod(route.Method), route.Path)
                    : await client.PostAsync(route.Path, [("__RequestVerificationToken", token), .. route.Form]);
                var location = response.Headers.Location is { } l ? (l.IsAbsoluteUri ? l.PathAndQuery : l.OriginalString) : null;
                var actual = $"{(int)response.StatusCode}{(location is null ? "" : " " + location)}";
                var parts = route.Expected[c].Split(' ', 2);
                var ok = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture) == parts[0]
                    && (parts.Length == 1 ? location is null : location?.StartsWith(parts[1], StringComparison.Ordinal) == true);
                var shown = location is null ? actual : $"{(int)response.StatusCode} {location.Split('?')[0]}";
                table.Append($"{(ok ? "" : "✗ ")}{shown,-28}  ");
                if (!ok)
                    failures.Add($"{route.Method} {route.Path} as {CallerNames[c]}: {actual}, expected {route.Expected[c]}");
            }
            table.Append('\n');
        }
        output.WriteLine(table.ToString());
        Assert.Empty(failures);
        foreach (var client in callers)
            client.Dispose();
    }

    [Fact]
    public async Task Csrf_every_form_carries_a_token_and_posts_the_app_maps()
    {
        using var admin = await web.OnboardedAsync(await web.NewAccountAsync("admin"));
        var person = await web.NewAccountAsync();
        var posts = MappedPosts();
        // A role change is posted from its confirmation step, which the users page links to.
        var pages = new[] { "/", "/welcome", "/settings", "/catalog", "/admin", "/admin/audit", "/admin/report", "/admin/counterfactual", "/admin/models", "/admin/users",
            $"/admin/users?confirm={person.Id}&role=admin" };
        var actions = new HashSet<string>();
        foreach (var path in pages)
        {
            var (status, page, _) = await admin.PageAsync(path);
            Assert.Equal(HttpStatusCode.OK, status);
            foreach (var form in page.QuerySelectorAll<IHtmlFormElement>("form").Where(f => string.Equals(f.Method, "post", StringComparison.OrdinalIgnoreCase)))
            {
                var action = form.GetAttribute("action")!;
                Assert.True(form.QuerySelector("input[type=hidden][name=__RequestVerificationToken]") is not null, $"{path}: the form posting to {action} has no antiforgery token");
                Assert.Contains(action, posts);
                actions.Add(action);
            }
        }
        using var anonymous = web.NewClient();
        var (_, signIn, _) = await anonymous.PageAsync("/sign-in");
        Assert.NotNull(signIn.QuerySelector("form[action='/sign-in'] input[type=hidden][name=__RequestVerificationToken]"));
        output.WriteLine($"forms found: {string.Join(", ", actions.Order())}");
        // Every form the app posts from somewhere (activation needs a second ready model, so it is not always on the page).
        Assert.Superset(new HashSet<string> { "/sign-out", "/me/goal", "/me/settings", "/me/blend", "/me/feedback", "/admin/do/train", "/admin/do/role" }, actions);
    }

    [Fact]
    public async Task Csrf_every_post_without_a_token_or_with_another_sessions_token_is_refused_and_changes_nothing()
    {
        var account = await web.NewAccountAsync("admin");
        using var admin = await web.OnboardedAsync(account);
        using var other = await web.OnboardedAsync(await web.NewAccountAsync("admin"));
        var (_, feed, _) = await admin.PageAsync("/");
        var card = feed.QuerySelector("form[action='/me/feedback']")!;
        var foreignToken = await other.TokenAsync("/settings");
        // Fields that would change something if the post were accepted.
        var fields = new Dictionary<string, (string, string)[]>
        {
            ["/me/feedback"] = [("itemId", card.QuerySelector<IHtmlInputElement>("input[name=itemId]")!.Value), ("requestId", card.QuerySelector<IHtmlInputElement>("input[name=requestId]")!.Value), ("kind", "like")],
            ["/me/goal"] = [("objectiveId", "diversity")],
            ["/me/settings"] = [("topics", "Music"), ("credibilityFloor", "0.9")],
            ["/me/blend"] = [("learning_weight", "0.1")],
            ["/admin/do/role"] = [("userId", account.Id.ToString(CultureInfo.InvariantCulture)), ("role", "user")],
            ["/admin/do/activate"] = [("version", "1")],
        };
        var before = await FingerprintAsync();

        var statuses = new List<string>();
        foreach (var path in MappedPosts().Where(p => p != "/sign-in").Order())
        {
            var form = fields.GetValueOrDefault(path, []);
            var address = path.Replace("{RequestId:guid}", Guid.Empty.ToString(), StringComparison.Ordinal).Replace("{Code:int}", "404", StringComparison.Ordinal);
            using var without = await admin.PostAsync(address, form);
            using var foreign = await admin.PostAsync(address, [("__RequestVerificationToken", foreignToken), .. form]);
            statuses.Add($"{path}: {(int)without.StatusCode} {(int)foreign.StatusCode}");
        }
        output.WriteLine(string.Join("\n", statuses));

        Assert.All(statuses, s => Assert.EndsWith(": 400 400", s, StringComparison.Ordinal));
        Assert.Equal(before, await FingerprintAsync());
        // Still signed in: the forged sign-out did not end the session.
        Assert.Equal(HttpStatusCode.OK, (await admin.PageAsync("/settings")).Status);
    }

    [Fact]
    public async Task Csrf_a_forged_sign_in_is_refused_and_signs_nobody_in()
    {
        var account = await web.NewAccountAsync();
        using var victim = web.NewClient();
        using var attacker = web.NewClient();
        await victim.PageAsync("/sign-in");
        var attackerToken = await attacker.TokenAsync("/sign-in");
        var credentials = new[] { ("login", account.Login), ("password", WebFixture.Password), ("returnUrl", "/") };

        using var without = await victim.PostAsync("/sign-in", credentials);
        using var foreign = await victim.PostAsync("/sign-in", [("__RequestVerificationToken", attackerToken), .. credentials]);

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (without.StatusCode, foreign.StatusCode));
        using var settings = await victim.GetAsync("/settings");
        Assert.StartsWith("/sign-in", settings.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        await using var conn = await web.DataSource.OpenConnectionAsync();
        Assert.Equal(0L, await new Npgsql.NpgsqlCommand($"select count(*) from sessions where user_id = {account.Id}", conn).ExecuteScalarAsync());
    }

    [Fact]
    public void Sessions_lifetime_defaults_to_fourteen_days_sliding()
    {
        var cookie = web.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<CookieAuthenticationOptions>>().Get(CookieAuthenticationDefaults.AuthenticationScheme);
        Assert.Equal(TimeSpan.FromDays(14), cookie.ExpireTimeSpan);
        Assert.True(cookie.SlidingExpiration);
    }

    [Fact]
    public async Task Sessions_expire_after_the_configured_lifetime_and_a_role_change_reaches_an_open_session()
    {
        var clock = new ManualClock();
        using var host = web.WithWebHostBuilder(b =>
        {
            b.UseSetting("Recommender:WebSessionLifetime", "01:00:00");
            b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock));
        });
        var account = await web.NewAccountAsync();
        using var client = new WebClient(host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true }));
        await client.SignInAsync(account);
        using (var denied = await client.GetAsync("/admin"))
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);

        await new AccountStore(web.DataSource).SetRoleAsync(account.Id, "admin");
        clock.Advance(TimeSpan.FromMinutes(50));
        using (var promoted = await client.GetAsync("/admin"))
            Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
        clock.Advance(TimeSpan.FromMinutes(61));

        using var expired = await client.GetAsync("/settings");
        Assert.Equal(HttpStatusCode.Redirect, expired.StatusCode);
        Assert.StartsWith("/sign-in", expired.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_never_contain_a_password_or_the_database_password()
    {
        var logs = new CapturedLogs();
        var wrongPassword = "wrong-" + Guid.NewGuid().ToString("N");
        var databasePassword = new Npgsql.NpgsqlConnectionStringBuilder(web.ConnectionString).Password;
        Assert.False(string.IsNullOrEmpty(databasePassword), "the test database's connection string should carry a password");
        using var host = web.WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(logs).AddFilter<CapturedLogs>(null, LogLevel.Trace)));
        var account = await web.NewAccountAsync();
        using var client = new WebClient(host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true }));

        var (_, page, _) = await client.PageAsync("/sign-in");
        using (var wrong = await client.SubmitAsync(page, "form[action='/sign-in']", ("login", account.Login), ("password", wrongPassword)))
            Assert.StartsWith("/sign-in?failed=1", wrong.Headers.Location!.OriginalString, StringComparison.Ordinal);
        await client.SignInAsync(account);
        Assert.Equal(HttpStatusCode.OK, (await client.PageAsync("/settings")).Status);

        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Trace);
        Assert.Contains(logs.Entries, e => e.Text.Contains("/sign-in", StringComparison.Ordinal));
        foreach (var secret in new[] { WebFixture.Password, wrongPassword, databasePassword })
            Assert.DoesNotContain(logs.Entries, e => e.Text.Contains(secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sessions_sign_out_ends_the_session_for_a_copy_of_the_cookie()
    {
        using var host = web.WithWebHostBuilder(b => b.UseSetting("Recommender:SessionCheckInterval", "00:00:00"));
        var account = await web.NewAccountAsync();
        var http = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        var jar = new Dictionary<string, string>();

        var signIn = await SendAsync(http, jar, HttpMethod.Get, "/sign-in");
        await SendAsync(http, jar, HttpMethod.Post, "/sign-in", ("__RequestVerificationToken", WebClient.Token(await WebClient.ParseAsync(signIn))), ("login", account.Login), ("password", WebFixture.Password));
        var copy = new Dictionary<string, string> { [WebServiceExtensions.CookieName] = jar[WebServiceExtensions.CookieName] };
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, copy, HttpMethod.Get, "/settings")).StatusCode);

        var settings = await SendAsync(http, jar, HttpMethod.Get, "/settings");
        var signOut = await SendAsync(http, jar, HttpMethod.Post, "/sign-out", ("__RequestVerificationToken", WebClient.Token(await WebClient.ParseAsync(settings))));
        Assert.Equal("/sign-in?signedout=1", signOut.Headers.Location?.OriginalString);

        var afterwards = await SendAsync(http, copy, HttpMethod.Get, "/settings");
        Assert.Equal(HttpStatusCode.Redirect, afterwards.StatusCode);
        Assert.StartsWith("/sign-in", afterwards.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    /// <summary>A request with the cookies in <paramref name="jar"/>, which then takes the ones the response sets.</summary>
    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, Dictionary<string, string> jar, HttpMethod method, string path, params (string Name, string Value)[] form)
    {
        using var request = new HttpRequestMessage(method, path);
        if (jar.Count > 0)
            request.Headers.Add("Cookie", string.Join("; ", jar.Select(c => $"{c.Key}={c.Value}")));
        if (method == HttpMethod.Post)
            request.Content = new FormUrlEncodedContent(form.Select(f => KeyValuePair.Create(f.Name, f.Value)));
        var response = await http.SendAsync(request);
        foreach (var header in response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
        {
            var pair = header.Split(';')[0].Split('=', 2);
            jar[pair[0]] = pair[1];
        }
        return response;
    }

    /// <summary>Every POST route the app maps: the form endpoints and the pages' own.</summary>
    private HashSet<string> MappedPosts() =>
        web.Services.GetRequiredService<IEnumerable<EndpointDataSource>>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Contains("POST") == true)
            .Select(e => e.RoutePattern.RawText!).ToHashSet();

    /// <summary>Everything a form post could change, as one value.</summary>
    private async Task<string> FingerprintAsync()
    {
        await using var conn = await web.DataSource.OpenConnectionAsync();
        await using var command = new Npgsql.NpgsqlCommand("""
            select md5(concat_ws('|',
                (select string_agg(id || ':' || role || ':' || display_name, ',' order by id) from users),
                (select string_agg(user_id || ':' || objective_id || ':' || parameters::text || ':' || topics::text, ',' order by user_id) from user_settings),
                (select count(*) from settings_history),
                (select count(*) from events),
                (select string_agg(version || ':' || status || ':' || is_active, ',' order by version) from models),
                (select string_agg(user_id || ':' || id || ':' || coalesce(ended_at::text, ''), ',' order by user_id, id) from sessions)))
            """, conn);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
