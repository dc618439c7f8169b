using Npgsql;
using Recommender.Core;
using Recommender.Data;
using Recommender.Data.Import;
using Recommender.Data.Models;
using Recommender.Factorization;
using Recommender.Training;

namespace Recommender.Testing;

/// <summary>
/// A small world for service and page tests: 80 items on four topics ("item-0" … "item-79"; item i carries topics
/// i mod 4 and (i / 4) mod 4), a credible and a dubious source (every 7th item), levels 1–5, publication dates a day
/// apart, 15 ratings from each of 60 platform users with tastes by topic, and a trained, active model.
/// </summary>
public static class SmallWorld
{
    public static readonly string[] Topics = ["Oceans", "Physics", "History", "Music"];

    /// <returns>Database ids of the items by external id.</returns>
    public static async Task<IReadOnlyDictionary<string, long>> SeedAsync(NpgsqlDataSource dataSource)
    {
        var batch = new ImportBatch();
        batch.Sources.Add(new SourceRow(1, "good", "Good Source", 0.9f));
        batch.Sources.Add(new SourceRow(2, "dubious", "Dubious Source", 0.1f));
        for (var i = 0; i < 80; i++)
        {
            batch.Items.Add(new ItemRow(i + 2, $"item-{i}", $"Item {i} about {Topics[i % 4]}", null, null, new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).AddDays(i),
                (short)(1 + i % 5), i % 7 == 0 ? "dubious" : "good", null, [Topics[i % 4], Topics[(i / 4) % 4]]));
        }
        var random = new Random(7);
        for (var u = 0; u < 60; u++)
        {
            foreach (var i in Enumerable.Range(0, 80).OrderBy(_ => random.Next()).Take(15))
            {
                // Spread in time so the temporal holdout has rows from users and items seen in training.
                var at = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(random.Next(0, 100_000));
                var rating = 1 + ((u % 4 == i % 4) ? 8 : random.Next(0, 6));
                batch.Events.Add(new EventRow(0, $"u{u}", $"item-{i}", EventKind.Rating, rating, at, ImportBatch.DerivedKey(EventKind.Rating, $"item-{i}", at)));
            }
        }
        await new CatalogImporter(dataSource).ImportAsync(batch);
        await new ModelTraining(new ModelStore(dataSource), new EventStore(dataSource)).TrainAsync(new MatrixFactorizationOptions { NumberOfThreads = 1, ApproximationRank = 8 });
        return await new CatalogStore(dataSource).ResolveItemsAsync(batch.Items.Select(i => i.ExternalId));
    }
}
