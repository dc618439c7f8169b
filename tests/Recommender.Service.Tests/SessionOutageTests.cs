using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;
using Recommender.Data;
using Recommender.Data.Migrations;

namespace Recommender.Service.Tests;

/// <summary>
/// The session check while PostgreSQL is down, on a cluster of the test's own: a person stays signed in (the check is
/// deferred, not failed), and sign-out still counts once the database is back.
/// </summary>
public sealed class SessionOutageTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("recommender-sessions-").FullName;
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
        await new AccountStore(dataSource).UpsertAsync("sam", "Sam", "user", ServiceFixture.Password);
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Recommender", _cluster.ConnectionString + ";Timeout=3;Command Timeout=5");
            b.UseSetting("Recommender:TrainingInterval", "00:00:00");
            // Every request checks its session, so the checks certainly happen while the database is down.
            b.UseSetting("Recommender:SessionCheckInterval", "00:00:00");
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
    public async Task Sessions_database_down_keeps_people_signed_in_and_checks_again_when_it_returns()
    {
        var client = _factory.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
        var signIn = await client.PostAsJsonAsync("/api/auth/sign-in", new { login = "sam", password = ServiceFixture.Password });
        signIn.EnsureSuccessStatusCode();
        client.DefaultRequestHeaders.Add("Cookie", signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(ApiServiceExtensions.CookieName + "=", StringComparison.Ordinal)).Split(';')[0]);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);

        await _cluster.StopAsync();
        var whileDown = await client.GetAsync("/api/auth/me");
        await _cluster.EnsureStartedAsync();
        var after = await client.GetAsync("/api/auth/me");
        await using (var dataSource = Database.CreateDataSource(_cluster.ConnectionString))
            await dataSource.CreateCommand("update sessions set ended_at = now()").ExecuteNonQueryAsync();
        // A pooled connection broken by the restart defers one more check; the next one sees the ended session.
        var ended = await client.GetAsync("/api/auth/me");
        for (var i = 0; i < 10 && ended.StatusCode == HttpStatusCode.OK; i++)
        {
            await Task.Delay(200);
            ended = await client.GetAsync("/api/auth/me");
        }

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Unauthorized), (whileDown.StatusCode, after.StatusCode, ended.StatusCode));
    }
}
