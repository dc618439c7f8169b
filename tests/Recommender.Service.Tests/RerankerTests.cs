using System.Net.Http.Json;
using Dapper;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Recommender.Core;
using Recommender.Data;
using Recommender.Data.Models;
using Recommender.Reranking;
using Recommender.Serving;
using Recommender.Testing;
using Xunit.Abstractions;

namespace Recommender.Service.Tests;

/// <summary>
/// The learned second stage end to end on the small world: served lists and what followed them are written to the
/// database, the re-ranker trains on them, and the gate decides whether feeds use it.
/// </summary>
public sealed class RerankerTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TestDatabase _db = new();
    private IReadOnlyDictionary<string, long> _items = null!;

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        _items = await SmallWorld.SeedAsync(_db.DataSource);
    }

    public Task DisposeAsync() => _db.DisposeAsync();

    private RerankerTraining Training() =>
        new(new RerankerStore(_db.DataSource), new ModelStore(_db.DataSource), new CatalogStore(_db.DataSource),
            new ServedListStore(_db.DataSource), new EventStore(_db.DataSource), new SettingsStore(_db.DataSource));

    [Fact]
    public async Task TrainAsync_credibility_predicts_engagement_activates_and_feeds_name_it()
    {
        // Readers complete half the items of credible sources and almost never engage with the dubious one (every
        // 7th item): something the MF score, learned from topic tastes, does not know.
        await ServeAsync((_, item, random) => item % 7 == 0 ? (random.NextDouble() < 0.05 ? EventKind.Click : null)
            : random.NextDouble() < 0.5 ? EventKind.Complete : null);

        var report = await Training().TrainAsync();
        output.WriteLine(report.Decision);

        Assert.True(report.Activated, report.Decision);
        var m = report.Metrics!;
        Assert.True(m.RerankerNdcg > m.MfNdcg + 0.05, report.Decision);

        await using var service = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Recommender", _db.ConnectionString);
            b.UseSetting("Recommender:TrainingInterval", "00:00:00");
        });
        var (_, key) = await new ApiKeyStore(_db.DataSource).CreateAsync("platform", ["feeds"]);
        using var client = service.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        var feed = await client.GetFromJsonAsync<Feed>("/api/platform/users/u3/feed?k=5");

        Assert.Equal($"reranker v{report.Version}", service.Services.GetRequiredService<ServingState>().Current.Pipeline.Reranker?.Name);
        var recorded = await WaitForAuditAsync(feed!.RequestId);
        Assert.Equal($"reranker v{report.Version}", recorded);
    }

    [Fact]
    public async Task TrainAsync_lists_of_readers_the_model_never_saw_are_counted_aside_and_named_in_the_decision()
    {
        // The demo's case: readers who arrived after the serving model was trained. Their lists have outcomes, but the
        // model has no score of theirs to refine, so they cannot count; the decision says so rather than "only 0 lists".
        await ServeAsync((_, item, random) => random.NextDouble() < 0.5 ? EventKind.Complete : null);
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            var readers = (await conn.QueryAsync<(long Id, string ExternalId)>("select id, external_id from users where external_id ~ '^u[0-9]+$'")).AsList();
            Assert.NotEmpty(readers);
            foreach (var (id, externalId) in readers)
            {
                var newcomer = await conn.ExecuteScalarAsync<long>(
                    "insert into users (external_id, display_name) values (@e, 'Newcomer') returning id", new { e = "newcomer-" + externalId });
                await conn.ExecuteAsync("update served_lists set user_id = @newcomer where user_id = @id", new { newcomer, id });
                await conn.ExecuteAsync("update events set user_id = @newcomer where user_id = @id and occurred_at >= '2025-06-01'", new { newcomer, id });
            }
        }
        var model = (await new ModelStore(_db.DataSource).LoadActiveAsync())!;

        var report = await Training().TrainAsync();
        output.WriteLine(report.Decision);

        Assert.Null(report.Version);
        Assert.Matches($"^not trained: only 0 served lists with an outcome \\(need 50\\); [1-9][0-9]* more are of readers model v{model.Version} was not trained on", report.Decision);
    }

    [Fact]
    public async Task TrainAsync_noise_outcomes_fail_the_gate_and_feeds_stay_mf_alone()
    {
        await ServeAsync((_, _, random) => random.NextDouble() < 0.3 ? EventKind.Complete : null);

        var report = await Training().TrainAsync();
        output.WriteLine(report.Decision);

        Assert.False(report.Activated, report.Decision);
        Assert.StartsWith("rejected", report.Decision, StringComparison.Ordinal);
        Assert.Null(await new RerankerStore(_db.DataSource).ActiveVersionAsync());
        Assert.Equal("rejected", (await new RerankerStore(_db.DataSource).ListAsync()).Single().Status);

        // With none active, serving ranks exactly as a pipeline over MF alone.
        var objectives = new ObjectiveRegistry(ObjectiveRegistry.BuiltIn());
        var state = new ServingState(new CatalogStore(_db.DataSource), new ModelStore(_db.DataSource), objectives,
            NullLogger<ServingState>.Instance, new RerankerStore(_db.DataSource));
        await state.ReloadAsync();
        var pipeline = state.Current.Pipeline;
        Assert.Null(pipeline.Reranker);
        var alone = new RecommendationPipeline(pipeline.Model, pipeline.Catalog, objectives);
        var userId = await UserIdAsync("u3");
        var request = new RecommendationRequest(UserState.FromHistory(userId, []), "engagement", ObjectiveParameters.Empty, 10, 7, DateTimeOffset.UnixEpoch);
        var served = pipeline.Recommend(request);
        Assert.Null(served.RerankerVersion);
        Assert.Equal(alone.Recommend(request).ItemsJson(), served.ItemsJson());
    }

    [Fact]
    public async Task TrainAsync_readers_who_engage_at_their_own_level_teach_it_the_level_gap()
    {
        // Reader u reads at level 1 + u mod 5 (item i is at level 1 + i mod 5) and has read every item at that level
        // before the first list. They complete items at their level often, one level off now and then, others almost
        // never: nothing the MF score (topic tastes) or any other feature knows, only the gap to what they read.
        static int Gap(int reader, int item) => Math.Abs(item % 5 - reader % 5);
        await ServeAsync((reader, item, random) => random.NextDouble() < Gap(reader, item) switch { 0 => 0.6, 1 => 0.1, _ => 0.02 } ? EventKind.Complete : null,
            reader => [.. Enumerable.Range(0, 80).Where(i => i % 5 == reader % 5)]);

        var report = await Training().TrainAsync();
        output.WriteLine(report.Decision);

        Assert.True(report.Activated, report.Decision);
        var m = report.Metrics!;
        // Without the level gap the other features still find something (item age pins down the item, so its level):
        // 0.63 against MF's 0.54 on these lists, a margin of 0.09. With it, 0.69, a margin of 0.15.
        Assert.True(m.RerankerNdcg > m.MfNdcg + 0.12, report.Decision);
    }

    /// <summary>
    /// Twelve lists of ten items per reader a day apart, half of them from the dubious source, each followed an hour
    /// later by what <paramref name="outcome"/> says the reader did with each item (reader number, item number, random);
    /// before the first list each reader has completed the items <paramref name="readBefore"/> gives.
    /// </summary>
    private async Task ServeAsync(Func<int, int, Random, EventKind?> outcome, Func<int, int[]>? readBefore = null)
    {
        var random = new Random(11);
        var records = new List<AuditRecord>();
        var events = new List<(long User, long Item, string Kind, DateTime At)>();
        var start = new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);
        var dubious = Enumerable.Range(0, 80).Where(i => i % 7 == 0).ToArray();
        var credible = Enumerable.Range(0, 80).Where(i => i % 7 != 0).ToArray();
        for (var u = 0; u < 60; u++)
        {
            var userId = await UserIdAsync($"u{u}");
            foreach (var i in readBefore?.Invoke(u) ?? [])
                events.Add((userId, _items[$"item-{i}"], EventKind.Complete.ToName(), start.AddDays(-10).AddMinutes(i).UtcDateTime));
            for (var l = 0; l < 12; l++)
            {
                var at = start.AddDays(l).AddMinutes(u);
                var picks = dubious.OrderBy(_ => random.Next()).Take(5).Concat(credible.OrderBy(_ => random.Next()).Take(5)).OrderBy(_ => random.Next()).ToArray();
                var items = picks.Select((i, r) => new ServedItem(r + 1, _items[$"item-{i}"], 0, new Dictionary<string, double>(), [])).ToList();
                records.Add(new AuditRecord(Guid.NewGuid(), userId, new ServedList(userId, "engagement", "1", "{}", "test", "1", l, at, items.Count, items)));
                foreach (var i in picks)
                {
                    if (outcome(u, i, random) is { } kind)
                        events.Add((userId, _items[$"item-{i}"], kind.ToName(), at.AddHours(1).UtcDateTime));
                }
            }
        }
        await new ServedListStore(_db.DataSource).WriteAsync(records);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("""
            insert into events (user_id, item_id, kind, occurred_at, idempotency_key)
            select u, i, k, t, 'test-' || n from unnest(@users, @items, @kinds, @times) with ordinality as e(u, i, k, t, n)
            """, new
        {
            users = events.Select(e => e.User).ToArray(),
            items = events.Select(e => e.Item).ToArray(),
            kinds = events.Select(e => e.Kind).ToArray(),
            times = events.Select(e => e.At).ToArray(),
        });
    }

    private async Task<long> UserIdAsync(string externalId)
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>("select id from users where external_id = @externalId", new { externalId });
    }

    private async Task<string?> WaitForAuditAsync(Guid requestId)
    {
        var store = new ServedListStore(_db.DataSource);
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if (await store.GetAsync(requestId) is { } row)
                return row.RerankerVersion;
            await Task.Delay(100);
        }
        throw new TimeoutException($"The feed's list {requestId} did not reach the audit log within 10 s.");
    }
}
