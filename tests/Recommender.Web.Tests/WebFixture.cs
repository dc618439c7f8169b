using System.Net;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Recommender.Data;
using Recommender.Serving;
using Recommender.Testing;

namespace Recommender.Web.Tests;

/// <summary>
/// The web app as a real Kestrel server (so a real browser can reach it) on its own test database, seeded with a small
/// catalog (four topics, a credible and a dubious source, levels 1–5), ratings from 60 platform users and a trained model.
/// Each test makes its own accounts, so tests do not depend on each other's order.
/// </summary>
public sealed class WebFixture : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string Password = "a long enough test password";
    private readonly TestDatabase _db = new();

    public Npgsql.NpgsqlDataSource DataSource => _db.DataSource;
    public string ConnectionString => _db.ConnectionString;
    public Uri BaseAddress { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        await SmallWorld.SeedAsync(DataSource);
        UseKestrel(0);
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        BaseAddress = new Uri(addresses.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Recommender", _db.ConnectionString);
        builder.UseSetting("Recommender:ModelPollInterval", "00:00:00.500");
        // Every test signs in afresh from one address; the limit itself is tested on a host of its own.
        builder.UseSetting("Recommender:SignInPermitsPerMinute", "100000");
        builder.UseEnvironment("Production");
        // Production serves the published wwwroot; from the build output the assets (and their compressed forms) are
        // found through the static web assets manifest, which only Development reads by default.
        builder.UseStaticWebAssets();
    }

    /// <summary>A fresh account with a unique login.</summary>
    public Task<Account> NewAccountAsync(string role = "user") =>
        new AccountStore(DataSource).UpsertAsync($"{role}-{Guid.NewGuid():N}"[..20], $"Test {role}", role, Password);

    /// <summary>A client signed in as <paramref name="account"/> who has been through onboarding with <paramref name="objective"/> and the Oceans topic.</summary>
    public async Task<WebClient> OnboardedAsync(Account account, string objective = "learning")
    {
        var client = NewClient();
        await client.SignInAsync(account);
        var (_, welcome, _) = await client.PageAsync("/welcome");
        using var response = await client.SubmitAsync(welcome, "form[action='/me/goal']", ("topics", "Oceans"), ("objectiveId", objective));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    /// <summary>A browser-like client against the real server: own cookie jar, redirects not followed so tests can see them.</summary>
    public WebClient NewClient() => new(BaseAddress);

    public Task FlushAuditAsync() => Services.GetRequiredService<AuditLog>().FlushAsync();

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await _db.DisposeAsync();
    }
}

/// <summary>Reads pages with AngleSharp and posts their forms, antiforgery token included, the way a browser would.</summary>
public sealed class WebClient : IDisposable
{
    private static readonly HtmlParser Parser = new();
    private readonly HttpClient _http;

    public WebClient(Uri baseAddress)
    {
        var handler = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
        _http = new HttpClient(handler) { BaseAddress = baseAddress };
    }

    /// <summary>Over a client made elsewhere (a host with other settings); it should keep cookies and not follow redirects.</summary>
    public WebClient(HttpClient http) => _http = http;

    public async Task<HttpResponseMessage> GetAsync(string path) => await _http.GetAsync(new Uri(path, UriKind.Relative));

    /// <summary>Sends <paramref name="request"/> as it is, with this client's cookies.</summary>
    public async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request) => await _http.SendAsync(request);

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        return await _http.SendAsync(request);
    }

    /// <summary>GETs a page, following redirects, and parses it.</summary>
    public async Task<(HttpStatusCode Status, IHtmlDocument Document, string Path)> PageAsync(string path)
    {
        for (var hops = 0; hops < 5; hops++)
        {
            using var response = await GetAsync(path);
            if (response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther)
            {
                path = response.Headers.Location!.IsAbsoluteUri ? response.Headers.Location.PathAndQuery : response.Headers.Location.OriginalString;
                continue;
            }
            return (response.StatusCode, await ParseAsync(response), path);
        }
        throw new InvalidOperationException("too many redirects");
    }

    /// <summary>Parses a page's response, for callers that send their requests some other way.</summary>
    public static async Task<IHtmlDocument> ParseAsync(HttpResponseMessage page) => await Parser.ParseDocumentAsync(await page.Content.ReadAsStringAsync());

    /// <summary>The antiforgery token of the first form on <paramref name="page"/>.</summary>
    public static string Token(IHtmlDocument page) => page.QuerySelector<IHtmlInputElement>("input[name=__RequestVerificationToken]")!.Value;

    /// <summary>GETs <paramref name="page"/> and returns its antiforgery token, valid for this client's cookies.</summary>
    public async Task<string> TokenAsync(string page) => Token((await PageAsync(page)).Document);

    /// <summary>Submits the form matched by <paramref name="formSelector"/> on <paramref name="document"/> with its hidden fields plus <paramref name="fields"/>.</summary>
    public async Task<HttpResponseMessage> SubmitAsync(IHtmlDocument document, string formSelector, params (string Name, string Value)[] fields)
    {
        var form = document.QuerySelector<IHtmlFormElement>(formSelector) ?? throw new InvalidOperationException($"no form {formSelector}");
        var values = form.QuerySelectorAll<IHtmlInputElement>("input[type=hidden]").Select(i => (i.Name!, i.Value)).Concat(fields).ToList();
        return await PostAsync(form.GetAttribute("action")!, values);
    }

    public async Task<HttpResponseMessage> PostAsync(string path, IEnumerable<(string Name, string Value)> fields)
    {
        using var content = new FormUrlEncodedContent(fields.Select(f => KeyValuePair.Create(f.Name, f.Value)));
        return await _http.PostAsync(new Uri(path, UriKind.Relative), content);
    }

    /// <summary>Posts a body exactly as given, for malformed forms no browser would send.</summary>
    public async Task<HttpResponseMessage> PostRawAsync(string path, byte[] body, string contentType)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return await _http.PostAsync(new Uri(path, UriKind.Relative), content);
    }

    public async Task SignInAsync(Account account)
    {
        var (_, page, _) = await PageAsync("/sign-in");
        using var response = await SubmitAsync(page, "form[action='/sign-in']", ("login", account.Login), ("password", WebFixture.Password));
        if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location?.OriginalString.StartsWith("/sign-in", StringComparison.Ordinal) == true)
            throw new InvalidOperationException($"sign-in failed: {(int)response.StatusCode} {response.Headers.Location}");
    }

    public void Dispose() => _http.Dispose();
}

[CollectionDefinition(Name)]
public sealed class WebCollection : ICollectionFixture<WebFixture>
{
    public const string Name = "web";
}
