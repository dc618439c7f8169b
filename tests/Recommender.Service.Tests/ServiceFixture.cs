using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Recommender.Data;
using Recommender.Serving;
using Recommender.Testing;

namespace Recommender.Service.Tests;

/// <summary>
/// The REST service on its own test database, seeded with a small catalog (topics, sources with credibility,
/// levels), ratings from 60 platform users, a trained model, two people and an admin.
/// </summary>
public sealed class ServiceFixture : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string Password = "a long enough test password";
    private readonly TestDatabase _db = new();

    public string ConnectionString => _db.ConnectionString;
    public Npgsql.NpgsqlDataSource DataSource => _db.DataSource;
    public Account Alice { get; private set; } = null!;
    public Account Bob { get; private set; } = null!;
    public Account Admin { get; private set; } = null!;
    public IReadOnlyDictionary<string, long> Items { get; private set; } = new Dictionary<string, long>();

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        Items = await SmallWorld.SeedAsync(DataSource);
        var accounts = new AccountStore(DataSource);
        Alice = await accounts.UpsertAsync("alice", "Alice", "user", Password);
        Bob = await accounts.UpsertAsync("bob", "Bob", "user", Password);
        Admin = await accounts.UpsertAsync("root", "Admin", "admin", Password);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Recommender", _db.ConnectionString);
        builder.UseSetting("Recommender:TrainingInterval", "00:00:00");
        // Every test signs in afresh from one address; the limit itself is tested with its default.
        builder.UseSetting("Recommender:SignInPermitsPerMinute", "100000");
        builder.UseSetting("Recommender:ModelPollInterval", "00:00:00.500");
        builder.UseEnvironment("Production");
    }

    /// <summary>A client signed in as <paramref name="account"/> (its own cookie jar).</summary>
    public async Task<HttpClient> SignedInAsync(Account account)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = true });
        var response = await client.PostAsJsonAsync("/api/auth/sign-in", new { login = account.Login, password = Password });
        response.EnsureSuccessStatusCode();
        return client;
    }

    /// <summary>
    /// Signs in as <paramref name="login"/> over <paramref name="client"/>, which keeps no cookies of its own, and returns
    /// the session cookie as a Cookie header value, to copy around.
    /// </summary>
    public static async Task<string> SessionCookieAsync(HttpClient client, string login)
    {
        using var response = await client.PostAsJsonAsync("/api/auth/sign-in", new { login, password = Password });
        response.EnsureSuccessStatusCode();
        return response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(ApiServiceExtensions.CookieName + "=", StringComparison.Ordinal)).Split(';')[0];
    }

    /// <summary>A client carrying a fresh API key with <paramref name="scopes"/>.</summary>
    public async Task<HttpClient> WithApiKeyAsync(params string[] scopes)
    {
        var (_, key) = await new ApiKeyStore(DataSource).CreateAsync("test platform", scopes);
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    public Task FlushAuditAsync() => Services.GetRequiredService<AuditLog>().FlushAsync();

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await _db.DisposeAsync();
    }
}
