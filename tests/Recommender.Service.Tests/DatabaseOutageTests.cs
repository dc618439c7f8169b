using System.Net;
using System.Net.Http.Json;
using Dapper;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;
using Recommender.Data;
using Recommender.Data.Import;
using Recommender.Data.Migrations;

namespace Recommender.Service.Tests;

/// <summary>
/// The service on a PostgreSQL cluster of its own, which the test stops and restarts: writes get 503 with
/// Retry-After while it is down, everything acknowledged before is still there afterwards, and the service
/// recovers by itself.
/// </summary>
public sealed class DatabaseOutageTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("recommender-outage-").FullName;
    private LocalPostgres _cluster = null!;
    private WebApplicationFactory<Program> _factory = null!;

    public async Task InitializeAsync()
    {
        // The server runs as the postgres account when tests run as root, so it must be able to enter the folder.
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(_root, (UnixFileMode)Convert.ToInt32("755", 8));
        _cluster = new LocalPostgres(_root);
        await _cluster.EnsureStartedAsync();
        await using var dataSource = Database.CreateDataSource(_cluster.ConnectionString);
        await MigrationRunner.MigrateAsync(dataSource);
        var batch = new ImportBatch();
        for (var i = 0; i < 20; i++)
            batch.Items.Add(new ItemRow(i + 2, $"i{i}", $"Item {i}", null, null, null, null, null, null, ["Topic"]));
        await new CatalogImporter(dataSource).ImportAsync(batch);
        await new AccountStore(dataSource).UpsertAsync("eve", "Eve", "user", ServiceFixture.Password);
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Recommender", _cluster.ConnectionString + ";Timeout=3;Command Timeout=5");
            b.UseSetting("Recommender:TrainingInterval", "00:00:00");
            b.UseSetting("Recommender:ModelPollInterval", "00:00:00.500");
        });
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _cluster.StopAsync();
        NpgsqlConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Service_database_down_answers_503_and_recovers_without_losing_acknowledged_events()
    {
        var client = _factory.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = true });
        (await client.PostAsJsonAsync("/api/auth/sign-in", new { login = "eve", password = ServiceFixture.Password })).EnsureSuccessStatusCode();
        var acknowledged = 0;
        for (var b = 0; b < 5; b++)
        {
            var batch = Enumerable.Range(0, 20).Select(i => new { itemId = (long)(i + 1), kind = "view", idempotencyKey = $"before-{b}-{i}" });
            var response = await client.PostAsJsonAsync("/api/me/events", batch);
            response.EnsureSuccessStatusCode();
            acknowledged += (await response.Content.ReadFromJsonAsync<MeApi.AppendResponse>())!.Recorded;
        }

        await _cluster.StopAsync();
        var whileDown = await client.PostAsJsonAsync("/api/me/events", new[] { new { itemId = 1L, kind = "view", idempotencyKey = "during" } });
        var feedWhileDown = await client.GetAsync("/api/me/feed?k=5");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, whileDown.StatusCode);
        Assert.True(whileDown.Headers.RetryAfter is not null, "a 503 says when to retry");
        Assert.Equal("application/problem+json", whileDown.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, feedWhileDown.StatusCode);

        await _cluster.EnsureStartedAsync();
        var recovered = await RetryUntilOkAsync(() => client.GetAsync("/api/me/feed?k=5"), TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        var retried = await client.PostAsJsonAsync("/api/me/events", new[] { new { itemId = 1L, kind = "view", idempotencyKey = "during" } });
        retried.EnsureSuccessStatusCode();

        await using var conn = new NpgsqlConnection(_cluster.ConnectionString);
        Assert.Equal(acknowledged + 1, await conn.ExecuteScalarAsync<long>("select count(*) from events"));
        Assert.Equal(100, acknowledged);
    }

    private static async Task<HttpResponseMessage> RetryUntilOkAsync(Func<Task<HttpResponseMessage>> call, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var response = await call();
            if (response.IsSuccessStatusCode || DateTime.UtcNow > deadline)
                return response;
            await Task.Delay(200);
        }
    }
}
