using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Recommender.Data;
using Recommender.Testing;

namespace Recommender.Service.Tests;

/// <summary>
/// The session check while PostgreSQL is down, on a cluster of the test's own: a person stays signed in (the check is
/// deferred, not failed), and sign-out still counts once the database is back.
/// </summary>
public sealed class SessionOutageTests : IAsyncLifetime
{
    private OwnCluster _cluster = null!;
    private WebApplicationFactory<Program> _factory = null!;

    public async Task InitializeAsync()
    {
        _cluster = await OwnCluster.StartAsync("sessions");
        await using var dataSource = _cluster.CreateDataSource();
        await new AccountStore(dataSource).UpsertAsync("sam", "Sam", "user", ServiceFixture.Password);
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Recommender", _cluster.ConnectionString);
            b.UseSetting("Recommender:TrainingInterval", "00:00:00");
            // Every request checks its session, so the checks certainly happen while the database is down.
            b.UseSetting("Recommender:SessionCheckInterval", "00:00:00");
        });
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Sessions_database_down_keeps_people_signed_in_and_checks_again_when_it_returns()
    {
        var client = _factory.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
        client.DefaultRequestHeaders.Add("Cookie", await ServiceFixture.SessionCookieAsync(client, "sam"));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);

        await _cluster.StopAsync();
        var whileDown = await client.GetAsync("/api/auth/me");
        await _cluster.StartAgainAsync();
        // Connections pooled before the restart are broken, and a check that happens to take one is deferred again;
        // without them every check from here on reaches the database.
        _factory.Services.GetRequiredService<NpgsqlDataSource>().Clear();
        var after = await client.GetAsync("/api/auth/me");
        await using (var dataSource = _cluster.CreateDataSource())
            await dataSource.CreateCommand("update sessions set ended_at = now()").ExecuteNonQueryAsync();
        var ended = await client.GetAsync("/api/auth/me");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Unauthorized), (whileDown.StatusCode, after.StatusCode, ended.StatusCode));
    }
}
