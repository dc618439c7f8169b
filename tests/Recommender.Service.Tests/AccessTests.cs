using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Recommender.Data;
using Recommender.Testing;
using Xunit.Abstractions;

namespace Recommender.Service.Tests;

/// <summary>
/// Who may call what: every route of the running service crawled as every kind of caller, CSRF defences, session
/// lifetimes and revocation, and secrets kept out of the log.
/// </summary>
public sealed class AccessTests(ServiceFixture service, ITestOutputHelper output) : IClassFixture<ServiceFixture>
{
    private static readonly string[] CallerNames = ["anonymous", "person", "other person", "admin", "catalog key", "events key", "feeds key", "revoked key"];

    /// <summary>What the crawl sends to one route, and the status each caller in <see cref="CallerNames"/> must get.</summary>
    private sealed record RouteCase(string Method, string Pattern, string Path, object? Body, int[] Expected, bool FreshSessions = false);

    /// <summary>
    /// The expectations, one per method and route. Ids are the first person's (their served list, an item they were
    /// shown), so the other person and the admin ask for someone else's records under <c>/api/me</c>. Order matters only
    /// where a call changes state: the person's own records are asked for before anyone's feed is served, and routes
    /// that end a session or delete an account get freshly signed-in people of their own.
    /// </summary>
    private static RouteCase[] Expectations(CrawlIds ids) =>
    [
        // anonymous, person, other person, admin, catalog key, events key, feeds key, revoked key
        new("GET", "/health", "/health", null, [200, 200, 200, 200, 200, 200, 200, 200]),
        // The Prometheus scrape: anonymous, like /health (docs/security.md says who should reach it).
        new("GET", "/metrics", "/metrics", null, [200, 200, 200, 200, 200, 200, 200, 200]),
        new("GET", "/openapi/{documentName}.json", "/openapi/v1.json", null, [200, 200, 200, 200, 200, 200, 200, 200]),
        new("GET", "/api/objectives", "/api/objectives", null, [200, 200, 200, 200, 200, 200, 200, 200]),
        new("GET", "/api/catalog/items", "/api/catalog/items?limit=5", null, [200, 200, 200, 200, 200, 200, 200, 200]),
        new("GET", "/api/catalog/counts", "/api/catalog/counts", null, [200, 200, 200, 200, 200, 200, 200, 200]),
        new("GET", "/api/catalog/topics", "/api/catalog/topics", null, [200, 200, 200, 200, 200, 200, 200, 200]),
        // Reaches the handler for everyone (400: no password), so anonymous access is real, not a challenge.
        new("POST", "/api/auth/sign-in", "/api/auth/sign-in", new { login = "nobody" }, [400, 400, 400, 400, 400, 400, 400, 400]),
        new("GET", "/api/auth/me", "/api/auth/me", null, [401, 200, 200, 200, 401, 401, 401, 401]),
        new("GET", "/api/me/served/{requestId:guid}", $"/api/me/served/{ids.RequestId}", null, [401, 200, 404, 404, 401, 401, 401, 401]),
        new("GET", "/api/me/why/{itemId:long}", $"/api/me/why/{ids.ItemId}", null, [401, 200, 404, 404, 401, 401, 401, 401]),
        new("GET", "/api/me/feed", "/api/me/feed?k=3", null, [401, 200, 200, 200, 401, 401, 401, 401]),
        new("GET", "/api/me/settings", "/api/me/settings", null, [401, 200, 200, 200, 401, 401, 401, 401]),
        new("PUT", "/api/me/settings", "/api/me/settings", new { objectiveId = "engagement", parameters = new { } }, [401, 200, 200, 200, 401, 401, 401, 401]),
        new("GET", "/api/me/settings/history", "/api/me/settings/history", null, [401, 200, 200, 200, 401, 401, 401, 401]),
        new("GET", "/api/me/served", "/api/me/served", null, [401, 200, 200, 200, 401, 401, 401, 401]),
        new("POST", "/api/me/events", "/api/me/events", new[] { new { itemId = ids.ItemId, kind = "view", idempotencyKey = "crawl", occurredAt = DateTimeOffset.UtcNow.AddMinutes(-1) } },
            [401, 200, 200, 200, 401, 401, 401, 401]),
        new("GET", "/api/admin/served", "/api/admin/served", null, [401, 403, 403, 200, 401, 401, 401, 401]),
        new("GET", "/api/admin/served/{requestId:guid}", $"/api/admin/served/{ids.RequestId}", null, [401, 403, 403, 200, 401, 401, 401, 401]),
        new("GET", "/api/admin/models", "/api/admin/models", null, [401, 403, 403, 200, 401, 401, 401, 401]),
        new("GET", "/api/admin/rerankers", "/api/admin/rerankers", null, [401, 403, 403, 200, 401, 401, 401, 401]),
        new("POST", "/api/admin/models/train", "/api/admin/models/train", null, [401, 403, 403, 200, 401, 401, 401, 401]),
        new("POST", "/api/admin/models/{version:int}/activate", $"/api/admin/models/{ids.ModelVersion}/activate", null, [401, 403, 403, 200, 401, 401, 401, 401]),
        new("GET", "/api/admin/metrics", "/api/admin/metrics", null, [401, 403, 403, 200, 401, 401, 401, 401]),
        new("GET", "/api/admin/process", "/api/admin/process", null, [401, 403, 403, 200, 401, 401, 401, 401]),
        new("POST", "/api/admin/counterfactual", "/api/admin/counterfactual", new { userId = ids.PersonId, fromTopic = "Oceans", toTopic = "Music", k = 5 },
            [401, 403, 403, 200, 401, 401, 401, 401]),
        new("POST", "/api/admin/export", "/api/admin/export", null, [401, 403, 403, 200, 401, 401, 401, 401]),
        new("GET", "/api/admin/export/budget", "/api/admin/export/budget", null, [401, 403, 403, 200, 401, 401, 401, 401]),
        new("GET", "/api/admin/users", "/api/admin/users", null, [401, 403, 403, 200, 401, 401, 401, 401]),
        new("GET", "/api/admin/publisher-keys", "/api/admin/publisher-keys", null, [401, 403, 403, 200, 401, 401, 401, 401]),
        // An admin revoking a key nobody registered: not found.
        new("POST", "/api/admin/publisher-keys/{keyId}/revoke", "/api/admin/publisher-keys/0000000000000000/revoke", new { reason = "crawl" }, [401, 403, 403, 404, 401, 401, 401, 401]),
        new("PUT", "/api/admin/users/{id:long}/role", $"/api/admin/users/{ids.PersonId}/role", new { role = "user" }, [401, 403, 403, 204, 401, 401, 401, 401]),
        new("GET", "/api/admin/api-keys", "/api/admin/api-keys", null, [401, 403, 403, 200, 401, 401, 401, 401]),
        new("POST", "/api/admin/api-keys", "/api/admin/api-keys", new { name = "crawl", scopes = new[] { "feeds" } }, [401, 403, 403, 201, 401, 401, 401, 401]),
        new("DELETE", "/api/admin/api-keys/{id:long}", $"/api/admin/api-keys/{ids.SpareKeyId}", null, [401, 403, 403, 204, 401, 401, 401, 401]),
        new("PUT", "/api/platform/sources/{sourceId}", "/api/platform/sources/crawl-source", new { name = "Crawl source", credibility = 0.5 }, [401, 401, 401, 401, 204, 403, 403, 401]),
        new("PUT", "/api/platform/items/{itemId}", "/api/platform/items/crawl-item", new { title = "Crawl item", topics = new[] { "Oceans" } }, [401, 401, 401, 401, 204, 403, 403, 401]),
        new("DELETE", "/api/platform/items/{itemId}", "/api/platform/items/crawl-item", null, [401, 401, 401, 401, 204, 403, 403, 401]),
        new("POST", "/api/platform/events", "/api/platform/events", new[] { new { userId = "p1", itemId = "item-1", kind = "click", idempotencyKey = "crawl" } },
            [401, 401, 401, 401, 403, 200, 403, 401]),
        new("GET", "/api/platform/users/{userId}/feed", "/api/platform/users/p1/feed?k=3", null, [401, 401, 401, 401, 403, 403, 200, 401]),
        new("GET", "/api/platform/users/{userId}/settings", "/api/platform/users/p1/settings", null, [401, 401, 401, 401, 403, 403, 200, 401]),
        new("PUT", "/api/platform/users/{userId}/settings", "/api/platform/users/p1/settings", new { objectiveId = "engagement", parameters = new { } },
            [401, 401, 401, 401, 403, 403, 200, 401]),
        new("DELETE", "/api/platform/users/{userId}", "/api/platform/users/p1", null, [401, 401, 401, 401, 403, 204, 403, 401]),
        new("POST", "/api/auth/sign-out", "/api/auth/sign-out", null, [401, 204, 204, 204, 401, 401, 401, 401], FreshSessions: true),
        new("DELETE", "/api/me/", "/api/me", null, [401, 204, 204, 204, 401, 401, 401, 401], FreshSessions: true),
    ];

    private sealed record CrawlIds(Guid RequestId, long ItemId, long PersonId, int ModelVersion, long SpareKeyId);

    [Fact]
    public async Task Routes_every_route_and_method_crawled_as_every_caller_gets_its_expected_status()
    {
        var accounts = new AccountStore(service.DataSource);
        var person = await NewAccountAsync("user");
        var keys = new ApiKeyStore(service.DataSource);
        var revoked = await service.WithApiKeyAsync("catalog", "events", "feeds");
        var revokedId = (await keys.ListAsync()).Max(k => k.Id);
        await keys.RevokeAsync(revokedId);
        var (spareKey, _) = await keys.CreateAsync("spare", ["feeds"]);
        var personClient = await service.SignedInAsync(person);
        var feed = JsonNode.Parse(await personClient.GetStringAsync("/api/me/feed?k=3"))!;
        await service.FlushAuditAsync();
        var activeVersion = await service.DataSource.CreateCommand("select version from models where is_active").ExecuteScalarAsync();
        var ids = new CrawlIds(feed["requestId"]!.GetValue<Guid>(), feed["items"]![0]!["itemId"]!.GetValue<long>(), person.Id, (int)activeVersion!, spareKey.Id);

        var callers = new HttpClient[]
        {
            service.CreateClient(), personClient, await service.SignedInAsync(await NewAccountAsync("user")), await service.SignedInAsync(await NewAccountAsync("admin")),
            await service.WithApiKeyAsync("catalog"), await service.WithApiKeyAsync("events"), await service.WithApiKeyAsync("feeds"), revoked,
        };
        var expectations = Expectations(ids);

        // Every route the app maps, by method: a route nobody wrote an expectation for fails here.
        var mapped = service.Services.GetRequiredService<IEnumerable<EndpointDataSource>>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => $"{m} {e.RoutePattern.RawText}"))
            .ToHashSet();
        var expected = expectations.Select(r => $"{r.Method} {r.Pattern}").ToHashSet();
        Assert.Empty(mapped.Except(expected));
        Assert.Empty(expected.Except(mapped));

        var failures = new List<string>();
        var table = new StringBuilder($"{"route",-52}{string.Concat(CallerNames.Select(n => $"{n,14}"))}\n");
        foreach (var route in expectations)
        {
            table.Append($"{route.Method + " " + route.Pattern,-52}");
            for (var c = 0; c < callers.Length; c++)
            {
                var client = route.FreshSessions && c is >= 1 and <= 3 ? await service.SignedInAsync(await NewAccountAsync(c == 3 ? "admin" : "user")) : callers[c];
                using var request = new HttpRequestMessage(new HttpMethod(route.Method), route.Path) { Content = route.Body is null ? null : JsonContent.Create(route.Body) };
                using var response = await client.SendAsync(request);
                var status = (int)response.StatusCode;
                table.Append($"{(status == route.Expected[c] ? "" : $"✗{route.Expected[c]}→")}{status,3}".PadLeft(14));
                if (status != route.Expected[c])
                    failures.Add($"{route.Method} {route.Path} as {CallerNames[c]}: {status}, expected {route.Expected[c]}");
                else if (status is 401 or 403 && await AccessDetailAsync(response) is var detail && !ExplainsRefusal(detail, route, c))
                    failures.Add($"{route.Method} {route.Path} as {CallerNames[c]}: {status} says \"{detail}\"");
            }
            table.Append('\n');
        }
        output.WriteLine(table.ToString());
        Assert.Empty(failures);
        // The person's role was set to what it was, the spare key is revoked, the crawl item is gone again.
        Assert.Equal("user", (await accounts.GetAsync(person.Id))!.Role);
        Assert.NotNull((await keys.ListAsync()).Single(k => k.Id == spareKey.Id).RevokedAt);
    }

    private static async Task<string?> AccessDetailAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())?["detail"]?.GetValue<string>();

    /// <summary>
    /// A refusal says what the route wants; a revoked key is told so where keys are read (the platform's routes and any
    /// route nobody answers), while routes for people say a sign-in is what they need.
    /// </summary>
    private static bool ExplainsRefusal(string? detail, RouteCase route, int caller)
    {
        bool Says(string text) => detail?.Contains(text, StringComparison.Ordinal) == true;
        return route.Pattern switch
        {
            _ when route.Pattern.StartsWith("/api/admin", StringComparison.Ordinal) => Says("for admins"),
            _ when route.Pattern.StartsWith("/api/me", StringComparison.Ordinal) || route.Pattern.StartsWith("/api/auth/", StringComparison.Ordinal) => Says("signed-in person"),
            _ when caller == 7 => Says("not known or has been revoked"),
            _ when route.Pattern.StartsWith("/api/platform", StringComparison.Ordinal) => Says("platform API key with the '"),
            _ => Says("X-Api-Key"),
        };
    }

    [Fact]
    public void Routes_every_route_declares_who_may_call_it()
    {
        var unguarded = service.Services.GetRequiredService<IEnumerable<EndpointDataSource>>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>() is null &&
                        e.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is null)
            .Select(e => e.RoutePattern.RawText).ToList();
        // Anything not listed falls under the fallback policy (signed-in people); the API's own routes all say which.
        Assert.All(unguarded, r => Assert.DoesNotContain("/api/", r ?? "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SignIn_cookie_is_http_only_and_same_site_strict()
    {
        var client = service.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
        using var response = await client.PostAsJsonAsync("/api/auth/sign-in", new { login = service.Alice.Login, password = ServiceFixture.Password });

        response.EnsureSuccessStatusCode();
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith(ApiServiceExtensions.CookieName + "=", StringComparison.Ordinal));
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("text/plain")]
    public async Task Csrf_a_cross_site_form_post_to_a_json_endpoint_is_refused_and_changes_nothing(string contentType)
    {
        // The content types an HTML form on another site can send without a preflight; the cookie is attached here as if
        // the browser had sent it anyway (SameSite=Strict is what stops a real browser from doing so).
        var account = await NewAccountAsync("user");
        var client = await service.SignedInAsync(account);
        await using var conn = await service.DataSource.OpenConnectionAsync();
        var before = await conn.QuerySingleAsync<(long Events, long Settings)>(
            "select (select count(*) from events where user_id = @Id), (select count(*) from settings_history where user_id = @Id)", new { account.Id });

        var statuses = new List<int>();
        foreach (var (method, path, body) in new[]
        {
            (HttpMethod.Post, "/api/me/events", $"[{{\"itemId\":{service.Items["item-1"]},\"kind\":\"like\"}}]"),
            (HttpMethod.Put, "/api/me/settings", "{\"objectiveId\":\"diversity\"}"),
        })
        {
            using var request = new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8) };
            request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
            request.Headers.Add("Origin", "https://elsewhere.example");
            using var response = await client.SendAsync(request);
            statuses.Add((int)response.StatusCode);
        }

        // The origin check refuses it first (403); a body that is not JSON would be refused with 415 after it.
        Assert.All(statuses, s => Assert.Equal(StatusCodes.Status403Forbidden, s));
        var after = await conn.QuerySingleAsync<(long Events, long Settings)>(
            "select (select count(*) from events where user_id = @Id), (select count(*) from settings_history where user_id = @Id)", new { account.Id });
        Assert.Equal(before, after);
    }

    [Fact]
    public void Sessions_lifetime_defaults_to_eight_hours_sliding()
    {
        var cookie = service.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(CookieAuthenticationDefaults.AuthenticationScheme);
        Assert.Equal(TimeSpan.FromHours(8), cookie.ExpireTimeSpan);
        Assert.True(cookie.SlidingExpiration);
    }

    [Fact]
    public async Task Sessions_expire_after_the_configured_lifetime_unless_used()
    {
        var clock = new ManualClock();
        using var host = WithClock(clock, ("Recommender:ApiSessionLifetime", "00:20:00"));
        var client = await SignedInAsync(host, await NewAccountAsync("user"));

        // Used every 15 minutes, a 20-minute session slides on for an hour.
        for (var i = 0; i < 4; i++)
        {
            clock.Advance(TimeSpan.FromMinutes(15));
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
        }
        clock.Advance(TimeSpan.FromMinutes(21));

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task Sessions_sign_out_ends_the_session_for_every_copy_of_the_cookie()
    {
        var clock = new ManualClock();
        using var host = WithClock(clock);
        var account = await NewAccountAsync("user");
        var cookie = await ServiceFixture.SessionCookieAsync(host.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false }), account.Login);
        var client = WithCookie(host, cookie);
        var copy = WithCookie(host, cookie);
        Assert.Equal(HttpStatusCode.OK, (await copy.GetAsync("/api/auth/me")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync("/api/auth/sign-out", null)).StatusCode);
        clock.Advance(SessionCheck);

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await copy.GetAsync("/api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task Sessions_role_change_reaches_a_signed_in_person_within_the_check_interval()
    {
        var clock = new ManualClock();
        using var host = WithClock(clock);
        var account = await NewAccountAsync("user");
        var client = await SignedInAsync(host, account);
        var accounts = new AccountStore(service.DataSource);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/admin/models")).StatusCode);

        await accounts.SetRoleAsync(account.Id, "admin");
        clock.Advance(SessionCheck);
        var promoted = (await client.GetAsync("/api/admin/models")).StatusCode;
        await accounts.SetRoleAsync(account.Id, "user");
        clock.Advance(SessionCheck);
        var demoted = (await client.GetAsync("/api/admin/models")).StatusCode;

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Forbidden), (promoted, demoted));
        Assert.Equal("user", JsonNode.Parse(await client.GetStringAsync("/api/auth/me"))!["role"]!.GetValue<string>());
    }

    [Fact]
    public async Task Sessions_account_deletion_ends_every_session_of_the_account()
    {
        var clock = new ManualClock();
        using var host = WithClock(clock);
        var account = await NewAccountAsync("user");
        var phone = await SignedInAsync(host, account);
        var laptop = await SignedInAsync(host, account);

        Assert.Equal(HttpStatusCode.NoContent, (await laptop.DeleteAsync("/api/me")).StatusCode);
        clock.Advance(SessionCheck);

        Assert.Equal(HttpStatusCode.Unauthorized, (await phone.GetAsync("/api/me/feed")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await laptop.GetAsync("/api/me/feed")).StatusCode);
        await using var conn = await service.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("select count(*) from sessions where user_id = @Id", new { account.Id }));
    }

    [Fact]
    public async Task Api_key_use_is_recorded_and_written_at_most_once_a_minute_and_the_key_list_says_when()
    {
        var clock = new ManualClock();
        using var host = WithClock(clock);
        var (info, key) = await host.Services.GetRequiredService<ApiKeyStore>().CreateAsync("last use " + Guid.NewGuid().ToString("N")[..8], ["feeds"]);
        var platform = host.CreateClient();
        platform.DefaultRequestHeaders.Add("X-Api-Key", key);
        var admin = await SignedInAsync(host, await NewAccountAsync("admin"));
        await using var conn = await service.DataSource.OpenConnectionAsync();
        Task<DateTime?> LastUsedAsync() => conn.ExecuteScalarAsync<DateTime?>("select last_used_at from api_keys where id = @Id", new { info.Id });
        async Task<JsonNode?> ListedAsync() => JsonNode.Parse(await admin.GetStringAsync("/api/admin/api-keys"))!.AsArray().Single(k => k!["id"]!.GetValue<long>() == info.Id)!["lastUsedAt"];
        async Task UseAsync()
        {
            using var response = await platform.GetAsync("/api/platform/users/last-use-reader/settings");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Null(await ListedAsync());
        var first = clock.GetUtcNow();
        await UseAsync();
        var written = await LastUsedAsync();
        Assert.NotNull(written);
        Assert.InRange(new DateTimeOffset(written.Value, TimeSpan.Zero), first.AddTicks(-10), first);

        // Further uses within the minute write nothing: not even to a column emptied meanwhile, so they do not reach the database.
        await conn.ExecuteAsync("update api_keys set last_used_at = null where id = @Id", new { info.Id });
        for (var i = 0; i < 5; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(10));
            await UseAsync();
        }
        Assert.Null(await LastUsedAsync());

        clock.Advance(TimeSpan.FromSeconds(11));
        var later = clock.GetUtcNow();
        await UseAsync();
        var rewritten = await LastUsedAsync();
        Assert.InRange(new DateTimeOffset(rewritten!.Value, TimeSpan.Zero), later.AddTicks(-10), later);
        Assert.Equal(rewritten.Value, (await ListedAsync())!.GetValue<DateTime>().ToUniversalTime());
    }

    [Fact]
    public async Task Api_key_use_written_by_one_process_is_not_written_again_by_another_within_the_minute()
    {
        var clock = new ManualClock();
        var (info, _) = await new ApiKeyStore(service.DataSource, clock).CreateAsync("two processes", ["feeds"]);
        var one = new ApiKeyStore(service.DataSource, clock);
        var other = new ApiKeyStore(service.DataSource, clock);

        var wrote = new List<bool> { await one.RecordUseAsync(info.Id), await one.RecordUseAsync(info.Id), await other.RecordUseAsync(info.Id) };
        clock.Advance(ApiKeyStore.LastUseResolution);
        wrote.Add(await other.RecordUseAsync(info.Id));
        wrote.Add(await one.RecordUseAsync(info.Id));

        Assert.Equal([true, false, false, true, false], wrote);
    }

    [Fact]
    public async Task Logs_never_contain_a_password_an_api_key_or_the_database_password()
    {
        var logs = new CapturedLogs();
        var demoPassword = "demo-" + Guid.NewGuid().ToString("N");
        var wrongPassword = "wrong-" + Guid.NewGuid().ToString("N");
        var unknownKey = "rk_" + Guid.NewGuid().ToString("N");
        var databasePassword = new NpgsqlConnectionStringBuilder(service.ConnectionString).Password;
        Assert.False(string.IsNullOrEmpty(databasePassword), "the test database's connection string should carry a password");
        using var host = service.WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(logs).AddFilter<CapturedLogs>(null, LogLevel.Trace)));

        // The demo logins, made the way `recommender up` makes them, through the app's own data source and its logging.
        var demo = await host.Services.GetRequiredService<AccountStore>().UpsertAsync("demo-" + Guid.NewGuid().ToString("N")[..8], "Demo", "admin", demoPassword);
        var anonymous = host.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/auth/sign-in", new { login = demo.Login, password = wrongPassword })).StatusCode);
        // Bodies that fail to parse around the password: the parser's errors must not quote it.
        foreach (var body in new[] { $"{{\"login\":\"{demo.Login}\",\"password\":\"{wrongPassword}", $"{{\"login\":\"{demo.Login}\",\"password\":{wrongPassword}}}" })
            Assert.Equal(HttpStatusCode.BadRequest, (await anonymous.PostAsync("/api/auth/sign-in", new StringContent(body, Encoding.UTF8, "application/json"))).StatusCode);
        var admin = host.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = true });
        (await admin.PostAsJsonAsync("/api/auth/sign-in", new { login = demo.Login, password = demoPassword })).EnsureSuccessStatusCode();
        var created = JsonNode.Parse(await (await admin.PostAsJsonAsync("/api/admin/api-keys", new { name = "logged?", scopes = new[] { "feeds" } })).Content.ReadAsStringAsync())!;
        var key = created["key"]!.GetValue<string>();
        var platform = host.CreateClient();
        platform.DefaultRequestHeaders.Add("X-Api-Key", key);
        Assert.Equal(HttpStatusCode.OK, (await platform.GetAsync("/api/platform/users/p1/feed?k=2")).StatusCode);
        var stranger = host.CreateClient();
        stranger.DefaultRequestHeaders.Add("X-Api-Key", unknownKey);
        Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.GetAsync("/api/platform/users/p1/feed?k=2")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/admin/api-keys/{created["info"]!["id"]!.GetValue<long>()}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await platform.GetAsync("/api/platform/users/p1/feed?k=2")).StatusCode);

        var entries = logs.Entries;
        // The capture really saw everything, down to trace: the host start, each request, authentication's own account.
        Assert.Contains(entries, e => e.Category.StartsWith("Microsoft.Hosting.Lifetime", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Level == LogLevel.Trace);
        Assert.Contains(entries, e => e.Text.Contains("/api/auth/sign-in", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Text.Contains("unknown or revoked API key", StringComparison.Ordinal));
        foreach (var secret in new[] { ServiceFixture.Password, demoPassword, wrongPassword, key, key[10..], unknownKey, databasePassword })
            Assert.DoesNotContain(entries, e => e.Text.Contains(secret, StringComparison.Ordinal));
    }

    private static readonly TimeSpan SessionCheck = TimeSpan.FromSeconds(31);

    private Task<Account> NewAccountAsync(string role) =>
        new AccountStore(service.DataSource).UpsertAsync($"{role}-{Guid.NewGuid():N}"[..20], "Crawl " + role, role, ServiceFixture.Password);

    private WebApplicationFactory<Program> WithClock(ManualClock clock, params (string Key, string Value)[] settings) =>
        service.WithWebHostBuilder(b =>
        {
            foreach (var (k, v) in settings)
                b.UseSetting(k, v);
            b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock));
        });

    private static async Task<HttpClient> SignedInAsync(WebApplicationFactory<Program> host, Account account)
    {
        var client = host.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = true });
        (await client.PostAsJsonAsync("/api/auth/sign-in", new { login = account.Login, password = ServiceFixture.Password })).EnsureSuccessStatusCode();
        return client;
    }

    private static HttpClient WithCookie(WebApplicationFactory<Program> host, string cookie)
    {
        var client = host.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
        client.DefaultRequestHeaders.Add("Cookie", cookie);
        return client;
    }
}
