using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Recommender.Data;

namespace Recommender.Service.Tests;

/// <summary>The holes a red-team pass found, each as a class of requests that must be refused where it enters.</summary>
public sealed class SecurityTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private static string Cursor(string text) => Convert.ToBase64String(Encoding.ASCII.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static TheoryData<string, string> OutOfRangeAdminQueries => new()
    {
        { "/api/admin/metrics?to=0001-01-01", "to" },
        { "/api/admin/metrics?from=0001-01-01", "from" },
        { "/api/admin/metrics?to=9999-12-31T23:59:59Z", "to" },
        { "/api/admin/export?to=0001-01-01", "to" },
        { "/api/admin/export?from=0001-01-01&to=2020-01-01", "from" },
        { "/api/admin/served?from=0001-01-01", "from" },
        { "/api/admin/served?to=9999-12-31", "to" },
        // Not ISO 8601: read with the invariant culture it would be 4 February, silently.
        { "/api/admin/served?from=02/04/2024", "from" },
        { "/api/admin/metrics?from=2026-01-01&to=04/13/2026", "to" },
        { "/api/admin/export?from=April%202,%202024", "from" },
        { "/api/admin/export?epsilon=1e-308", "epsilon" },
        { "/api/admin/export?epsilon=1e-20", "epsilon" },
        { "/api/admin/export?epsilon=0.001", "epsilon" },
        { "/api/admin/export?epsilon=1e308", "epsilon" },
    };

    [Theory]
    [MemberData(nameof(OutOfRangeAdminQueries))]
    public async Task Admin_query_out_of_range_is_400_naming_the_field(string path, string field)
    {
        using var admin = await service.SignedInAsync(service.Admin);

        // An export spends budget, so it is a post; its inputs are in the query all the same.
        using var response = path.StartsWith("/api/admin/export", StringComparison.Ordinal) ? await admin.PostAsync(path, null) : await admin.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), $"{path}: errors name {string.Join(", ", errors.Select(e => e.Key))}");
    }

    [Theory]
    [InlineData("7:2147483647")]
    [InlineData("7:2147483600")]
    [InlineData("7:501")]
    [InlineData("2147483647:2147483647")]
    public async Task Feed_cursor_past_the_depth_is_400_and_records_nothing(string cursor)
    {
        using var alice = await service.SignedInAsync(service.Alice);
        await service.FlushAuditAsync();
        var before = await ServedCountAsync();

        using var response = await alice.GetAsync($"/api/me/feed?k=5&cursor={Cursor(cursor)}");
        await service.FlushAuditAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("cursor", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, await ServedCountAsync());
    }

    [Theory]
    [InlineData("0001-01-01T00:00:00Z")]
    [InlineData("1800-01-01T00:00:00Z")]
    [InlineData("9999-12-31T00:00:00Z")]
    public async Task Platform_item_with_a_date_out_of_range_is_400_naming_publishedAt(string publishedAt)
    {
        using var platform = await service.WithApiKeyAsync(ApiServiceExtensions.CatalogScope);

        using var response = await platform.PutAsJsonAsync("/api/platform/items/dated", new { title = "Dated", publishedAt });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().ContainsKey("publishedAt"));
    }

    [Theory]
    [InlineData("javascript:alert(1)")]
    [InlineData("JaVaScRiPt:alert(document.cookie)")]
    [InlineData(" javascript:alert(1)")]
    [InlineData("java\tscript:alert(1)")]
    [InlineData("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==")]
    [InlineData("vbscript:msgbox(1)")]
    [InlineData("file:///etc/passwd")]
    [InlineData("//evil.example/")]
    [InlineData("/relative/path")]
    [InlineData("https://")]
    public async Task Platform_item_with_a_non_http_url_is_400_and_not_stored(string url)
    {
        using var platform = await service.WithApiKeyAsync(ApiServiceExtensions.CatalogScope);
        var id = $"scripted-{Guid.NewGuid():N}";

        using var response = await platform.PutAsJsonAsync($"/api/platform/items/{id}", new { title = "Click me", url });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().ContainsKey("url"));
        await using var conn = await service.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("select count(*) from items where external_id = @id", new { id }));
    }

    [Theory]
    [InlineData("https://example.org/a?b=c#d")]
    [InlineData("HTTP://EXAMPLE.ORG/")]
    public async Task Platform_item_with_an_http_url_is_stored(string url)
    {
        using var platform = await service.WithApiKeyAsync(ApiServiceExtensions.CatalogScope);
        var id = $"linked-{Guid.NewGuid():N}";

        using var response = await platform.PutAsJsonAsync($"/api/platform/items/{id}", new { title = "A link", url });

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await using var conn = await service.DataSource.OpenConnectionAsync();
        Assert.Equal(url, await conn.ExecuteScalarAsync<string>("select url from items where external_id = @id", new { id }));
    }

    [Fact]
    public async Task Database_refuses_a_script_url_written_around_the_api()
    {
        await using var conn = await service.DataSource.OpenConnectionAsync();

        var error = await Assert.ThrowsAsync<Npgsql.PostgresException>(() =>
            conn.ExecuteAsync("insert into items (external_id, title, url) values ('raw', 'Raw', 'javascript:alert(1)')"));

        Assert.Equal("items_url_http", error.ConstraintName);
    }

    [Fact]
    public async Task Role_demotion_reaches_an_open_admin_session_on_its_next_request()
    {
        var accounts = new AccountStore(service.DataSource);
        var target = await accounts.UpsertAsync($"demoted-{Guid.NewGuid():N}"[..20], "Demoted", "admin", ServiceFixture.Password);
        using var targetClient = await service.SignedInAsync(target);
        using var admin = await service.SignedInAsync(service.Admin);
        Assert.Equal(HttpStatusCode.OK, (await targetClient.GetAsync("/api/admin/users")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync($"/api/admin/users/{target.Id}/role", new { role = "user" })).StatusCode);

        // No waiting for the periodic session check: the very next request sees the new role, including a try to undo it.
        Assert.Equal(HttpStatusCode.Forbidden, (await targetClient.GetAsync("/api/admin/users")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await targetClient.PutAsJsonAsync($"/api/admin/users/{target.Id}/role", new { role = "admin" })).StatusCode);
        Assert.Equal("user", (await accounts.GetAsync(target.Id))!.Role);
    }

    [Fact]
    public async Task Role_promotion_reaches_an_open_session_on_its_next_request()
    {
        var accounts = new AccountStore(service.DataSource);
        var person = await accounts.UpsertAsync($"promoted-{Guid.NewGuid():N}"[..20], "Promoted", "user", ServiceFixture.Password);
        using var client = await service.SignedInAsync(person);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/admin/users")).StatusCode);

        await accounts.SetRoleAsync(person.Id, "admin");

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/admin/users")).StatusCode);
        await accounts.SetRoleAsync(person.Id, "user");
    }

    [Theory]
    [InlineData("user")]
    [InlineData("admin")]
    public async Task Role_nobody_changes_their_own(string role)
    {
        using var admin = await service.SignedInAsync(service.Admin);

        using var response = await admin.PutAsJsonAsync($"/api/admin/users/{service.Admin.Id}/role", new { role });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().ContainsKey("id"));
        Assert.Equal("admin", (await new AccountStore(service.DataSource).GetAsync(service.Admin.Id))!.Role);
    }

    [Fact]
    public async Task SignIn_refused_by_the_address_limit_says_the_real_wait()
    {
        using var host = service.WithWebHostBuilder(b => b.UseSetting("Recommender:SignInPermitsPerMinute", "2"));
        using var client = host.CreateClient();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 3 && refused is null; i++)
        {
            var response = await client.PostAsJsonAsync("/api/auth/sign-in", new { login = "nobody", password = "x" });
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                refused = response;
        }

        Assert.NotNull(refused);
        // The window started moments ago, so most of its minute is left; "1" (the old answer) would send clients straight back.
        Assert.InRange(long.Parse(refused!.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 30, 60);
    }

    [Fact]
    public async Task SignIn_locked_account_gets_429_with_a_message_and_the_real_wait()
    {
        var login = $"locked-{Guid.NewGuid():N}"[..20];
        await new AccountStore(service.DataSource).UpsertAsync(login, "Locked", "user", ServiceFixture.Password);
        using var client = service.CreateClient();
        for (var i = 0; i < AccountStore.MaxFailedSignIns; i++)
            await client.PostAsJsonAsync("/api/auth/sign-in", new { login, password = "guess " + i });

        using var response = await client.PostAsJsonAsync("/api/auth/sign-in", new { login, password = ServiceFixture.Password });

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.InRange(long.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture),
            (long)AccountStore.LockDuration.TotalSeconds - 60, (long)AccountStore.LockDuration.TotalSeconds);
        Assert.Contains("set a new password with `recommender users create`", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_spends_from_one_budget_and_is_refused_past_it()
    {
        using var admin = await service.SignedInAsync(service.Admin);
        var start = (await admin.GetFromJsonAsync<JsonObject>("/api/admin/export/budget"))!;
        Assert.Equal(10.0, start["total"]!.GetValue<double>());
        var left = start["left"]!.GetValue<double>();

        // Spend all but 1 in whole exports (windows differ: the budget is the dataset's, not the window's).
        using (var big = await admin.PostAsync(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"/api/admin/export?epsilon={left - 1}&from=2020-01-01"), null))
            Assert.Equal(HttpStatusCode.OK, big.StatusCode);
        using (var refused = await admin.PostAsync("/api/admin/export?epsilon=1.5", null))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Contains("budget", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using var lastResponse = await admin.PostAsync("/api/admin/export?epsilon=1", null);
        var last = (await lastResponse.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(10.0, last["budget"]!["spent"]!.GetValue<double>(), 6);
        using (var none = await admin.PostAsync("/api/admin/export?epsilon=0.01", null))
            Assert.Equal(HttpStatusCode.Conflict, none.StatusCode);

        await using var conn = await service.DataSource.OpenConnectionAsync();
        Assert.Equal(10.0, await conn.ExecuteScalarAsync<double>("select sum(epsilon) from privacy_budget_spends"), 6);
    }

    [Theory]
    [InlineData("Origin", "https://evil.example")]
    [InlineData("Origin", "null")]
    [InlineData("Origin", "http://localhost.evil.example")]
    [InlineData("Referer", "https://evil.example/page")]
    public async Task State_changing_request_from_another_site_is_refused(string header, string value)
    {
        using var alice = await service.SignedInAsync(service.Alice);
        foreach (var (method, path, body) in new (HttpMethod, string, object?)[]
        {
            (HttpMethod.Post, "/api/auth/sign-in", new { login = service.Alice.Login, password = ServiceFixture.Password }),
            (HttpMethod.Put, "/api/me/settings", new { objectiveId = "engagement", parameters = new { } }),
            (HttpMethod.Delete, "/api/me", null),
        })
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            request.Headers.TryAddWithoutValidation(header, value);
            using var response = await alice.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {path} with {header}: {value} got {(int)response.StatusCode}");
        }
        Assert.NotNull(await new AccountStore(service.DataSource).GetAsync(service.Alice.Id));
    }

    [Fact]
    public async Task State_changing_request_from_this_site_or_without_origin_passes()
    {
        using var alice = await service.SignedInAsync(service.Alice);
        foreach (var origin in new[] { "http://localhost", null })
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, "/api/me/settings") { Content = JsonContent.Create(new { objectiveId = "engagement", parameters = new { } }) };
            if (origin is not null)
                request.Headers.TryAddWithoutValidation("Origin", origin);
            using var response = await alice.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Cookies_are_Secure_when_configured_or_when_a_trusted_proxy_says_https()
    {
        using var always = service.WithWebHostBuilder(b => b.UseSetting("Recommender:SecureCookies", "Always"));
        using var plain = always.CreateClient();
        using (var response = await plain.PostAsJsonAsync("/api/auth/sign-in", new { login = service.Alice.Login, password = ServiceFixture.Password }))
            Assert.Contains("secure", response.Headers.GetValues("Set-Cookie").Single(), StringComparison.OrdinalIgnoreCase);

        using var proxied = service.WithWebHostBuilder(b => b.UseSetting("FORWARDEDHEADERS_ENABLED", "true"));
        using var client = proxied.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/sign-in") { Content = JsonContent.Create(new { login = service.Alice.Login, password = ServiceFixture.Password }) };
        request.Headers.Add("X-Forwarded-Proto", "https");
        using (var response = await client.SendAsync(request))
            Assert.Contains("secure", response.Headers.GetValues("Set-Cookie").Single(), StringComparison.OrdinalIgnoreCase);
        using (var response = await client.PostAsJsonAsync("/api/auth/sign-in", new { login = service.Alice.Login, password = ServiceFixture.Password }))
            Assert.DoesNotContain("secure", response.Headers.GetValues("Set-Cookie").Single(), StringComparison.OrdinalIgnoreCase);
    }

    private async Task<long> ServedCountAsync()
    {
        await using var conn = await service.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>("select count(*) from served_lists");
    }
}
