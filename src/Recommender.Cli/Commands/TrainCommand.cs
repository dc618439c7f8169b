using System.CommandLine;
using Recommender.Core;
using Recommender.Data;
using Recommender.Data.Migrations;
using Recommender.Data.Models;
using Recommender.Factorization;
using Recommender.Reranking;
using Recommender.Training;
using Spectre.Console;

namespace Recommender.Cli.Commands;

/// <summary><c>recommender train</c>: train on the database's ratings or activity, measure on a temporal holdout, store, and activate if it passes the gate.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var defaults = ModelTraining.DefaultOptions();
        // The ranking model (one-class ALS on ratings of 7 or more, or on activity) has its rank, λ and α chosen from
        // RankingSearch.Default's grid unless given; the rating model (--loss regression) its rank, λ and iterations.
        var loss = new Option<string>("--loss")
        {
            Description = "oneclass: rank what people will like (ALS on ratings of 7 or more of 10, or on activity), what evaluate measures. "
                + "regression: predict ratings (SGD on squared error), measured by RMSE.",
            DefaultValueFactory = _ => "oneclass",
        };
        loss.AcceptOnlyFromAmong("oneclass", "regression");
        var rank = new Option<int?>("--rank") { Description = "ApproximationRank: factor length. Default: chosen on a validation split from 8, 16, 32 (oneclass) or 8, 16, 32, 64 (regression)." };
        var iterations = new Option<int?>("--iterations") { Description = $"NumberOfIterations: passes over the data. Default: {defaults.NumberOfIterations} (oneclass); chosen by early stopping on a validation split, at most 50 (regression)." };
        var lambda = new Option<double?>("--lambda") { Description = "Lambda: L2 regularisation. Default: chosen on a validation split from 0.05, 50, 200 (oneclass) or 0.02, 0.05, 0.1, 0.2 (regression)." };
        var alpha = new Option<double?>("--alpha") { Description = "Alpha: confidence weight of a positive (oneclass only). Default: chosen from 2, 5 on a validation split." };
        var weighted = new Option<bool>("--weighted-lambda") { Description = "Frequency-scaled regularisation: λ·(1 + n) in all for a user or item with n ratings." };
        var learningRate = new Option<double>("--learning-rate") { Description = "LearningRate: initial SGD step.", DefaultValueFactory = _ => defaults.LearningRate };
        var threads = new Option<int?>("--threads") { Description = "NumberOfThreads (default: one per core)." };
        var seed = new Option<int>("--seed") { Description = "Seed.", DefaultValueFactory = _ => defaults.Seed };
        var reranker = new Option<bool>("--reranker")
        {
            Description = "Train the learned re-ranker instead, on the served lists and the active model's scores; activate it if it beats the model alone on the latest lists.",
        };
        var command = new Command("train", "Train a model on the ratings (or, without them, the activity) in the database; activate it if it passes the quality gate.")
        {
            loss, rank, iterations, lambda, alpha, weighted, learningRate, threads, seed, reranker,
        };
        command.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            if (parse.GetValue(reranker))
            {
                var (rerankerConnection, _, _) = await CliContext.ResolveDatabaseAsync(parse, ct);
                await using var rerankerSource = Database.CreateDataSource(rerankerConnection, "recommender-train");
                await MigrationRunner.MigrateAsync(rerankerSource, ct);
                var training = new RerankerTraining(new RerankerStore(rerankerSource), new ModelStore(rerankerSource), new CatalogStore(rerankerSource),
                    new ServedListStore(rerankerSource), new EventStore(rerankerSource), new SettingsStore(rerankerSource));
                var report = await CliApp.WithStatusAsync("training the re-ranker", _ => training.TrainExclusiveAsync(ct: ct))
                    ?? throw new CliException("another process is training on this database; try again when it has finished");
                // As for the model: nothing trained is one error line and a non-zero exit, so a script does not carry on.
                if (report.Version is not { } v)
                    throw new CliException($"re-ranker {report.Decision}");
                AnsiConsole.MarkupLineInterpolated($"re-ranker v{v} {report.Decision}");
                return 0;
            }

            var options = new MatrixFactorizationOptions
            {
                ApproximationRank = parse.GetValue(rank) ?? defaults.ApproximationRank,
                NumberOfIterations = parse.GetValue(iterations) ?? defaults.NumberOfIterations,
                Lambda = parse.GetValue(lambda) ?? defaults.Lambda,
                Alpha = parse.GetValue(alpha) ?? defaults.Alpha,
                FrequencyScaledRegularization = parse.GetValue(weighted),
                LearningRate = parse.GetValue(learningRate),
                NumberOfThreads = parse.GetValue(threads),
                Seed = parse.GetValue(seed),
                LossFunction = parse.GetValue(loss) == "regression" ? LossFunction.SquareLossRegression : LossFunction.SquareLossOneClass,
            };
            FactorizationFlags.Validate(options);
            var (connectionString, _, _) = await CliContext.ResolveDatabaseAsync(parse, ct);
            await using var dataSource = Database.CreateDataSource(connectionString, "recommender-train");
            await MigrationRunner.MigrateAsync(dataSource, ct);
            var trained = await RunAsync(dataSource, options, HyperparameterSearch.Except(parse.GetValue(rank), parse.GetValue(lambda), parse.GetValue(iterations)),
                RankingSearch.Except(parse.GetValue(rank), parse.GetValue(lambda), parse.GetValue(alpha)), ct);
            // Without metrics nothing was trained (too little data): one error line, and a script must not carry on as if a model exists.
            if (trained.Metrics is null)
                throw new CliException($"model {trained.Version} {trained.Decision}");
            Print(trained, new GivenSettings(parse.GetValue(rank), parse.GetValue(lambda), parse.GetValue(alpha), parse.GetValue(iterations)));
            // Stored for the record (models list shows it, an admin may still look at it), but not serving: a script must not read success.
            if (!trained.Activated)
            {
                CliContext.Error($"model {trained.Version} was stored but not activated: {trained.Decision}");
                return 1;
            }
            return 0;
        }));
        return command;
    }

    /// <summary>Trains with a status line; shared with <c>up</c>.</summary>
    internal static async Task<TrainingReport> RunAsync(Npgsql.NpgsqlDataSource dataSource, MatrixFactorizationOptions options, HyperparameterSearch? search,
        RankingSearch? rankingSearch, CancellationToken ct)
    {
        var training = new ModelTraining(new ModelStore(dataSource), new EventStore(dataSource));
        return await CliApp.WithStatusAsync("training", ctx =>
            training.TrainExclusiveAsync(options, search, rankingSearch, ctx is null ? null : new StatusProgress(ctx), ct))
            ?? throw new CliException("another process is training on this database; try again when it has finished");
    }

    /// <summary>
    /// Reports on the training thread as it goes. Progress&lt;T&gt; would post each report to the thread pool, where they
    /// arrive out of order. Fits measured on the validation split choose the settings; of the two after them, the first
    /// measures on the holdout, the second is the model that is served.
    /// </summary>
    private sealed class StatusProgress(StatusContext status) : IProgress<TrainingProgress>
    {
        private readonly Lock _gate = new();
        private int _trial;
        private int _fit;
        private int _last;

        public void Report(TrainingProgress value)
        {
            lock (_gate)
            {
                var restarted = value.Iteration <= _last || _last == 0;
                _last = value.Iteration;
                if (value.ValidationRmse is { } rmse)
                {
                    _trial += restarted ? 1 : 0;
                    status.Status($"choosing settings (trial {_trial}): iteration {value.Iteration}, validation RMSE {rmse:F3}");
                    return;
                }
                _fit += restarted ? 1 : 0;
                status.Status($"training ({(_fit <= 1 ? "measuring on the holdout" : "final model")}): iteration {value.Iteration}/{value.TotalIterations}, loss {value.Loss:F3}");
            }
        }
    }

    /// <summary>The settings given on the command line (null: left to the search); <c>up</c> gives none.</summary>
    internal sealed record GivenSettings(int? Rank = null, double? Lambda = null, double? Alpha = null, int? Iterations = null);

    internal static void Print(TrainingReport report, GivenSettings? given = null)
    {
        given ??= new GivenSettings();
        var defaults = ModelTraining.DefaultOptions();
        // Each setting with its value and where it came from, so the line says what stood and why.
        string Setting(string name, object value, bool wasGiven) =>
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{name} [bold]{value}[/]{(wasGiven ? " (given)" : "")}");
        if (report.Metrics is { Feedback: ModelMetrics.Activity or ModelMetrics.PositiveRatings } ranking)
            PrintRanking(report.Version, ranking);
        else if (report.Metrics is { } m)
        {
            AnsiConsole.MarkupLineInterpolated(
                $"model [bold]{report.Version}[/]: {m.Users:N0} users × {m.Items:N0} items, holdout RMSE [bold]{(m.TestRmse is { } rmse ? rmse.ToString("F3", System.Globalization.CultureInfo.InvariantCulture) : "not measured")}[/] (global mean {m.GlobalMeanRmse:F3}) on {m.TestRatings:N0} ratings, trained in {m.TrainSeconds:F1} s");
        }
        if (report.Metrics?.Selection is { Best.ValidationNdcg: { } ndcg } ranked)
        {
            AnsiConsole.MarkupLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"settings chosen on {ranked.ValidationRows:N0} validation pairs from {ranked.Trials.Count} trials: {Setting("rank", ranked.Best.Rank, given.Rank is not null)}, {Setting("λ", ranked.Best.Lambda, given.Lambda is not null)}, {Setting("α", ranked.Best.Alpha ?? defaults.Alpha, given.Alpha is not null)} (validation NDCG@{ModelTraining.HoldoutK} {ndcg:F4})"));
        }
        else if (report.Metrics?.TooFewValidationPairs is { } pairs)
        {
            // The search was asked for (something was left to it) and chose nothing: what stands is what was given, and the defaults for the rest.
            (string Name, object Value, bool Given)[] settings =
            [
                ("rank", given.Rank ?? defaults.ApproximationRank, given.Rank is not null),
                ("λ", given.Lambda ?? defaults.Lambda, given.Lambda is not null),
                ("α", given.Alpha ?? defaults.Alpha, given.Alpha is not null),
            ];
            AnsiConsole.MarkupLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"settings not chosen: the validation split holds {pairs:N0} pairs, fewer than the {RankingSearch.DefaultMinimumValidationPairs:N0} a choice needs, so {SettingsThatStood(settings, v => $"[bold]{v}[/]")}"));
        }
        else if (report.Metrics?.Selection is { Best: var best } selection)
        {
            AnsiConsole.MarkupLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"settings chosen on {selection.ValidationRows:N0} validation ratings from {selection.Trials.Count} trials: {Setting("rank", best.Rank, given.Rank is not null)}, {Setting("λ", best.Lambda, given.Lambda is not null)}, {Setting("iterations", best.Iterations, given.Iterations is not null)} (validation RMSE {best.ValidationRmse:F4})"));
        }
        else if (report.Metrics is { Feedback: ModelMetrics.Activity or ModelMetrics.PositiveRatings } && given is { Rank: { } r, Lambda: { } l, Alpha: { } a })
        {
            AnsiConsole.MarkupLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"settings as given, nothing chosen: {Setting("rank", r, false)}, {Setting("λ", l, false)}, {Setting("α", a, false)}"));
        }
        AnsiConsole.MarkupLineInterpolated($"model {report.Version} {report.Decision}");
    }

    /// <summary>
    /// Which settings stood when none could be chosen, in the words train and evaluate both use: "the defaults stand:
    /// rank 32, λ 0.05, α 5", or "the given rank 16 stands, with the default λ 0.05, α 5". <paramref name="show"/> dresses
    /// each value (bold on a terminal, escaped for markup).
    /// </summary>
    internal static string SettingsThatStood(IReadOnlyList<(string Name, object Value, bool Given)> settings, Func<string, string> show)
    {
        string List(IEnumerable<(string Name, object Value, bool Given)> part) =>
            string.Join(", ", part.Select(x => $"{x.Name} {show(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{x.Value}"))}"));
        var given = settings.Where(x => x.Given).ToList();
        var defaults = settings.Where(x => !x.Given).ToList();
        if (given.Count == 0)
            return $"the defaults stand: {List(settings)}";
        var stand = $"the given {List(given)} {(given.Count == 1 ? "stands" : "stand")}";
        return defaults.Count == 0 ? stand : $"{stand}, with the default {List(defaults)}";
    }

    private static void PrintRanking(int version, ModelMetrics m)
    {
        var measured = m.TestNdcg is { } ndcg
            ? $"holdout NDCG@{ModelTraining.HoldoutK} [bold]{ndcg:F4}[/], recall {m.TestRecall:F4} (popularity NDCG {m.PopularityNdcg:F4}) on {m.TestRatings:N0} pairs"
            : "nothing in the holdout to measure on";
        AnsiConsole.MarkupLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"model [bold]{version}[/], trained on {(m.Feedback == ModelMetrics.Activity ? "activity" : $"ratings of {ImplicitFeedback.PositiveRating} or more")}: {m.Users:N0} people × {m.Items:N0} items, {measured}, trained in {m.TrainSeconds:F1} s"));
    }
}
