using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Recommender.Data;
using Recommender.Data.Import;
using Recommender.Data.Models;
using Recommender.Factorization;
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
        var batch = new ImportBatch();
        batch.Sources.Add(new SourceRow(1, "good", "Good Source", 0.9f));
        batch.Sources.Add(new SourceRow(2, "dubious", "Dubious Source", 0.1f));
        string[] topics = ["Oceans", "Physics", "History", "Music"];
        for (var i = 0; i < 80; i++)
        {
            batch.Items.Add(new ItemRow(i + 2, $"item-{i}", $"Item {i}", null, null, new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).AddDays(i),
                (short)(1 + i % 5), i % 7 == 0 ? "dubious" : "good", null, [topics[i % 4], topics[(i / 4) % 4]]));
        }
        var random = new Random(7);
        for (var u = 0; u < 60; u++)
        {
            foreach (var i in Enumerable.Range(0, 80).OrderBy(_ => random.Next()).Take(15))
            {
                var at = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(random.Next(0, 100_000));
                var rating = 1 + ((u % 4 == i % 4) ? 8 : random.Next(0, 6));
                batch.Events.Add(new EventRow(0, $"u{u}", $"item-{i}", Core.EventKind.Rating, rating, at, ImportBatch.DerivedKey(Core.EventKind.Rating, $"item-{i}", at)));
            }
        }
        await new CatalogImporter(DataSource).ImportAsync(batch);
        await new ModelTraining(DataSource, new ModelStore(DataSource)).TrainAsync(new MatrixFactorizationOptions { NumberOfThreads = 1, ApproximationRank = 8 });
        var accounts = new AccountStore(DataSource);
        Alice = await accounts.UpsertAsync("alice", "Alice", "user", Password);
        Bob = await accounts.UpsertAsync("bob", "Bob", "user", Password);
        Admin = await accounts.UpsertAsync("root", "Admin", "admin", Password);
        Items = await new CatalogStore(DataSource).ResolveItemsAsync(batch.Items.Select(i => i.ExternalId));
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
