using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Recommender.Cli.Commands;
using Recommender.Core;
using Recommender.Data;
using Recommender.Data.Import;
using Recommender.Data.Models;
using Recommender.Factorization;
using Recommender.Serving;
using Recommender.Testing;
using Recommender.Training;

namespace Recommender.Cli.Tests;

/// <summary>
/// <c>up</c>'s simulated readers on the generated demo (which every clone has): a labelled history that the admin
/// report and outcome checks can measure, written once.
/// </summary>
public sealed class SimulatedReadersTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task SimulateReaders_on_the_generated_demo_serves_every_goal_on_14_days_and_a_second_run_adds_nothing()
    {
        await ImportCommand.RunAsync(_db.DataSource, () => GeneratedDemo.Create(), default);
        await TrainCommand.RunAsync(_db.DataSource, ModelTraining.DefaultOptions(), HyperparameterSearch.Default, RankingSearch.Default, default);

        var history = await UpCommand.SimulateReadersAsync(_db.ConnectionString, default);

        Assert.NotNull(history);
        Assert.Equal((32, 14, 448), (history.Readers, history.Days, history.Lists));
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var perGoal = (await conn.QueryAsync<(string Objective, long Lists, long Days, long People)>("""
            select s.objective_id, count(*), count(distinct (s.created_at at time zone 'UTC')::date), count(distinct s.user_id)
            from served_lists s join users u on u.id = s.user_id where u.simulated group by 1 order by 1
            """)).ToList();
        Assert.Equal(["diversity", "engagement", "learning", "no_profiling"], perGoal.Select(g => g.Objective));
        Assert.All(perGoal, g => Assert.Equal((112L, 14L, 8L), (g.Lists, g.Days, g.People)));
        Assert.True(await conn.ExecuteScalarAsync<bool>("select max(created_at) < now() from served_lists"));

        var names = (await conn.QueryAsync<string>("select display_name from users where simulated")).ToList();
        Assert.Equal(32, names.Count);
        Assert.All(names, n => Assert.StartsWith(SimulatedReaders.NamePrefix + " ", n, StringComparison.Ordinal));
        var kinds = (await conn.QueryAsync<(string Kind, long Count)>("""
            select e.kind, count(*) from events e join users u on u.id = e.user_id where u.simulated group by 1
            """)).ToDictionary(k => k.Kind, k => k.Count);
        Assert.Equal(history.Events, kinds.Values.Sum());
        Assert.All(new[] { "impression", "click", "like" }, k => Assert.True(kinds.GetValueOrDefault(k) > 0, k));
        Assert.True(kinds.GetValueOrDefault("quiz_correct") + kinds.GetValueOrDefault("quiz_wrong") > 0);
        // Every reader answers what they read, whatever their goal: only their lists differ.
        var learners = await conn.QueryAsync<string>("""
            select distinct s.objective_id from learning_state l join user_settings s using (user_id) join users u on u.id = l.user_id
            where u.simulated order by 1
            """);
        Assert.Equal(["diversity", "engagement", "learning", "no_profiling"], learners);

        var counts = await CountsAsync();
        Assert.Null(await UpCommand.SimulateReadersAsync(_db.ConnectionString, default));
        Assert.Equal(counts, await CountsAsync());

        // What the admin's report and outcome checks show.
        var state = new ServingState(new CatalogStore(_db.DataSource), new ModelStore(_db.DataSource), new ObjectiveRegistry(ObjectiveRegistry.BuiltIn()),
            NullLogger<ServingState>.Instance);
        await state.ReloadAsync();
        var (from, to) = (DateTimeOffset.UtcNow.AddDays(-15), DateTimeOffset.UtcNow);
        var report = await new ObjectiveReport(new ServedListStore(_db.DataSource), new EventStore(_db.DataSource), state).MeasureAsync(from, to);
        Assert.Equal(["diversity", "engagement", "learning", "no_profiling"], report.Select(r => r.ObjectiveId).Order(StringComparer.Ordinal));
        Assert.All(report, r => Assert.Equal((112L, 8L), (r.Lists, r.People)));
        var outcomes = new OutcomeChecks(new LearningStateStore(_db.DataSource), new EventStore(_db.DataSource), new SettingsStore(_db.DataSource),
            new ServedListStore(_db.DataSource), Options.Create(new ServingOptions()));
        var skill = await outcomes.SkillAsync(from, to);
        var learning = Assert.Single(skill.Summary, s => s.Group == "learning");
        Assert.Equal(8, learning.People);
        Assert.True(learning.Evidence > 0);
        // The check has someone to compare learners with: readers on other goals answered too (those of the 24 whose
        // answers fell in their own topics count).
        Assert.InRange(Assert.Single(skill.Summary, s => s.Group == OutcomeChecks.OtherGoals).People, 13, 24);
        Assert.NotNull(skill.LearningAhead);
        var breadth = await outcomes.BreadthAsync(from, to);
        Assert.Equal(8, Assert.Single(breadth.Summary, s => s.Group == "diversity").People);
    }

    [Fact]
    public async Task Seeding_trains_again_so_the_model_knows_the_simulated_readers_and_a_reranker_is_measured_on_their_lists()
    {
        // The generated demo with its ratings read as activity (a like for a rating of 6 or more), as the Stack Exchange
        // demo is: a model of activity can learn the simulated readers' clicks and likes.
        await ImportCommand.RunAsync(_db.DataSource, () => AsActivity(GeneratedDemo.Create()), default);
        var first = await TrainCommand.RunAsync(_db.DataSource, ModelTraining.DefaultOptions(), HyperparameterSearch.Default, RankingSearch.Default, default);
        Assert.Equal(ModelMetrics.Activity, first.Metrics!.Feedback);

        var history = await UpCommand.SimulateReadersAsync(_db.ConnectionString, default);

        var model = history?.Retrained;
        Assert.NotNull(model);
        // The history's time is its own; the training reports its own seconds.
        Assert.True(history!.Elapsed > TimeSpan.Zero);
        Assert.True(model.Metrics!.TrainSeconds > 0);
        Assert.Equal(first.Version + 1, model.Version);
        Assert.Equal(first.Metrics.Users + SimulatedReaders.PerGoal * 4, model.Metrics!.Users);
        Assert.True(model.Activated, model.Decision);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(model.Version, await conn.ExecuteScalarAsync<int>("select version from models where is_active"));
        // Measured on the simulated readers' lists, whichever way its gate went (the first model had no scores for them).
        Assert.True(history!.Reranker?.Metrics?.HoldoutLists > 0, history.Reranker?.Decision);
        Assert.Equal(model.Version, history.Reranker!.Metrics!.ModelVersion);
    }

    [Fact]
    public async Task A_model_of_ratings_is_not_trained_again_for_readers_who_rate_nothing()
    {
        await ImportCommand.RunAsync(_db.DataSource, () => GeneratedDemo.Create(), default);
        await TrainCommand.RunAsync(_db.DataSource, ModelTraining.DefaultOptions(), HyperparameterSearch.Default, RankingSearch.Default, default);

        var history = await UpCommand.SimulateReadersAsync(_db.ConnectionString, default);

        Assert.NotNull(history);
        Assert.Null(history.Retrained);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from models"));
    }

    private static ImportBatch AsActivity(ImportBatch batch)
    {
        var ratings = batch.Events.ToList();
        batch.Events.Clear();
        foreach (var e in ratings.Where(e => e.Value >= 6))
            batch.Events.Add(e with { Kind = EventKind.Like, Value = null, IdempotencyKey = ImportBatch.DerivedKey(EventKind.Like, e.ItemExternalId, e.OccurredAt) });
        return batch;
    }

    private async Task<(long Users, long Lists, long Events, long Skills)> CountsAsync()
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        return await conn.QuerySingleAsync<(long, long, long, long)>(
            "select (select count(*) from users), (select count(*) from served_lists), (select count(*) from events), (select count(*) from learning_state)");
    }
}
