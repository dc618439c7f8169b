using Dapper;
using Recommender.Core;
using Recommender.Data;
using Recommender.Data.Import;
using Recommender.Data.Models;
using Recommender.Factorization;
using Recommender.Testing;

namespace Recommender.Training.Tests;

/// <summary>The model row records what its run minimised: squared error on ratings, or the one-class loss on ratings of 7 or more or on activity, with or without weighted λ.</summary>
public sealed class ModelLossTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    /// <summary>60 people with 15 events each on 80 items: ratings 1–9, or clicks and likes (no ratings at all).</summary>
    private async Task SeedAsync(bool ratings)
    {
        var batch = new ImportBatch();
        for (var i = 0; i < 80; i++)
            batch.Items.Add(new ItemRow(i + 1, $"item-{i}", $"Item {i}", null, null, null, null, null, null, []));
        var random = new Random(3);
        for (var u = 0; u < 60; u++)
        {
            foreach (var i in Enumerable.Range(0, 80).OrderBy(_ => random.Next()).Take(15))
            {
                var at = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(random.Next(0, 100_000));
                var kind = ratings ? EventKind.Rating : u % 4 == i % 4 ? EventKind.Like : EventKind.Click;
                float? value = ratings ? 1 + (u % 4 == i % 4 ? 8 : random.Next(0, 6)) : null;
                batch.Events.Add(new EventRow(0, $"u{u}", $"item-{i}", kind, value, at, ImportBatch.DerivedKey(kind, $"item-{i}", at)));
            }
        }
        await new CatalogImporter(_db.DataSource).ImportAsync(batch);
    }

    [Theory]
    [InlineData(true, false, false, ModelLoss.SquaredError, "mf-sgd", "squared error on ratings")]
    [InlineData(true, true, false, ModelLoss.SquaredError, "mf-sgd", "squared error on ratings, weighted λ")]
    [InlineData(true, false, true, ModelLoss.OneClass, ModelTraining.RatingsAlgorithm, "one-class loss on what people liked or did")]
    [InlineData(false, false, false, ModelLoss.OneClass, ModelTraining.ActivityAlgorithm, "one-class loss on what people liked or did")]
    [InlineData(false, true, true, ModelLoss.OneClass, ModelTraining.ActivityAlgorithm, "one-class loss on what people liked or did, weighted λ")]
    public async Task TrainAsync_records_the_loss_it_minimised(bool ratings, bool weighted, bool oneClass, string objective, string algorithm, string words)
    {
        await SeedAsync(ratings);
        var models = new ModelStore(_db.DataSource);

        var report = await new ModelTraining(models, new EventStore(_db.DataSource)).TrainAsync(
            new MatrixFactorizationOptions
            {
                NumberOfThreads = 1,
                ApproximationRank = 8,
                NumberOfIterations = 5,
                FrequencyScaledRegularization = weighted,
                LossFunction = oneClass ? LossFunction.SquareLossOneClass : LossFunction.SquareLossRegression,
            });

        Assert.Equal(!ratings ? ModelMetrics.Activity : oneClass ? ModelMetrics.PositiveRatings : ModelMetrics.Ratings, report.Metrics!.Feedback);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var row = await conn.QuerySingleAsync<(string Algorithm, string Loss, bool WeightedLambda, string LossFunction)>(
            "select algorithm, loss, weighted_lambda, options->>'lossFunction' from models where version = @v", new { v = report.Version });
        Assert.Equal((algorithm, objective, weighted), (row.Algorithm, row.Loss, row.WeightedLambda));
        // The recorded loss is the one the trainer's options say it ran with.
        Assert.Equal(objective == ModelLoss.SquaredError ? ((int)LossFunction.SquareLossRegression).ToString() : ((int)LossFunction.SquareLossOneClass).ToString(), row.LossFunction);
        var listed = Assert.Single(await models.ListAsync());
        Assert.Equal(new ModelLoss(objective, weighted), listed.TrainedWith);
        Assert.Equal(words, listed.TrainedWith.Describe());
    }

    [Fact]
    public async Task Loss_of_a_row_the_schema_does_not_know_is_refused()
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var e = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => conn.ExecuteAsync(
            "insert into models (algorithm, loss, weighted_lambda, options) values ('mf-sgd', 'hinge', false, '{}')"));
        Assert.Equal(Npgsql.PostgresErrorCodes.CheckViolation, e.SqlState);
    }
}
