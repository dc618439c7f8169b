using Dapper;
using Recommender.Data;
using Recommender.Data.Import;
using Recommender.Data.Models;
using Recommender.Factorization;
using Recommender.Testing;

namespace Recommender.Training.Tests;

/// <summary>Training and evaluating on the Stack Exchange demo's activity: it has no ratings, only asks, answers, comments, favourites and edits.</summary>
public sealed class ActivityTrainingTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        await new CatalogImporter(_db.DataSource).ImportAsync(StackExchangeReader.Read(RepositoryPaths.StackExchange));
    }

    public Task DisposeAsync() => _db.DisposeAsync();

    [SharedDataFact(SharedDataSet.StackExchange)]
    public async Task TrainAsync_without_ratings_trains_on_activity_and_beats_popularity_on_the_temporal_holdout()
    {
        var models = new ModelStore(_db.DataSource);

        var report = await new ModelTraining(models, new EventStore(_db.DataSource)).TrainAsync(new MatrixFactorizationOptions { NumberOfThreads = 1 });

        Assert.True(report.Activated, report.Decision);
        var m = report.Metrics!;
        Assert.Equal(ModelMetrics.Activity, m.Feedback);
        // 6,708 (person, question) pairs: the first 90% by first event train, and the earlier half of the pairs of people
        // who first appear after the cut (36); 137 later pairs have a known person and question (93 under a plain cut).
        Assert.Equal((6_074L, 137L), (m.TrainRatings, m.TestRatings));
        Assert.Equal(ModelMetrics.TimeWithNewcomers, m.HoldoutSplit);
        Assert.True(m.TestNdcg > m.PopularityNdcg, $"NDCG@10 {m.TestNdcg} should beat popularity's {m.PopularityNdcg}");
        var active = await models.LoadActiveAsync();
        Assert.Equal(LossFunction.SquareLossOneClass, active!.Model.LossFunction);
        Assert.Equal((1_364, 1_654), (active.Model.UserCount, active.Model.ItemCount));
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(ModelTraining.ActivityAlgorithm, await conn.ExecuteScalarAsync<string>("select algorithm from models where version = @v", new { v = report.Version }));
    }

    [SharedDataFact(SharedDataSet.StackExchange)]
    public async Task TrainAsync_on_activity_with_a_search_chooses_rank_lambda_and_alpha_on_validation_and_records_them_with_the_model()
    {
        var models = new ModelStore(_db.DataSource);
        // The demo's validation split holds 158 pairs, fewer than the default minimum; here any number will do.
        var search = new RankingSearch([2, 16], [0.05, 50], [2, 5], MinimumValidationPairs: 1);

        var report = await new ModelTraining(models, new EventStore(_db.DataSource)).TrainAsync(new MatrixFactorizationOptions { NumberOfThreads = 1 }, null, search);

        var selection = report.Metrics!.Selection!;
        Assert.Equal(8, selection.Trials.Count);
        // The validation split is cut the same way from the holdout model's 6,074 pairs only: 5,535 of them train.
        Assert.Equal(5_535, selection.TrainRows);
        Assert.All(selection.Trials, t => Assert.InRange(t.ValidationNdcg!.Value, 0, 1));
        // Not all trials rank alike, so the choice is a measurement, and it is the best one.
        Assert.True(selection.Trials.Select(t => t.ValidationNdcg).Distinct().Count() > 1, "the trials should rank differently");
        var best = selection.Best;
        Assert.Equal(selection.Trials.Max(t => t.ValidationNdcg), best.ValidationNdcg);
        var row = (await models.ListAsync()).Single(m => m.Version == report.Version);
        using (var options = System.Text.Json.JsonDocument.Parse(row.Options))
        {
            Assert.Equal(best.Rank, options.RootElement.GetProperty("approximationRank").GetInt32());
            Assert.Equal(best.Lambda, options.RootElement.GetProperty("lambda").GetDouble());
            Assert.Equal(best.Alpha, options.RootElement.GetProperty("alpha").GetDouble());
        }
        using (var metrics = System.Text.Json.JsonDocument.Parse(row.Metrics))
            Assert.Equal(best.Alpha, metrics.RootElement.GetProperty("selection").GetProperty("best").GetProperty("alpha").GetDouble());
        var active = await models.LoadActiveAsync();
        Assert.Equal((report.Version, best.Rank, LossFunction.SquareLossOneClass), (active!.Version, active.Model.Rank, active.Model.LossFunction));
    }

    [SharedDataFact(SharedDataSet.StackExchange)]
    public async Task TrainAsync_on_activity_with_the_rank_given_searches_only_lambda_and_alpha_and_with_all_three_given_or_too_little_validation_does_not_search()
    {
        var models = new ModelStore(_db.DataSource);
        var training = new ModelTraining(models, new EventStore(_db.DataSource));

        var rankGiven = await training.TrainAsync(new MatrixFactorizationOptions { NumberOfThreads = 1, ApproximationRank = 12 }, null,
            RankingSearch.Except(12, null, null)! with { MinimumValidationPairs = 1 });
        var allGiven = RankingSearch.Except(12, 0.05, 5);
        var asGiven = await training.TrainAsync(new MatrixFactorizationOptions { NumberOfThreads = 1, ApproximationRank = 12, Alpha = 5 }, null, allGiven);
        var tooLittle = await training.TrainAsync(new MatrixFactorizationOptions { NumberOfThreads = 1 }, null, RankingSearch.Default);

        var trials = rankGiven.Metrics!.Selection!.Trials;
        Assert.Equal(RankingSearch.Default.Lambdas.Count * RankingSearch.Default.Alphas.Count, trials.Count);
        Assert.All(trials, t => Assert.Equal(12, t.Rank));
        Assert.Null(allGiven);
        Assert.Null(asGiven.Metrics!.Selection);
        // 158 validation pairs are below the default minimum of 1,000: the defaults stand, and the run says why.
        Assert.Null(tooLittle.Metrics!.Selection);
        Assert.Null(asGiven.Metrics.TooFewValidationPairs);
        Assert.Equal(158, tooLittle.Metrics.TooFewValidationPairs);
        var row = (await models.ListAsync()).Single(m => m.Version == tooLittle.Version);
        using var options = System.Text.Json.JsonDocument.Parse(row.Options);
        Assert.Equal(new MatrixFactorizationOptions().ApproximationRank, options.RootElement.GetProperty("approximationRank").GetInt32());
    }

    [SharedDataFact(SharedDataSet.StackExchange)]
    public async Task TrainAsync_with_ratings_keeps_training_on_ratings()
    {
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            // 200 ratings by the demo's people on its questions: enough for the explicit model, which then wins.
            await conn.ExecuteAsync("""
                insert into events (user_id, item_id, kind, value, occurred_at, idempotency_key)
                select u.id, i.id, 'rating', 1 + (u.id + i.id) % 10, now() - make_interval(secs => n), 'test-rating-' || n
                from generate_series(1, 200) n
                join lateral (select id from users order by id offset n % 50 limit 1) u on true
                join lateral (select id from items order by id offset n limit 1) i on true
                """);
        }

        var report = await new ModelTraining(new ModelStore(_db.DataSource), new EventStore(_db.DataSource)).TrainAsync(new MatrixFactorizationOptions { NumberOfThreads = 1 });

        Assert.Equal(ModelMetrics.Ratings, report.Metrics!.Feedback);
        Assert.Equal(180L, report.Metrics.TrainRatings);
    }

    [SharedDataFact(SharedDataSet.StackExchange)]
    public void LoadStackExchange_evaluates_the_activity_with_every_pair_a_positive_and_the_topic_tree_kept()
    {
        var data = ActivityEvaluation.LoadStackExchange(RepositoryPaths.StackExchange);

        Assert.True(data.ImplicitStrength);
        Assert.Equal((6_038, 93), (data.Split.Train.Count, data.Split.Test.Count));
        Assert.All(Enumerable.Range(0, data.Split.Test.Count), j => Assert.True(data.Split.Test.Values[j] >= data.PositiveThreshold));
        Assert.Equal("cardano", data.Catalog.ParentOf("cardano/wallet"));
        Assert.True(data.HasCredibility);
    }
}
