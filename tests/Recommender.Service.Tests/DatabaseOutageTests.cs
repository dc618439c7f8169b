using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Recommender.Data;
using Recommender.Data.Import;
using Recommender.Serving;
using Recommender.Testing;

namespace Recommender.Service.Tests;

/// <summary>
/// The service on a PostgreSQL cluster of its own, which the test stops and restarts: writes get 503 with
/// Retry-After while it is down, feeds are still served (not personalised, and saying so), everything acknowledged
/// before is still there afterwards, every feed served meanwhile reaches the audit log, and the service recovers by itself.
/// </summary>
public sealed class DatabaseOutageTests : IAsyncLifetime
{
    private OwnCluster _cluster = null!;
    private WebApplicationFactory<Program> _factory = null!;
    private HttpClient? _client;

    public async Task InitializeAsync()
    {
        _cluster = await OwnCluster.StartAsync("outage");
        await using var dataSource = _cluster.CreateDataSource();
        var batch = new ImportBatch();
        for (var i = 0; i < 20; i++)
            batch.Items.Add(new ItemRow(i + 2, $"i{i}", $"Item {i}", null, null, null, null, null, null, ["Topic"]));
        await new CatalogImporter(dataSource).ImportAsync(batch);
        await new AccountStore(dataSource).UpsertAsync("eve", "Eve", "user", ServiceFixture.Password);
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Recommender", _cluster.ConnectionString);
            b.UseSetting("Recommender:TrainingInterval", "00:00:00");
            b.UseSetting("Recommender:ModelPollInterval", "00:00:00.500");
        });
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        await _factory.DisposeAsync();
        await _cluster.DisposeAsync();
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
        Assert.Equal(HttpStatusCode.OK, feedWhileDown.StatusCode);
        var servedWhileDown = (await feedWhileDown.Content.ReadFromJsonAsync<Feed>())!;
        Assert.Equal(5, servedWhileDown.Items.Count);
        Assert.All(servedWhileDown.Items, i => Assert.Equal(FeedService.WithoutDatabaseReason, i.Reasons[0]));

        await _cluster.StartAgainAsync();
        var retried = await RetryUntilOkAsync(
            () => client.PostAsJsonAsync("/api/me/events", new[] { new { itemId = 1L, kind = "view", idempotencyKey = "during" } }), TimeSpan.FromSeconds(10));
        retried.EnsureSuccessStatusCode();
        var recovered = await (await client.GetAsync("/api/me/feed?k=5")).Content.ReadFromJsonAsync<Feed>();
        Assert.DoesNotContain(FeedService.WithoutDatabaseReason, recovered!.Items.SelectMany(i => i.Reasons));
        await _factory.Services.GetRequiredService<AuditLog>().FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));

        await using var conn = new NpgsqlConnection(_cluster.ConnectionString);
        Assert.Equal(acknowledged + 1, await conn.ExecuteScalarAsync<long>("select count(*) from events"));
        Assert.Equal(100, acknowledged);
        Assert.Equal(1, await conn.ExecuteScalarAsync<long>("select count(*) from served_lists where request_id = @id", new { id = servedWhileDown.RequestId }));
    }

    [Fact]
    public async Task PlatformFeed_database_down_serves_a_new_user_reports_it_in_health_and_records_it_afterwards()
    {
        await using (var dataSource = _cluster.CreateDataSource())
        {
            var (_, key) = await new ApiKeyStore(dataSource).CreateAsync("platform", ["feeds"]);
            _client = _factory.CreateClient();
            _client.DefaultRequestHeaders.Add("X-Api-Key", key);
        }
        (await _client.GetAsync("/api/platform/users/known/feed?k=3")).EnsureSuccessStatusCode();

        await _cluster.StopAsync();
        // A user the service has never seen: their id cannot be mapped until the database is back.
        var feed = await _client.GetAsync("/api/platform/users/newcomer/feed?k=3");
        var health = await _client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, feed.StatusCode);
        var served = (await feed.Content.ReadFromJsonAsync<Feed>())!;
        Assert.Equal(3, served.Items.Count);
        Assert.All(served.Items, i => Assert.Equal(FeedService.WithoutDatabaseReason, i.Reasons[0]));
        var report = await health.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Unhealthy", report.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        var serving = report.GetProperty("checks").GetProperty("serving");
        Assert.Equal("Degraded", serving.GetProperty("status").GetString());
        Assert.Equal(1, serving.GetProperty("data").GetProperty("feedsWithoutDatabase").GetInt64());
        Assert.True(report.GetProperty("checks").GetProperty("audit-log").GetProperty("data").GetProperty("pending").GetInt64() >= 1, "the record is buffered");

        await _cluster.StartAgainAsync();
        await _factory.Services.GetRequiredService<AuditLog>().FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await using var conn = new NpgsqlConnection(_cluster.ConnectionString);
        Assert.Equal("newcomer", await conn.ExecuteScalarAsync<string>(
            "select u.external_id from served_lists s join users u on u.id = s.user_id where s.request_id = @id", new { id = served.RequestId }));
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
