using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Recommender.Core;
using Recommender.Core.Evaluation;
using Recommender.Data.Import;
using Recommender.Factorization;
using Spectre.Console;

namespace Recommender.Cli.Commands;

/// <summary>
/// <c>recommender evaluate</c>: trains on the split, serves every test user with each objective through the production
/// pipeline (the baselines score directly), repeats over seeds, prints one table of means ± standard deviations plus
/// target checks, and writes the same figures as JSON. Exit code 0 when every check passes, 1 when one fails, 2 for bad input.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        // The defaults are the evaluator's own, so the CLI, the tests and the README cannot drift apart.
        var defaults = new EvaluationOptions();
        var data = new Option<string>("--data") { Description = "Directory in the generic import format (items.csv or items.jsonl, events.csv, optional topics.csv and sources.csv), with ratings.csv + items.csv + sources.csv (synthetic), ratings.dat + movies.dat (MovieTweetings), or a Stack Exchange dump (a site folder or a folder of them; its activity is implicit feedback).", Required = true };
        var output = new Option<string?>("--out") { Description = "Where to write the JSON report. Default: evaluation-<data>.json in the current directory." };
        var k = new Option<int>("--k") { Description = "List length the metrics use.", DefaultValueFactory = _ => defaults.K };
        var seed = new Option<int>("--seed") { Description = "First seed for training, tie-breaks, the simulation and a random split.", DefaultValueFactory = _ => defaults.Seed };
        var seeds = new Option<int>("--seeds") { Description = "Runs with consecutive seeds; figures are mean ± standard deviation.", DefaultValueFactory = _ => defaults.Seeds };
        var split = new Option<SplitKind>("--split") { Description = "temporal (first 90% of ratings by time train), random (a seeded 90/10 cut) or newcomers (temporal, but people who arrived after the cut are tested on their later half given their earlier half, as the training gate measures).", DefaultValueFactory = _ => defaults.Split };
        var now = new Option<string?>("--now") { Description = "Serving clock as ISO 8601 (e.g. 2013-09-01T00:00:00Z). Default: the time of the newest rating." };
        var rank = new Option<int?>("--rank") { Description = "Latent factors of the one-class MF model. Default: chosen on the validation split from 8, 16, 32 (see --lambda)." };
        var iterations = new Option<int>("--iterations") { Description = "ALS iterations.", DefaultValueFactory = _ => defaults.Iterations };
        var lambda = new Option<double?>("--lambda")
        {
            Description = "L2 regularisation of the one-class MF model. Default: rank, λ and α are chosen on the validation split from 0.05, 50, 200 by the search train runs for the ranking model; " +
                "a given --rank, --lambda or --alpha is fixed and the others are still chosen; all three given, there is no search.",
        };
        var alpha = new Option<double?>("--alpha") { Description = "Confidence weight of a positive in one-class ALS. Default: chosen on the validation split from 2, 5 (see --lambda)." };
        var tuneMix = new Option<bool>("--tune-mix")
        {
            Description = "Also choose engagement's popularity mix (popularity_weight × prior_shrinkage) on the validation split, instead of the objective's defaults a reader gets. Ignored when --params sets engagement.",
        };
        var weighted = new Option<bool>("--weighted-lambda") { Description = "Frequency-scaled regularisation: λ·(1 + n) for a row with n positives.", DefaultValueFactory = _ => defaults.FrequencyScaled };
        var users = new Option<int>("--users") { Description = "Evaluate at most this many test users (0 = all).", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Worker threads.", DefaultValueFactory = _ => defaults.Threads };
        var objectives = new Option<string>("--objectives") { Description = "Comma-separated objective ids; 'popularity' is the baseline.", DefaultValueFactory = _ => string.Join(',', defaults.Objectives) };
        var parameters = new Option<string?>("--params") { Description = "Settings per objective as JSON, e.g. {\"diversity\":{\"lambda\":0.6}}. Default: each objective's defaults." };
        var learners = new Option<int>("--learners") { Description = "Simulated learners per objective, parameter set and seed (0 skips the simulation).", DefaultValueFactory = _ => 40 };
        var simulationSeeds = new Option<int>("--simulation-seeds") { Description = "Seeds per simulation parameter set.", DefaultValueFactory = _ => new LearnerSimulationOptions().Seeds };
        var maxItems = new Option<int>("--max-items") { Description = "Items a simulated learner consumes at most.", DefaultValueFactory = _ => 150 };

        var command = new Command("evaluate", "Compare objectives offline: accuracy, diversity, popularity bias, credibility and simulated learning.")
        {
            data, output, k, seed, seeds, split, now, rank, iterations, lambda, alpha, tuneMix, weighted, users, threads, objectives, parameters, learners, maxItems, simulationSeeds,
            SkillCommand.Evaluate(),
        };
        command.SetAction(CliApp.Guarded((parseResult, _) => Task.FromResult(Run(parseResult))));
        return command;

        int Run(ParseResult parseResult)
        {
            var ids = parseResult.GetValue(objectives)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var known = new ObjectiveRegistry(ObjectiveRegistry.BuiltIn());
            if (ids.Length == 0)
                throw new CliException("--objectives: name at least one objective.");
            if (ids.FirstOrDefault(id => id != OfflineEvaluator.PopularityBaseline && !Baselines.IsBaseline(id) && !known.TryGet(id, out _)) is { } unknown)
                throw new CliException($"--objectives: unknown objective '{unknown}'; known: {OfflineEvaluator.PopularityBaseline}, {string.Join(", ", Baselines.All)}, {string.Join(", ", known.All.Select(o => o.Id))}.");
            void Require(bool valid, string problem)
            {
                if (!valid)
                    throw new CliException(problem);
            }
            Require(parseResult.GetValue(k) is >= 1 and <= MaxK, $"--k must be between 1 and {MaxK} (the longest list the service serves); got {parseResult.GetValue(k)}");
            Require(parseResult.GetValue(seeds) >= 1, $"--seeds must be at least 1; got {parseResult.GetValue(seeds)}");
            Require(parseResult.GetValue(iterations) >= 1, $"--iterations must be at least 1; got {parseResult.GetValue(iterations)}");
            Require(parseResult.GetValue(users) >= 0, $"--users must be 0 (all) or more; got {parseResult.GetValue(users)}");
            Require(parseResult.GetValue(learners) >= 0, $"--learners must be 0 (no simulation) or more; got {parseResult.GetValue(learners)}");
            Require(parseResult.GetValue(maxItems) >= 1, $"--max-items must be at least 1; got {parseResult.GetValue(maxItems)}");
            Require(parseResult.GetValue(simulationSeeds) >= 1, $"--simulation-seeds must be at least 1; got {parseResult.GetValue(simulationSeeds)}");
            DateTimeOffset? clock = null;
            if (parseResult.GetValue(now) is { } text)
            {
                clock = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                    ? parsed : throw new CliException($"--now: '{text}' is not a date and time; use ISO 8601, e.g. 2013-09-01T00:00:00Z.");
                Require(parsed >= CatalogRules.EarliestInstant && parsed <= CatalogRules.LatestInstant,
                    $"--now must be between {CatalogRules.EarliestInstant:yyyy-MM-dd} and {CatalogRules.LatestInstant:yyyy-MM-dd}; got {text}");
            }
            var options = new EvaluationOptions
            {
                K = parseResult.GetValue(k),
                Seed = parseResult.GetValue(seed),
                Seeds = parseResult.GetValue(seeds),
                Split = parseResult.GetValue(split),
                Now = clock,
                Rank = parseResult.GetValue(rank) ?? defaults.Rank,
                Iterations = parseResult.GetValue(iterations),
                Lambda = parseResult.GetValue(lambda) ?? defaults.Lambda,
                Alpha = parseResult.GetValue(alpha) ?? defaults.Alpha,
                FrequencyScaled = parseResult.GetValue(weighted),
                MaxUsers = parseResult.GetValue(users),
                Threads = parseResult.GetValue(threads),
                Objectives = ids,
                Parameters = ParseParameters(parseResult.GetValue(parameters), known),
            };
            // The model evaluate trains is the one-class trainer's, so its settings pass train's checks, in the same words.
            FactorizationFlags.Validate(EngagementTuning.ModelOptions(options));
            var search = RankingSearch.Except(parseResult.GetValue(rank), parseResult.GetValue(lambda), parseResult.GetValue(alpha));
            options = options with
            {
                TuneEngagement = search is not null,
                EngagementSearch = search ?? options.EngagementSearch,
                TuneMix = parseResult.GetValue(tuneMix) && !options.Parameters.ContainsKey(EngagementTuning.Id),
            };
            var path = parseResult.GetValue(data)!;
            var simulation = parseResult.GetValue(learners) > 0
                ? new LearnerSimulationOptions
                {
                    Learners = parseResult.GetValue(learners),
                    MaxItems = parseResult.GetValue(maxItems),
                    Seeds = parseResult.GetValue(simulationSeeds),
                    Seed = options.Seed,
                    Objectives = [.. ids.Where(id => id != OfflineEvaluator.PopularityBaseline && !Baselines.IsBaseline(id))],
                }
                : null;
            EvaluationReport report;
            try
            {
                report = OfflineEvaluator.Run(s => Load(path, options.Split, s), options, simulation);
            }
            catch (InvalidDataException e)
            {
                // A file that does not parse (file:line) or data too small to split: the user's input, not a crash.
                throw new CliException(e.Message);
            }
            var passed = Print(report, new TrainCommand.GivenSettings(parseResult.GetValue(rank), parseResult.GetValue(lambda), parseResult.GetValue(alpha)));
            var outPath = parseResult.GetValue(output) ?? $"evaluation-{report.Data}.json";
            File.WriteAllText(outPath, JsonSerializer.Serialize(report, JsonOptions));
            AnsiConsole.MarkupLine($"JSON report: [bold]{Markup.Escape(outPath)}[/]");
            return passed ? 0 : 1;
        }
    }

    /// <summary>
    /// A Stack Exchange dump is evaluated on its activity as implicit feedback; a generic import on its ratings, or its
    /// activity without enough of them; synthetic data and MovieTweetings on their ratings.
    /// </summary>
    private static EvaluationData Load(string path, SplitKind split, int seed)
    {
        try
        {
            // The import's words for a folder that is missing or is a file, after the flag that named it.
            ImportReaders.RequireDirectory(path);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new CliException($"--data {e.Message}");
        }
        if (ActivityEvaluation.IsStackExchange(path))
            return ActivityEvaluation.LoadStackExchange(path, split, seed);
        if (ActivityEvaluation.IsGeneric(path))
            return ActivityEvaluation.LoadGeneric(path, split, seed);
        if (File.Exists(Path.Combine(path, "ratings.csv")) || File.Exists(Path.Combine(path, "ratings.dat")))
            return EvaluationData.Load(path, split, seed);
        throw new CliException($"--data {path}: not a data set evaluate reads: a generic import (items.csv or items.jsonl, and events.csv), "
            + "synthetic data (ratings.csv, items.csv, sources.csv), MovieTweetings (ratings.dat, movies.dat) or a Stack Exchange dump (Posts.xml)");
    }

    /// <summary>The longest list <c>--k</c> may ask for: the most the service serves in one page (the API's k is 1 to 100 too).</summary>
    private const int MaxK = 100;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new ObjectiveParametersConverter(), new FiniteOrNullConverter() },
    };

    /// <summary>
    /// The --params object, each objective's settings checked by its own schema, as the API checks them; a setting the
    /// objective does not have, or a value out of its range, is refused rather than silently ignored.
    /// </summary>
    private static Dictionary<string, ObjectiveParameters> ParseParameters(string? json, ObjectiveRegistry known)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }
        Dictionary<string, ObjectiveParameters> parsed;
        try
        {
            var root = JsonNode.Parse(json) as JsonObject ?? throw new CliException("--params must be a JSON object keyed by objective id.");
            parsed = root.ToDictionary(p => p.Key, p => ObjectiveParameters.FromJson(p.Value?.ToJsonString() ?? "{}"), StringComparer.Ordinal);
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException)
        {
            throw new CliException($"--params: {JsonReason(e)}");
        }
        foreach (var (id, settings) in parsed)
        {
            if (!known.TryGet(id, out var objective))
                throw new CliException($"--params: '{id}' is not an objective with settings; known: {string.Join(", ", known.All.Select(o => o.Id))}.");
            if (objective.Validate(settings) is [var first, ..])
                throw new CliException($"--params: {id}.{first.Field}: {first.Message}");
        }
        return parsed;
    }

    /// <summary>System.Text.Json ends its messages with where it stopped ("LineNumber: 0 | BytePositionInLine: 9"), which means nothing on one command-line value.</summary>
    private static string JsonReason(Exception e)
    {
        var at = e.Message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return at >= 0 ? e.Message[..at] : e.Message;
    }

    /// <summary>Prints the table and the checks; false when a check failed.</summary>
    private static bool Print(EvaluationReport report, TrainCommand.GivenSettings given)
    {
        static string F(double v, string format = "0.0000") => v.ToString(format, CultureInfo.InvariantCulture);
        // Mean ± standard deviation over the seeds.
        static string S(double mean, double spread, string format = "0.0000") => $"{F(mean, format)}±{F(spread, format)}";
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(report.Data)}[/] ({report.Options.Split.ToString().ToLowerInvariant()} split): {report.TrainRows:N0} train rows, {report.TestRows:N0} test rows ({report.DroppedTestRows:N0} dropped: unseen user or item), {report.TestUsers:N0} test users, model {Markup.Escape(report.ModelVersion)}, seeds {string.Join(", ", report.Seeds)}, clock {report.Options.Now:yyyy-MM-dd HH:mm}Z");
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "objective", "NDCG@10", "Recall@10", "ILD@10", "coverage", "novelty", "ARP", "APLT", "exposure Gini", "calib. KL", "low-cred.", "ms/list", "items to mastery", "mastered" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }
        for (var o = 0; o < report.Objectives.Count; o++)
        {
            var (m, sd) = (report.Objectives[o], report.Spread[o]);
            var l = report.Learners?.Select((r, i) => (r, i)).FirstOrDefault(p => p.r.Objective == m.Objective);
            var learner = l?.r;
            var learnerSd = learner is null ? null : report.LearnersSpread![l!.Value.i];
            table.AddRow(
                m.Objective, S(m.Ndcg, sd.Ndcg), S(m.Recall, sd.Recall), S(m.Ild, sd.Ild, "0.000"), S(m.Coverage, sd.Coverage, "0.000"), S(m.Novelty, sd.Novelty, "0.00"),
                S(m.Arp, sd.Arp, "0.0"), S(m.Aplt, sd.Aplt, "0.000"), S(m.ExposureGini, sd.ExposureGini, "0.000"), S(m.CalibrationKl, sd.CalibrationKl, "0.000"),
                m.LowCredibilityShare is { } low ? S(low, sd.LowCredibilityShare ?? 0, "0.000") : "n/a", F(m.MedianMilliseconds, "0.00"),
                learner is null ? "-" : S(learner.MeanItems, learnerSd!.MeanItems, "0.0"), learner is null ? "-" : S(learner.MasteredShare, learnerSd!.MasteredShare, "0.00"));
        }
        AnsiConsole.Write(table);
        if (report.LearnerRuns is { Count: > 0 } runs)
        {
            PrintLearnerRuns(runs);
        }
        foreach (var group in report.Baselines.GroupBy(b => b.Id))
        {
            // On a temporal split every seed tunes on the same validation split, so identical choices are printed once.
            // No score means the validation split held too few positives to choose on: the given settings and the defaults for the rest stood, said as train says it.
            static string Settings(TunedBaseline b) => string.Join(", ", b.Hyperparameters.Select(h => $"{h.Key}={F(h.Value, "0.###")}"));
            string Stood(TunedBaseline b) => TrainCommand.SettingsThatStood([.. b.Hyperparameters.Select(h => h.Key switch
            {
                EngagementTuning.Rank => ("rank", (object)h.Value, given.Rank is not null),
                EngagementTuning.Lambda => ("λ", h.Value, given.Lambda is not null),
                EngagementTuning.Alpha => ("α", h.Value, given.Alpha is not null),
                _ => (h.Key, h.Value, false),
            })], Markup.Escape);
            var chosen = group.Where(b => double.IsFinite(b.ValidationNdcg)).GroupBy(b => $"{Settings(b)} (validation NDCG {F(b.ValidationNdcg)})")
                .Select(g => $"{g.Key}, seed {string.Join("/", g.Select(b => b.Seed))}").ToList();
            var kept = group.Where(b => !double.IsFinite(b.ValidationNdcg)).GroupBy(Stood)
                .Select(g => $"{g.Key} (seed {string.Join("/", g.Select(b => b.Seed))})").ToList();
            if (chosen.Count > 0)
                AnsiConsole.MarkupLine($"[grey]{Markup.Escape(group.Key)} tuned on the validation split: {Markup.Escape(string.Join("; ", chosen))}[/]");
            if (kept.Count > 0)
                AnsiConsole.MarkupLine($"[grey]{Markup.Escape(group.Key)} settings not chosen: the validation split holds too few positives to choose on, so {string.Join("; ", kept)}[/]");
        }

        var by = report.Objectives.ToDictionary(m => m.Objective);
        var spread = report.Spread.ToDictionary(m => m.Objective);
        var learners = report.Learners?.ToDictionary(l => l.Objective);
        var passed = true;
        void Check(string name, bool? pass, string detail)
        {
            passed &= pass != false;
            var mark = pass switch { true => "[green]PASS[/]", false => "[red]FAIL[/]", null => "[grey]n/a[/]" };
            AnsiConsole.MarkupLine($"{mark} {Markup.Escape(name)}: {Markup.Escape(detail)}");
        }
        if (by.TryGetValue("engagement", out var e))
        {
            if (by.TryGetValue("diversity", out var d))
            {
                Check("diversity ILD ≥ 1.3× engagement", d.Ild >= 1.3 * e.Ild, $"{F(d.Ild / e.Ild, "0.00")}×");
                Check("diversity NDCG ≥ 0.85× engagement", d.Ndcg >= 0.85 * e.Ndcg, $"{F(d.Ndcg / e.Ndcg, "0.00")}×");
            }
            if (by.TryGetValue(OfflineEvaluator.PopularityBaseline, out var p))
            {
                Check("engagement NDCG ≥ popularity", e.Ndcg >= p.Ndcg, $"{F(e.Ndcg)} vs {F(p.Ndcg)}");
            }
            if (Baselines.All.Where(by.ContainsKey).Select(id => by[id]).MaxBy(b => b.Ndcg) is { } best)
            {
                // The margin must be real: larger than either side's spread over the seeds.
                var margin = e.Ndcg - best.Ndcg;
                var noise = Math.Max(spread["engagement"].Ndcg, spread[best.Objective].Ndcg);
                Check($"engagement NDCG ≥ 1.05× best baseline ({best.Objective}), spread < margin", e.Ndcg >= 1.05 * best.Ndcg && noise < margin,
                    $"{F(e.Ndcg)} vs {F(best.Ndcg)} ({F(e.Ndcg / best.Ndcg, "0.00")}×), margin {F(margin)}, spread {F(noise)}");
            }
            foreach (var id in new[] { "learning", "diversity" })
            {
                if (by.TryGetValue(id, out var o))
                {
                    var pass = e.LowCredibilityShare is { } el && o.LowCredibilityShare is { } ol ? ol <= el / 3 : (bool?)null;
                    Check($"{id} low-credibility share ≤ ⅓ engagement", pass, pass is null ? "no credibility data" : $"{F(o.LowCredibilityShare!.Value, "0.000")} vs {F(e.LowCredibilityShare!.Value, "0.000")}");
                }
            }
        }
        if (learners is not null && learners.ContainsKey("learning"))
        {
            // Over the seeds' means: the evaluator keeps the mean and spread per objective.
            foreach (var other in new[] { "engagement", "no_profiling" }.Where(learners.ContainsKey))
            {
                // No learner on either side is no measurement: 0 items against 0 would otherwise pass.
                if (learners["learning"].Learners == 0 || learners[other].Learners == 0)
                {
                    Check($"learning items to mastery ≤ 0.7× {other}", null,
                        $"no learner simulated: a learner needs a topic with at least {new LearnerSimulationOptions().MinTopicItems} items that they read in training");
                    continue;
                }
                var ratio = learners["learning"].MeanItems / Math.Max(1e-9, learners[other].MeanItems);
                Check($"learning items to mastery ≤ 0.7× {other}", ratio <= 0.7,
                    $"mean {F(learners["learning"].MeanItems, "0.0")} vs {F(learners[other].MeanItems, "0.0")} ({F(ratio, "0.00")}×)");
            }
        }
        return passed;
    }

    /// <summary>Mean items to mastery per objective in every simulation run, with learning's ratio to engagement and no_profiling.</summary>
    private static void PrintLearnerRuns(IReadOnlyList<LearnerRun> runs)
    {
        var objectives = runs[0].Objectives.Select(o => o.Objective).ToList();
        var table = new Table().Border(TableBorder.Rounded).Title("learner simulation: mean items to mastery per run");
        table.AddColumn("parameter set");
        table.AddColumn(new TableColumn("model / sim. seed").RightAligned());
        foreach (var column in objectives.Concat(["best possible", "best by level", "learning ÷ engagement", "learning ÷ no_profiling"]))
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }
        foreach (var run in runs)
        {
            var items = run.Objectives.ToDictionary(o => o.Objective, o => o.MeanItems);
            string Ratio(string other) => items.TryGetValue("learning", out var l) && items.TryGetValue(other, out var o)
                ? (l / Math.Max(1e-9, o)).ToString("0.00", CultureInfo.InvariantCulture) : "-";
            table.AddRow([run.ParameterSet, $"{run.ModelSeed} / {run.Seed}",
                .. run.Objectives.Select(o => o.MeanItems.ToString("0.0", CultureInfo.InvariantCulture)),
                run.BestPossible?.MeanItems.ToString("0.0", CultureInfo.InvariantCulture) ?? "-",
                run.BestByLevel?.MeanItems.ToString("0.0", CultureInfo.InvariantCulture) ?? "-", Ratio("engagement"), Ratio("no_profiling")]);
        }
        AnsiConsole.Write(table);
    }

    /// <summary>
    /// A figure that could not be measured (NaN, e.g. no validation score when the split is too small to choose on) is
    /// written as null: JSON has no NaN, and a report must never fail to be written after the run it records.
    /// </summary>
    private sealed class FiniteOrNullConverter : System.Text.Json.Serialization.JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value))
                writer.WriteNumberValue(value);
            else
                writer.WriteNullValue();
        }
    }

    /// <summary>Writes settings as their canonical JSON object in the report.</summary>
    private sealed class ObjectiveParametersConverter : System.Text.Json.Serialization.JsonConverter<ObjectiveParameters>
    {
        public override ObjectiveParameters Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            ObjectiveParameters.FromJson(JsonDocument.ParseValue(ref reader).RootElement.GetRawText());

        public override void Write(Utf8JsonWriter writer, ObjectiveParameters value, JsonSerializerOptions options) =>
            writer.WriteRawValue(value.ToCanonicalJson());
    }
}
