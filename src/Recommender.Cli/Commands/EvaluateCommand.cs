using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Recommender.Core;
using Recommender.Core.Evaluation;
using Spectre.Console;

namespace Recommender.Cli.Commands;

/// <summary>
/// <c>recommender evaluate</c>: trains on the global temporal split, serves every test user with each objective through
/// the production pipeline, prints one table plus target checks, and writes the same figures as JSON.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        // The defaults are the evaluator's own, so the CLI, the tests and the README cannot drift apart.
        var defaults = new EvaluationOptions();
        var data = new Option<string>("--data") { Description = "Directory with ratings.csv + items.csv + sources.csv (synthetic) or ratings.dat + movies.dat (MovieTweetings).", Required = true };
        var output = new Option<string?>("--out") { Description = "Where to write the JSON report. Default: evaluation-<data>.json in the current directory." };
        var k = new Option<int>("--k") { Description = "List length the metrics use.", DefaultValueFactory = _ => defaults.K };
        var seed = new Option<int>("--seed") { Description = "Seed for training, tie-breaks and the simulation.", DefaultValueFactory = _ => defaults.Seed };
        var rank = new Option<int>("--rank") { Description = "Latent factors of the one-class MF model.", DefaultValueFactory = _ => defaults.Rank };
        var iterations = new Option<int>("--iterations") { Description = "ALS iterations.", DefaultValueFactory = _ => defaults.Iterations };
        var users = new Option<int>("--users") { Description = "Evaluate at most this many test users (0 = all).", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Worker threads.", DefaultValueFactory = _ => defaults.Threads };
        var objectives = new Option<string>("--objectives") { Description = "Comma-separated objective ids; 'popularity' is the baseline.", DefaultValueFactory = _ => string.Join(',', defaults.Objectives) };
        var parameters = new Option<string?>("--params") { Description = "Settings per objective as JSON, e.g. {\"diversity\":{\"lambda\":0.6}}. Default: each objective's defaults." };
        var learners = new Option<int>("--learners") { Description = "Simulated learners per objective, parameter set and seed (0 skips the simulation).", DefaultValueFactory = _ => 40 };
        var simulationSeeds = new Option<int>("--simulation-seeds") { Description = "Seeds per simulation parameter set.", DefaultValueFactory = _ => new LearnerSimulationOptions().Seeds };
        var maxItems = new Option<int>("--max-items") { Description = "Items a simulated learner consumes at most.", DefaultValueFactory = _ => 150 };

        var command = new Command("evaluate", "Compare objectives offline: accuracy, diversity, popularity bias, credibility and simulated learning.")
        {
            data, output, k, seed, rank, iterations, users, threads, objectives, parameters, learners, maxItems, simulationSeeds,
            SkillCommand.Evaluate(),
        };
        command.SetAction(parseResult =>
        {
            var ids = parseResult.GetValue(objectives)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var options = new EvaluationOptions
            {
                K = parseResult.GetValue(k),
                Seed = parseResult.GetValue(seed),
                Rank = parseResult.GetValue(rank),
                Iterations = parseResult.GetValue(iterations),
                MaxUsers = parseResult.GetValue(users),
                Threads = parseResult.GetValue(threads),
                Objectives = ids,
                Parameters = ParseParameters(parseResult.GetValue(parameters)),
            };
            var simulation = parseResult.GetValue(learners) > 0
                ? new LearnerSimulationOptions
                {
                    Learners = parseResult.GetValue(learners),
                    MaxItems = parseResult.GetValue(maxItems),
                    Seeds = parseResult.GetValue(simulationSeeds),
                    Seed = options.Seed,
                    Objectives = [.. ids.Where(id => id != OfflineEvaluator.PopularityBaseline)],
                }
                : null;
            var path = parseResult.GetValue(data)!;
            var evaluationData = EvaluationData.Load(path);
            var report = OfflineEvaluator.Run(evaluationData, options, simulation);
            Print(report);
            var outPath = parseResult.GetValue(output) ?? $"evaluation-{evaluationData.Name}.json";
            File.WriteAllText(outPath, JsonSerializer.Serialize(report, JsonOptions));
            AnsiConsole.MarkupLine($"JSON report: [bold]{Markup.Escape(outPath)}[/]");
            return 0;
        });
        return command;
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new ObjectiveParametersConverter() },
    };

    private static Dictionary<string, ObjectiveParameters> ParseParameters(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }
        var root = JsonNode.Parse(json) as JsonObject ?? throw new FormatException("--params must be a JSON object keyed by objective id.");
        return root.ToDictionary(p => p.Key, p => ObjectiveParameters.FromJson(p.Value?.ToJsonString() ?? "{}"), StringComparer.Ordinal);
    }

    private static void Print(EvaluationReport report)
    {
        // Redirected output would otherwise wrap the 14-column table at 80 characters.
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 200;
        }
        static string F(double v, string format = "0.0000") => v.ToString(format, CultureInfo.InvariantCulture);
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(report.Data)}[/]: {report.TrainRows:N0} train rows, {report.TestRows:N0} test rows, {report.TestUsers:N0} test users, model {Markup.Escape(report.ModelVersion)}");
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "objective", "NDCG@10", "Recall@10", "ILD@10", "coverage", "novelty", "ARP", "APLT", "exposure Gini", "calib. KL", "low-cred.", "ms/list", "items to mastery", "mastered" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }
        foreach (var m in report.Objectives)
        {
            var learner = report.Learners?.Objectives.FirstOrDefault(l => l.Objective == m.Objective);
            table.AddRow(
                m.Objective, F(m.Ndcg), F(m.Recall), F(m.Ild), F(m.Coverage, "0.000"), F(m.Novelty, "0.00"), F(m.Arp, "0.0"), F(m.Aplt, "0.000"),
                F(m.ExposureGini, "0.000"), F(m.CalibrationKl, "0.000"), m.LowCredibilityShare is { } low ? F(low, "0.000") : "n/a", F(m.MedianMilliseconds, "0.00"),
                learner is null ? "-" : F(learner.MeanItems, "0.0"), learner is null ? "-" : F(learner.MasteredShare, "0%"));
        }
        AnsiConsole.Write(table);

        var by = report.Objectives.ToDictionary(m => m.Objective);
        var learners = report.Learners?.Objectives.ToDictionary(l => l.Objective);
        void Check(string name, bool? pass, string detail)
        {
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
            foreach (var id in new[] { "learning", "diversity" })
            {
                if (by.TryGetValue(id, out var o))
                {
                    var pass = e.LowCredibilityShare is { } el && o.LowCredibilityShare is { } ol ? ol <= el / 3 : (bool?)null;
                    Check($"{id} low-credibility share ≤ ⅓ engagement", pass, pass is null ? "no credibility data" : $"{F(o.LowCredibilityShare!.Value, "0.000")} vs {F(e.LowCredibilityShare!.Value, "0.000")}");
                }
            }
        }
        if (report.Learners is { } simulation && learners is not null && learners.ContainsKey("learning"))
        {
            // Every parameter set and seed must pass, not only the average.
            foreach (var other in new[] { "engagement", "no_profiling" }.Where(learners.ContainsKey))
            {
                var ratios = simulation.Runs.Select(r => (r, Ratio: r.Objectives.Single(o => o.Objective == "learning").MeanItems
                    / Math.Max(1e-9, r.Objectives.Single(o => o.Objective == other).MeanItems))).ToList();
                var worst = ratios.MaxBy(x => x.Ratio);
                Check($"learning items to mastery ≤ 0.7× {other} in every run", ratios.All(x => x.Ratio <= 0.7),
                    $"mean {F(learners["learning"].MeanItems, "0.0")} vs {F(learners[other].MeanItems, "0.0")}; worst {F(worst.Ratio, "0.00")}× ({worst.r.ParameterSet}, seed {worst.r.Seed}) over {ratios.Count} runs");
            }
            var runs = new Table().Border(TableBorder.Rounded).AddColumn("parameter set").AddColumn("seed");
            foreach (var o in simulation.Objectives)
                runs.AddColumn(new TableColumn(o.Objective).RightAligned());
            foreach (var r in simulation.Runs)
                runs.AddRow([r.ParameterSet, r.Seed.ToString(CultureInfo.InvariantCulture), .. r.Objectives.Select(o => F(o.MeanItems, "0.0"))]);
            AnsiConsole.MarkupLine("Mean items to mastery per parameter set and seed:");
            AnsiConsole.Write(runs);
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
