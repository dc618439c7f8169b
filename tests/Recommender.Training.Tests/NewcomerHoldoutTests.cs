using Dapper;
using Recommender.Core;
using Recommender.Data;
using Recommender.Data.Import;
using Recommender.Data.Models;
using Recommender.Testing;

namespace Recommender.Training.Tests;

/// <summary>
/// The ranking model's holdout when most recent activity is from people who arrived lately, as on the demo after its
/// simulated readers: a plain cut in time leaves nothing of theirs to measure, so no retrain could ever pass the gate.
/// </summary>
public sealed class NewcomerHoldoutTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task TrainAsync_measures_newcomers_on_their_later_pairs_and_activates_a_model_that_ranks_them_better_than_popularity()
    {
        // 80 items of four tastes (item i is taste i mod 4). 60 early people rate 15 items each, 9 of 10 when the item is
        // of their taste and 2 otherwise; then 10 newcomers rate 10 items each of their own taste, all after everyone
        // else, so theirs are exactly the latest 10% of the 1,000 ratings.
        var batch = new ImportBatch();
        batch.Sources.Add(new SourceRow(1, "s", "Source", 0.9f));
        for (var i = 0; i < 80; i++)
            batch.Items.Add(new ItemRow(i + 2, $"item-{i}", $"Item {i}", null, null, DateTimeOffset.UnixEpoch, 1, "s", null, []));
        var random = new Random(3);
        var start = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        void Rate(string person, int item, int rating, DateTimeOffset at) =>
            batch.Events.Add(new EventRow(0, person, $"item-{item}", EventKind.Rating, rating, at, ImportBatch.DerivedKey(EventKind.Rating, $"item-{item}", at)));
        for (var u = 0; u < 60; u++)
        {
            foreach (var i in Enumerable.Range(0, 80).OrderBy(_ => random.Next()).Take(15))
                Rate($"early-{u}", i, u % 4 == i % 4 ? 9 : 2, start.AddMinutes(random.Next(0, 10_000)));
        }
        for (var n = 0; n < 10; n++)
        {
            foreach (var i in Enumerable.Range(0, 20).Select(k => 4 * k + n % 4).OrderBy(_ => random.Next()).Take(10))
                Rate($"new-{n}", i, 9, start.AddDays(30).AddMinutes(random.Next(0, 10_000)));
        }
        await new CatalogImporter(_db.DataSource).ImportAsync(batch);

        var report = await Training().TrainAsync(Options());

        var m = report.Metrics!;
        // Each newcomer's earlier 5 ratings train, the later 5 are measured: 50 pairs, none of them an early person's.
        Assert.Equal((950L, 50L), (m.TrainRatings, m.TestRatings));
        Assert.Equal(ModelMetrics.TimeWithNewcomers, m.HoldoutSplit);
        Assert.True(m.TestNdcg > m.PopularityNdcg, $"NDCG@10 {m.TestNdcg} should beat popularity's {m.PopularityNdcg}");
        // The 10 newcomers are the people measured, and the lead's standard error over them is recorded for the pages.
        Assert.Equal(10, m.HeldOutPeople);
        Assert.True(m.PopularityGapError is > 0 and < 0.5, $"standard error {m.PopularityGapError}");
        Assert.True(report.Activated, report.Decision);
        Assert.Contains("on 50 held-out pairs", report.Decision, StringComparison.Ordinal);

        // An active model measured on the plain cut, as every model before this holdout was, is not compared with:
        // its figure came from other pairs. Here it is said to have scored far higher, and the new model still serves.
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("update models set metrics = jsonb_set(metrics, '{testNdcg}', '0.99') - 'holdoutSplit' where is_active");
        var next = await Training().TrainAsync(Options());

        Assert.True(next.Activated, next.Decision);
        Assert.EndsWith($"(active model {report.Version} was measured on another holdout, so it is not compared)", next.Decision, StringComparison.Ordinal);
    }

    private ModelTraining Training() => new(new ModelStore(_db.DataSource), new EventStore(_db.DataSource));

    private static Factorization.MatrixFactorizationOptions Options()
    {
        var options = ModelTraining.DefaultOptions();
        options.NumberOfThreads = 1;
        options.ApproximationRank = 4;
        return options;
    }
}
