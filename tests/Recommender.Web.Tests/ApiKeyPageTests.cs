using System.Net;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using Recommender.Data;

namespace Recommender.Web.Tests;

/// <summary>The API keys page: platform keys listed, created with the key shown once, revoked after asking, and only by admins.</summary>
[Collection(WebCollection.Name)]
public sealed class ApiKeyPageTests(WebFixture web)
{
    private async Task<WebClient> AdminAsync()
    {
        var client = web.NewClient();
        await client.SignInAsync(await web.NewAccountAsync("admin"));
        return client;
    }

    private static string Unique(string what) => $"{what} {Guid.NewGuid():N}"[..30];

    [Fact]
    public async Task Listing_shows_every_key_with_its_scopes_and_state_never_the_key()
    {
        var store = new ApiKeyStore(web.DataSource);
        var (live, liveKey) = await store.CreateAsync(Unique("Shop"), ["catalog", "events"]);
        var (gone, _) = await store.CreateAsync(Unique("Old shop"), ["feeds"]);
        await store.RevokeAsync(gone.Id);
        using var admin = await AdminAsync();

        using var response = await admin.GetAsync("/admin/api-keys");
        var html = await response.Content.ReadAsStringAsync();
        var page = await WebClient.ParseAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var liveRow = page.QuerySelector($"tr[data-key='{live.Id}']")!;
        Assert.Equal(live.Name, liveRow.QuerySelector("th")!.TextContent);
        Assert.Equal(live.Prefix + "…", liveRow.QuerySelector("code")!.TextContent);
        Assert.Contains("catalog, events", liveRow.TextContent, StringComparison.Ordinal);
        Assert.Equal("active", liveRow.QuerySelector(".key-state")!.TextContent);
        Assert.NotNull(liveRow.QuerySelector("form[action='/admin/api-keys'] button"));
        var goneRow = page.QuerySelector($"tr[data-key='{gone.Id}']")!;
        Assert.StartsWith("revoked ", goneRow.QuerySelector(".key-state")!.TextContent, StringComparison.Ordinal);
        Assert.Null(goneRow.QuerySelector("form"));
        Assert.DoesNotContain(liveKey, html, StringComparison.Ordinal);
        Assert.Equal("API keys", page.QuerySelector("nav.subnav a[href='/admin/api-keys']")!.TextContent);
    }

    [Fact]
    public async Task Listing_says_when_each_key_was_last_used_or_that_it_never_was()
    {
        // A use recorded three and a half minutes ago, by a store on a clock set back that far (a slow page may make it four).
        var clock = new Recommender.Testing.ManualClock();
        clock.Advance(TimeSpan.FromSeconds(-210));
        var store = new ApiKeyStore(web.DataSource, clock);
        var (used, _) = await store.CreateAsync(Unique("Busy shop"), ["feeds"]);
        var (idle, _) = await store.CreateAsync(Unique("Idle shop"), ["feeds"]);
        Assert.True(await store.RecordUseAsync(used.Id));
        using var admin = await AdminAsync();

        var (status, page, _) = await admin.PageAsync("/admin/api-keys");

        Assert.Equal(HttpStatusCode.OK, status);
        // Exact, as every admin page gives a time, and to the minute, as the store keeps it.
        var usedAt = (await store.ListAsync()).Single(k => k.Id == used.Id).LastUsedAt!.Value;
        var cell = page.QuerySelector($"tr[data-key='{used.Id}'] .key-used")!;
        Assert.Equal($"last used {AdminText.Exact(usedAt)}", cell.TextContent);
        Assert.Equal(ReaderTime.ToMachine(usedAt), cell.QuerySelector("time")!.GetAttribute("datetime"));
        Assert.Equal("never used", page.QuerySelector($"tr[data-key='{idle.Id}'] .key-used")!.TextContent);
        Assert.Contains(page.QuerySelectorAll("#api-keys thead th"), th => th.TextContent == "Used");
    }

    [Fact]
    public async Task Creating_shows_the_key_once_and_the_key_works()
    {
        var name = Unique("Partner");
        using var admin = await AdminAsync();
        var (_, form, _) = await admin.PageAsync("/admin/api-keys");

        using var created = await admin.SubmitAsync(form, "form[action='/admin/do/create-api-key']", ("name", name), ("scope", "events"), ("scope", "feeds"));
        var location = created.Headers.Location!.OriginalString;
        using var first = await admin.GetAsync(location);
        var shown = await WebClient.ParseAsync(first);
        var (_, again, _) = await admin.PageAsync(location);

        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        var key = shown.QuerySelector<IHtmlInputElement>(".new-key input#new-key")!.Value;
        Assert.StartsWith("rk_", key, StringComparison.Ordinal);
        Assert.DoesNotContain(key, location, StringComparison.Ordinal);
        Assert.Contains("It will not be shown again.", shown.QuerySelector(".new-key")!.TextContent, StringComparison.Ordinal);
        Assert.Equal($"Key for {name} created, allowed: events, feeds.", shown.QuerySelector(".flash.ok")!.TextContent);
        Assert.True(first.Headers.CacheControl!.NoStore);
        // What the service checks every request against: the key is there, with the scopes chosen.
        var found = await new ApiKeyStore(web.DataSource).FindAsync(key);
        Assert.Equal((name, "events,feeds"), (found!.Name, string.Join(",", found.Scopes)));
        // The same address again, within the ten minutes it is valid for, no longer has the key.
        Assert.Null(again.QuerySelector("input#new-key"));
        Assert.StartsWith("Its key was shown once", again.QuerySelector("#key-gone")!.TextContent, StringComparison.Ordinal);
        Assert.Equal($"The key for {name} was created", again.QuerySelector("#new-key-title")!.TextContent);
    }

    [Fact]
    public async Task A_key_created_by_one_admin_is_not_shown_to_another_with_the_same_address()
    {
        using var admin = await AdminAsync();
        using var other = await AdminAsync();
        var (_, form, _) = await admin.PageAsync("/admin/api-keys");

        using var created = await admin.SubmitAsync(form, "form[action='/admin/do/create-api-key']", ("name", Unique("Shared link")), ("scope", "catalog"));
        var (_, seen, _) = await other.PageAsync(created.Headers.Location!.OriginalString);
        var (_, mine, _) = await admin.PageAsync(created.Headers.Location!.OriginalString);

        Assert.Null(seen.QuerySelector("input#new-key"));
        Assert.NotNull(mine.QuerySelector("input#new-key"));
    }

    [Fact]
    public async Task Creating_without_a_name_or_a_scope_says_so_beside_each_field_and_keeps_what_was_typed()
    {
        using var admin = await AdminAsync();
        var (_, form, _) = await admin.PageAsync("/admin/api-keys");
        var before = (await new ApiKeyStore(web.DataSource).ListAsync()).Count;

        using var noScope = await admin.SubmitAsync(form, "form[action='/admin/do/create-api-key']", ("name", "Typed name"));
        using var noName = await admin.SubmitAsync(form, "form[action='/admin/do/create-api-key']", ("name", "  "), ("scope", "feeds"), ("scope", "admin"));
        var (scopeStatus, scopePage, _) = await admin.PageAsync(noScope.Headers.Location!.OriginalString);
        var (_, namePage, _) = await admin.PageAsync(noName.Headers.Location!.OriginalString);

        Assert.Equal(HttpStatusCode.BadRequest, scopeStatus);
        Assert.Equal("Error: Choose at least one thing the key may do.", scopePage.QuerySelector("fieldset #scope-error")!.TextContent);
        Assert.Null(scopePage.QuerySelector("#name-error"));
        Assert.Equal("Typed name", scopePage.QuerySelector<IHtmlInputElement>("input#name")!.Value);
        Assert.Equal("Error: Say who the key is for, in 1 to 100 characters.", namePage.QuerySelector("#name-error")!.TextContent);
        Assert.Equal("true", namePage.QuerySelector("input#name")!.GetAttribute("aria-invalid"));
        // "admin" is not a scope, so the scopes are refused too.
        Assert.NotNull(namePage.QuerySelector("#scope-error"));
        Assert.Equal(before, (await new ApiKeyStore(web.DataSource).ListAsync()).Count);
    }

    [Fact]
    public async Task Revoking_asks_once_then_the_key_is_refused_and_the_page_says_so()
    {
        var store = new ApiKeyStore(web.DataSource);
        var (info, key) = await store.CreateAsync(Unique("Leaky"), ["feeds"]);
        using var admin = await AdminAsync();

        // Straight to the endpoint without the confirmation's answer: sent to the step, nothing revoked.
        using var skipped = await admin.PostAsync("/admin/do/revoke-api-key", [("id", info.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("__RequestVerificationToken", await admin.TokenAsync("/admin/api-keys"))]);
        Assert.Equal($"/admin/api-keys?confirm={info.Id}", skipped.Headers.Location!.OriginalString);
        Assert.NotNull(await store.FindAsync(key));

        var (_, confirm, _) = await admin.PageAsync(skipped.Headers.Location.OriginalString);
        Assert.Equal($"Revoke the key for {info.Name} ({info.Prefix}…)?", confirm.QuerySelector(".confirm h2")!.TextContent);
        using var yes = await admin.SubmitAsync(confirm, ".confirm form[action='/admin/do/revoke-api-key']");
        var (_, done, _) = await admin.PageAsync(yes.Headers.Location!.OriginalString);

        Assert.Equal($"Key for {info.Name} ({info.Prefix}…) revoked: requests with it are refused.", done.QuerySelector(".flash.ok")!.TextContent);
        Assert.StartsWith("revoked ", done.QuerySelector($"tr[data-key='{info.Id}'] .key-state")!.TextContent, StringComparison.Ordinal);
        // A store of its own: this one remembers the key it found valid above, as the service's does until told of the revocation.
        Assert.Null(await new ApiKeyStore(web.DataSource).FindAsync(key));
        // Revoking it again is refused in words, not a 500.
        using var twice = await admin.SubmitAsync(confirm, ".confirm form[action='/admin/do/revoke-api-key']");
        Assert.Equal("/admin/api-keys?problem=no-key", twice.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task A_reader_can_neither_see_create_nor_revoke_keys()
    {
        var (info, key) = await new ApiKeyStore(web.DataSource).CreateAsync(Unique("Reader target"), ["feeds"]);
        var before = (await new ApiKeyStore(web.DataSource).ListAsync()).Count;
        using var reader = await web.OnboardedAsync(await web.NewAccountAsync());
        var token = await reader.TokenAsync("/settings");

        using var page = await reader.GetAsync("/admin/api-keys");
        using var create = await reader.PostAsync("/admin/do/create-api-key", [("name", "mine"), ("scope", "feeds"), ("__RequestVerificationToken", token)]);
        using var revoke = await reader.PostAsync("/admin/do/revoke-api-key",
            [("id", info.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("confirmed", "yes"), ("__RequestVerificationToken", token)]);

        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (page.StatusCode, create.StatusCode, revoke.StatusCode));
        Assert.Equal(before, (await new ApiKeyStore(web.DataSource).ListAsync()).Count);
        Assert.NotNull(await new ApiKeyStore(web.DataSource).FindAsync(key));
    }
}
