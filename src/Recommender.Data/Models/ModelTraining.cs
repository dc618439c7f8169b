using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using Recommender.Factorization;

namespace Recommender.Data.Models;

/// <summary>What a training run measured on its temporal holdout, and how it chose its settings (null when all were given).</summary>
public sealed record ModelMetrics(
    long TrainRatings,
    long TestRatings,
    int Users,
    int Items,
    double TestRmse,
    double TestMae,
    double GlobalMeanRmse,
    double TrainSeconds,
    HyperparameterChoice? Selection = null);

/// <summary>The outcome of one training run.</summary>
public sealed record TrainingReport(int Version, bool Activated, string Decision, ModelMetrics? Metrics);

/// <summary>
/// One training run: read rating events with binary COPY, hold out the latest 10% in time, train and measure on it,
/// then train the final model on everything, store it, and activate it only if it passes the quality gate: its
/// holdout RMSE is no worse than the active model's by more than <see cref="GateTolerance"/>. Given a
/// <see cref="HyperparameterSearch"/>, rank, λ and iterations are first chosen on a time-ordered validation split of
/// the training rows (never the holdout), and the model row's options then record the chosen values.
/// </summary>
public sealed class ModelTraining(NpgsqlDataSource dataSource, ModelStore models)
{
    /// <summary>Fewer ratings than this and there is nothing worth factorising; feeds keep using popularity.</summary>
    public const int MinimumRatings = 100;

    /// <summary>A new model may be at most 2% worse on holdout RMSE than the active one (holdouts move as data arrives).</summary>
    public const double GateTolerance = 0.02;

    // Metrics may be NaN (nothing to measure); JSON has no NaN, so it is written as the string "NaN".
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>The session advisory lock every trainer holds for a run ("Training"); PostgreSQL releases it when the process dies.</summary>
    public const long TrainingLockKey = 0x547261696e696e67;

    /// <summary>
    /// <see cref="TrainAsync(MatrixFactorizationOptions, IProgress{TrainingProgress}?, CancellationToken)"/> unless another process is training this database, in which case null: one run at a
    /// time across the service's replicas and the CLI. Holding the lock also proves that a run still marked
    /// 'training' is not running (its process was killed), so such runs are marked failed first.
    /// </summary>
    public Task<TrainingReport?> TrainExclusiveAsync(MatrixFactorizationOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default) =>
        TrainExclusiveAsync(options, null, progress, ct);

    /// <summary>As <see cref="TrainExclusiveAsync(MatrixFactorizationOptions, IProgress{TrainingProgress}?, CancellationToken)"/>, choosing settings by <paramref name="search"/> when it is not null.</summary>
    public async Task<TrainingReport?> TrainExclusiveAsync(MatrixFactorizationOptions options, HyperparameterSearch? search, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition("select pg_try_advisory_lock(@TrainingLockKey)", new { TrainingLockKey }, cancellationToken: ct)))
            return null;
        try
        {
            await conn.ExecuteAsync(new CommandDefinition("""
                update models set status = 'failed', metrics = jsonb_build_object('error', 'interrupted: the process training it ended before it finished')
                where status = 'training'
                """, cancellationToken: ct));
            return await TrainAsync(options, search, progress, ct);
        }
        finally
        {
            await conn.ExecuteAsync(new CommandDefinition("select pg_advisory_unlock(@TrainingLockKey)", new { TrainingLockKey }, cancellationToken: CancellationToken.None));
        }
    }

    /// <summary>Trains with <paramref name="options"/> as given.</summary>
    public Task<TrainingReport> TrainAsync(MatrixFactorizationOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default) =>
        TrainAsync(options, null, progress, ct);

    /// <summary>Trains, choosing rank, λ and iterations by <paramref name="search"/> first when it is not null.</summary>
    public async Task<TrainingReport> TrainAsync(MatrixFactorizationOptions options, HyperparameterSearch? search, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
    {
        options.Validate();
        var version = await models.BeginAsync("mf-sgd", JsonSerializer.Serialize(options, Json), ct);
        try
        {
            var (users, items, values, times) = await ReadRatingsAsync(ct);
            if (values.Length < MinimumRatings)
            {
                await models.FailAsync(version, $"only {values.Length} ratings; at least {MinimumRatings} are needed", ct);
                return new TrainingReport(version, false, $"not trained: only {values.Length} ratings (need {MinimumRatings})", null);
            }

            var (model, metrics, chosen) = await Task.Run(() => Fit(options, search, users, items, values, times, progress, ct), ct);
            if (metrics.Selection is not null)
                await models.RecordOptionsAsync(version, JsonSerializer.Serialize(chosen, Json), ct);
            var (passes, decision) = await GateAsync(metrics, ct);
            await models.CompleteAsync(version, model, JsonSerializer.Serialize(metrics, Json), passes ? "ready" : "rejected", ct);
            var activated = passes && await models.ActivateAsync(version, ct);
            return new TrainingReport(version, activated, decision, metrics);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await models.FailAsync(version, e.Message, CancellationToken.None);
            throw;
        }
        catch (OperationCanceledException)
        {
            await models.FailAsync(version, "cancelled", CancellationToken.None);
            throw;
        }
    }

    private static (MatrixFactorizationModel Model, ModelMetrics Metrics, MatrixFactorizationOptions Chosen) Fit(MatrixFactorizationOptions options,
        HyperparameterSearch? search, long[] users, long[] items, float[] values, long[] times, IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var selection = search is null ? null : Select(search, options, users, items, values, times, progress, ct);
        if (selection is not null)
            options = selection.Apply(options);
        var trainer = new MatrixFactorizationTrainer(options);
        var split = TemporalSplit.Split(RatingTable.FromRows(users, items, values, times));
        var holdoutModel = trainer.Fit(split.Train, progress, ct);
        var test = split.Test.Values.AsSpan(0, split.Test.Count);
        double rmse = double.NaN, mae = double.NaN, baselineRmse = double.NaN;
        // With no holdout row whose user and item were seen in training there is nothing to measure; the gate decides.
        if (test.Length > 0)
        {
            var predicted = RankingMetrics.Predict(holdoutModel, split.Test);
            var baseline = new float[test.Length];
            Array.Fill(baseline, (float)split.Train.Values.AsSpan(0, split.Train.Count).ToArray().Average());
            (rmse, mae, baselineRmse) = (RankingMetrics.Rmse(predicted, test), RankingMetrics.Mae(predicted, test), RankingMetrics.Rmse(baseline, test));
        }

        // The served model learns from every rating; the holdout model only measured.
        var all = RatingTable.FromRows(users, items, values, times);
        var model = trainer.Fit(new TrainingData(all.Users, all.Items, all.UserIndices, all.ItemIndices, all.Values, all.Count), progress, ct);
        var metrics = new ModelMetrics(split.Train.Count, split.Test.Count, model.UserCount, model.ItemCount,
            rmse, mae, baselineRmse, clock.Elapsed.TotalSeconds, selection);
        return (model, metrics, options);
    }

    /// <summary>
    /// The search on a validation split cut in time from the rows the holdout model trains on (their earliest 90%
    /// train, the rest validate), so the holdout measures a choice it played no part in. Null when the validation
    /// split is empty (too little data to choose from): the given settings stand.
    /// </summary>
    private static HyperparameterChoice? Select(HyperparameterSearch search, MatrixFactorizationOptions options,
        long[] users, long[] items, float[] values, long[] times, IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        var validation = TemporalSplit.Split(TemporalSplit.EarliestRows(RatingTable.FromRows(users, items, values, times)));
        return validation.Test.Count == 0 ? null : search.Run(validation.Train, validation.Test, options, progress, ct);
    }

    private async Task<(bool Passes, string Decision)> GateAsync(ModelMetrics metrics, CancellationToken ct)
    {
        var active = await models.GetActiveMetricsAsync(ct);
        if (active is null)
            return (true, "activated: no model was active");
        if (!double.IsFinite(metrics.TestRmse))
            return (false, $"rejected: no holdout ratings to compare it with active model {active.Value.Version}");
        var (activeVersion, activeMetrics) = active.Value;
        var activeRmse = JsonSerializer.Deserialize<ModelMetrics>(activeMetrics, Json)?.TestRmse ?? double.NaN;
        if (!double.IsFinite(activeRmse) || metrics.TestRmse <= activeRmse * (1 + GateTolerance))
            return (true, $"activated: holdout RMSE {metrics.TestRmse:F4} vs {activeRmse:F4} for active model {activeVersion}");
        return (false, $"rejected: holdout RMSE {metrics.TestRmse:F4} is worse than {activeRmse:F4} for active model {activeVersion} by more than {GateTolerance:P0}");
    }

    private async Task<(long[] Users, long[] Items, float[] Values, long[] Times)> ReadRatingsAsync(CancellationToken ct)
    {
        var users = new List<long>();
        var items = new List<long>();
        var values = new List<float>();
        var times = new List<long>();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var reader = await conn.BeginBinaryExportAsync("""
            copy (select user_id, item_id, value, extract(epoch from occurred_at)::bigint
                  from events where kind = 'rating' and value is not null) to stdout (format binary)
            """, ct);
        while (await reader.StartRowAsync(ct) != -1)
        {
            users.Add(await reader.ReadAsync<long>(NpgsqlDbType.Bigint, ct));
            items.Add(await reader.ReadAsync<long>(NpgsqlDbType.Bigint, ct));
            values.Add(await reader.ReadAsync<float>(NpgsqlDbType.Real, ct));
            times.Add(await reader.ReadAsync<long>(NpgsqlDbType.Bigint, ct));
        }
        return ([.. users], [.. items], [.. values], [.. times]);
    }
}
