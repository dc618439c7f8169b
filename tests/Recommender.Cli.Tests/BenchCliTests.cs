extern alias service;

using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Recommender.Data;
using Recommender.Testing;
using ServiceProgram = service::Program;

namespace Recommender.Cli.Tests;

/// <summary>
/// <c>recommender bench</c> as a person runs it against the REST service: the real service on a loopback port of its
/// own, with the small world's catalog and model, and keys made and revoked in its database.
/// </summary>
public sealed class BenchCliTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();
    private WebApplicationFactory<ServiceProgram> _service = null!;
    private string _url = "";

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        await SmallWorld.SeedAsync(_db.DataSource);
        _service = new WebApplicationFactory<ServiceProgram>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Recommender", _db.ConnectionString);
            b.UseSetting("Recommender:TrainingInterval", "00:00:00");
            b.UseEnvironment("Production");
        });
        _service.UseKestrel(0);
        _service.StartServer();
        _url = _service.ClientOptions.BaseAddress.ToString().TrimEnd('/');
    }

    public async Task DisposeAsync()
    {
        await _service.DisposeAsync();
        await _db.DisposeAsync();
    }

    private async Task<string> KeyAsync(bool revoked, params string[] scopes)
    {
        var keys = new ApiKeyStore(_db.DataSource);
        var (info, key) = await keys.CreateAsync("bench", scopes);
        if (revoked)
            await keys.RevokeAsync(info.Id);
        return key;
    }

    private Task<(int Exit, string Output)> BenchAsync(string key, params string[] args) =>
        CliTests.RunCliAsync(null, _db.ConnectionString, new Dictionary<string, string>(), ["bench", .. args, "--url", _url, "--api-key", key]);

    private async Task<long> PlatformUsersAsync()
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>("select count(*) from users where external_id is not null");
    }

    [Fact]
    public async Task Bench_serve_with_a_revoked_key_exits_1_in_one_line_and_sends_no_load()
    {
        var usersBefore = await PlatformUsersAsync();

        var refused = await BenchAsync(await KeyAsync(revoked: true, "feeds"), "serve", "--duration", "5", "--users", "20");

        Assert.True(refused.Exit == 1, refused.Output);
        Assert.Equal($"error: --api-key: the service at {_url}/ refused the key: it is not known or has been revoked; an admin creates one with `recommender keys create --scope feeds`",
            refused.Output.Trim());
        Assert.Equal(usersBefore, await PlatformUsersAsync());
    }

    [Fact]
    public async Task Bench_ingest_with_a_key_without_the_events_scope_exits_1_naming_the_scope()
    {
        var refused = await BenchAsync(await KeyAsync(revoked: false, "feeds"), "ingest", "--events", "10", "--batch", "10");

        Assert.True(refused.Exit == 1, refused.Output);
        Assert.Equal($"error: --api-key: the service at {_url}/ refused the key for this load: it lacks the 'events' scope", refused.Output.Trim());
    }

    [Fact]
    public async Task Bench_ingest_where_every_batch_fails_prints_its_figures_then_exits_1_saying_so()
    {
        var key = await KeyAsync(revoked: false, "events");

        // Items the catalog does not have: every batch is refused with a 400.
        var failed = await BenchAsync(key, "ingest", "--events", "30", "--batch", "10", "--concurrency", "1", "--item-prefix", "nope-", "--items", "5");
        var sent = await BenchAsync(key, "ingest", "--events", "30", "--batch", "10", "--concurrency", "1", "--item-prefix", "item-", "--items", "79");

        Assert.True(failed.Exit == 1, failed.Output);
        var lines = failed.Output.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("{\"bench\":\"ingest\"", lines[0], StringComparison.Ordinal);
        Assert.Equal("error: every one of the 3 event batches failed (3 × 400)", lines[1]);
        Assert.True(sent.Exit == 0, sent.Output);
        Assert.Contains("\"acknowledged\":30,", sent.Output, StringComparison.Ordinal);
    }
}
