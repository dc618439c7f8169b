using Dapper;
using Recommender.Data;
using Recommender.Data.Import;
using Recommender.Data.Models;
using Recommender.Factorization;
using Recommender.Testing;

namespace Recommender.Training.Tests;

public sealed class ModelTrainingTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();
    private ModelStore _models = null!;

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        await new CatalogImporter(_db.DataSource).ImportAsync(ImportReaders.MovieTweetings(RepositoryPaths.MovieTweetings));
        _models = new ModelStore(_db.DataSource);
    }

    public Task DisposeAsync() => _db.DisposeAsync();

    private static MatrixFactorizationOptions Options(int iterations = 20) => new() { NumberOfThreads = 1, NumberOfIterations = iterations };

    [SharedDataFact(SharedDataSet.MovieTweetings)]
    public async Task TrainAsync_first_model_beats_global_mean_and_becomes_active()
    {
        var report = await new ModelTraining(_models, new EventStore(_db.DataSource)).TrainAsync(Options());

        Assert.True(report.Activated, report.Decision);
        var m = report.Metrics!;
        Assert.Equal((90_000L, 6_578L), (m.TrainRatings, m.TestRatings));
        Assert.True(m.TestRmse < m.GlobalMeanRmse, $"RMSE {m.TestRmse} should beat the global mean's {m.GlobalMeanRmse}");
        var active = await _models.LoadActiveAsync();
        Assert.Equal(report.Version, active!.Version);
        Assert.Equal((16_554, 10_506), (active.Model.UserCount, active.Model.ItemCount));
    }

    [SharedDataFact(SharedDataSet.MovieTweetings)]
    public async Task TrainAsync_with_the_product_defaults_ranks_on_ratings_of_7_or_more_and_beats_popularity()
    {
        // What train, up and the background trainer build: the one-class model that evaluate measures for engagement.
        var options = ModelTraining.DefaultOptions();
        options.NumberOfThreads = 1;

        var report = await new ModelTraining(_models, new EventStore(_db.DataSource)).TrainAsync(options, null, RankingSearch.Default);

        Assert.True(report.Activated, report.Decision);
        var m = report.Metrics!;
        Assert.Equal(ModelMetrics.PositiveRatings, m.Feedback);
        // The 10% cut in time as the rating model's (90,000 train, 6,578 held out kept), but the earlier half of the
        // ratings of people who first rate after the cut (792) trains, so 7,597 held-out ratings are measured.
        Assert.Equal((90_792L, 7_597L), (m.TrainRatings, m.TestRatings));
        Assert.True(m.TestNdcg > 1.05 * m.PopularityNdcg, $"holdout NDCG@10 {m.TestNdcg} should beat popularity's {m.PopularityNdcg} by 5%");
        // MovieTweetings' validation split has enough positives to choose from, and the choice is recorded with the model.
        Assert.NotNull(m.Selection);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(ModelTraining.RatingsAlgorithm, await conn.ExecuteScalarAsync<string>("select algorithm from models where version = @v", new { v = report.Version }));
        var active = await _models.LoadActiveAsync();
        Assert.Equal((report.Version, LossFunction.SquareLossOneClass, m.Selection.Best.Rank), (active!.Version, active.Model.LossFunction, active.Model.Rank));
    }

    [SharedDataFact(SharedDataSet.MovieTweetings)]
    public async Task TrainAsync_much_worse_model_is_rejected_and_active_one_stays()
    {
        var training = new ModelTraining(_models, new EventStore(_db.DataSource));
        var good = await training.TrainAsync(Options());

        // Zero iterations leaves the factors at their random start: far worse than the active model.
        var bad = await training.TrainAsync(Options(iterations: 0));

        Assert.False(bad.Activated);
        Assert.StartsWith("rejected", bad.Decision, StringComparison.Ordinal);
        Assert.Equal(good.Version, (await _models.LoadActiveAsync())!.Version);
        var listed = await _models.ListAsync();
        Assert.Equal("rejected", listed.Single(x => x.Version == bad.Version).Status);
        // The gate's words are kept with the model, for the models page and the REST list.
        Assert.Equal(bad.Decision, listed.Single(x => x.Version == bad.Version).Decision);
        Assert.False(await _models.ActivateAsync(bad.Version, ModelActivator.ByCommandLine));
    }

    [SharedDataFact(SharedDataSet.MovieTweetings)]
    public async Task ActivateAsync_earlier_version_rolls_back_and_keeps_one_active()
    {
        var training = new ModelTraining(_models, new EventStore(_db.DataSource));
        var first = await training.TrainAsync(Options());
        var second = await training.TrainAsync(Options());
        Assert.True(second.Activated, second.Decision);

        Assert.True(await _models.ActivateAsync(first.Version, ModelActivator.ByCommandLine));

        var listed = await _models.ListAsync();
        Assert.Equal([first.Version], listed.Where(x => x.IsActive).Select(x => x.Version));
        Assert.Equal(first.Version, (await _models.LoadActiveAsync())!.Version);
    }

    [SharedDataFact(SharedDataSet.MovieTweetings)]
    public async Task LoadActiveAsync_corrupted_payload_is_refused()
    {
        var report = await new ModelTraining(_models, new EventStore(_db.DataSource)).TrainAsync(Options(iterations: 2));
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("update models set payload = set_byte(payload, 100, (get_byte(payload, 100) + 1) % 256) where version = @v", new { v = report.Version });

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => _models.LoadActiveAsync());
        Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
    }

    [SharedDataFact(SharedDataSet.MovieTweetings)]
    public async Task LoadPreviousAsync_damaged_active_model_gives_the_last_one_active_before_it_that_loads()
    {
        var training = new ModelTraining(_models, new EventStore(_db.DataSource));
        var first = await training.TrainAsync(Options(iterations: 2));
        var second = await training.TrainAsync(Options(iterations: 2));
        var third = await training.TrainAsync(Options(iterations: 2));
        Assert.True(first.Activated && second.Activated && third.Activated);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        const string damage = "update models set payload = set_byte(payload, 100, (get_byte(payload, 100) + 1) % 256) where version = @v";
        await conn.ExecuteAsync(damage, new { v = third.Version });

        Assert.Equal(second.Version, (await _models.LoadPreviousAsync(third.Version))!.Version);

        await conn.ExecuteAsync(damage, new { v = second.Version });
        Assert.Equal(first.Version, (await _models.LoadPreviousAsync(third.Version))!.Version);

        await conn.ExecuteAsync(damage, new { v = first.Version });
        Assert.Null(await _models.LoadPreviousAsync(third.Version));
    }

    [SharedDataFact(SharedDataSet.MovieTweetings)]
    public async Task TrainExclusiveAsync_marks_a_killed_run_failed_and_skips_while_another_process_trains()
    {
        var killed = await _models.BeginAsync("mf-sgd", new ModelLoss(ModelLoss.SquaredError, false), "{}");
        var training = new ModelTraining(_models, new EventStore(_db.DataSource));
        // Another process: a connection of its own, outside this data source's pool.
        await using (var other = new Npgsql.NpgsqlConnection(_db.ConnectionString + ";Pooling=false"))
        {
            await other.OpenAsync();
            await other.ExecuteAsync("select pg_advisory_lock(@key)", new { key = TrainingLock.Key });
            Assert.Null(await training.TrainExclusiveAsync(Options(iterations: 2)));
            Assert.Equal("training", (await _models.ListAsync()).Single(m => m.Version == killed).Status);
            // Closing a connection frees its session locks only once the server backend has exited, which
            // is asynchronous; unlocking first makes "the other process has finished" a fact, not a race.
            await other.ExecuteAsync("select pg_advisory_unlock(@key)", new { key = TrainingLock.Key });
        }

        var report = await training.TrainExclusiveAsync(Options(iterations: 2));

        Assert.True(report!.Activated, report.Decision);
        var killedRow = (await _models.ListAsync()).Single(m => m.Version == killed);
        Assert.Equal("failed", killedRow.Status);
        Assert.Contains("interrupted", killedRow.Metrics, StringComparison.Ordinal);
        Assert.False(killedRow.IsActive);
    }

    [SharedDataFact(SharedDataSet.MovieTweetings)]
    public async Task TrainAsync_too_few_ratings_records_a_failed_run_and_activates_nothing()
    {
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("delete from events where id > (select min(id) + 10 from events)");

        var report = await new ModelTraining(_models, new EventStore(_db.DataSource)).TrainAsync(Options());

        Assert.False(report.Activated);
        Assert.Null(await _models.LoadActiveAsync());
        Assert.Equal("failed", (await _models.ListAsync()).Single().Status);
    }

    [SharedDataFact(SharedDataSet.MovieTweetings)]
    public async Task TrainAsync_with_a_search_chooses_on_validation_rows_and_records_the_choice_with_the_model()
    {
        var search = new HyperparameterSearch([4, 12], [0.05], 30, ChooseIterations: true);

        var report = await new ModelTraining(_models, new EventStore(_db.DataSource)).TrainAsync(Options(), search);

        var selection = report.Metrics!.Selection!;
        Assert.Equal([4, 12], selection.Trials.Select(t => t.Rank));
        // The validation split is cut from the 90,000 training rows only: their earliest 81,000 train, the rest validate.
        Assert.Equal(81_000, selection.TrainRows);
        Assert.InRange(selection.ValidationRows, 1, 9_000);
        var best = selection.Best;
        Assert.InRange(best.Iterations, 1, 30);
        Assert.True(double.IsFinite(best.ValidationRmse), "validation RMSE is a number");
        var row = (await _models.ListAsync()).Single(m => m.Version == report.Version);
        using (var options = System.Text.Json.JsonDocument.Parse(row.Options))
        {
            Assert.Equal(best.Rank, options.RootElement.GetProperty("approximationRank").GetInt32());
            Assert.Equal(best.Iterations, options.RootElement.GetProperty("numberOfIterations").GetInt32());
            Assert.Equal(best.Lambda, options.RootElement.GetProperty("lambda").GetDouble());
        }
        using (var metrics = System.Text.Json.JsonDocument.Parse(row.Metrics))
            Assert.Equal(best.Rank, metrics.RootElement.GetProperty("selection").GetProperty("best").GetProperty("rank").GetInt32());
        var active = await _models.LoadActiveAsync();
        Assert.Equal((report.Version, best.Rank), (active!.Version, active.Model.Rank));
    }

    [SharedDataFact(SharedDataSet.MovieTweetings)]
    public async Task TrainAsync_without_a_search_keeps_the_given_settings()
    {
        var report = await new ModelTraining(_models, new EventStore(_db.DataSource)).TrainAsync(Options(iterations: 3));

        Assert.Null(report.Metrics!.Selection);
        var row = (await _models.ListAsync()).Single();
        using var options = System.Text.Json.JsonDocument.Parse(row.Options);
        Assert.Equal(3, options.RootElement.GetProperty("numberOfIterations").GetInt32());
        Assert.False(System.Text.Json.JsonDocument.Parse(row.Metrics).RootElement.TryGetProperty("selection", out var s) && s.ValueKind != System.Text.Json.JsonValueKind.Null);
    }
}
