using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Recommender.Core;
using Recommender.Core.Evaluation;
using Recommender.Data;
using Recommender.Data.Import;
using Spectre.Console;

namespace Recommender.Cli.Commands;

/// <summary>
/// <c>recommender skill rebuild</c> (refit the skill model and replay every stored evidence event) and
/// <c>recommender evaluate skill</c> (measure it on quiz answers in the generic import format).
/// </summary>
internal static class SkillCommand
{
    public static Command Create()
    {
        var rebuild = new Command("rebuild",
            "Fit the skill model to every stored evidence event and rebuild all learner skills and item difficulties from them. Running it twice changes nothing.");
        rebuild.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            await using var dataSource = await CliContext.OpenDatabaseAsync(parse, ct);
            var r = await new LearningStateStore(dataSource).RebuildAsync(ct);
            AnsiConsole.MarkupLineInterpolated(
                $"replayed [bold]{r.Events:N0}[/] evidence events: {r.Learners:N0} learners, {r.TopicSkills:N0} topic skills, {r.Items:N0} item difficulties");
            AnsiConsole.MarkupLineInterpolated(
                $"fitted: start skill {r.Priors.StartSkill:F0}, guessing floor {r.Priors.Guess:F2}, practice gain right / wrong {r.Priors.PracticeRight:F3} / {r.Priors.PracticeWrong:F3} logits, level difficulties {string.Join(" / ", r.Priors.LevelDifficulty.Skip(1).Select(d => d.ToString("F0", CultureInfo.InvariantCulture)))}");
            return 0;
        }));
        return new Command("skill", "The learners' skill model: rebuild it from stored events.") { rebuild };
    }

    /// <summary><c>evaluate skill --data DIR [--out FILE]</c>.</summary>
    public static Command Evaluate()
    {
        var data = new Option<string>("--data")
        {
            Description = "Directory in the generic import format: items.csv or items.jsonl (topics, level) and events.csv with quiz_correct/quiz_wrong answers. "
                + "Or a Stack Exchange data dump (a site folder or a folder of sites): each answer is an attempt at its question, right when the asker accepted it.",
            Required = true,
        };
        var output = new Option<string?>("--out") { Description = "Where to write the JSON report. Default: skill-<data>.json in the current directory." };
        var command = new Command("skill",
            "Measure the skill model on quiz answers: hold out the last 20% of each learner's answers, predict each from what came before; AUC, log-loss, calibration error and baselines.")
        {
            data, output,
        };
        command.SetAction(CliApp.Guarded((parse, ct) =>
        {
            var dir = parse.GetValue(data)!;
            var batch = ActivityEvaluation.IsStackExchange(dir) ? StackExchangeReader.ReadAnswers(dir) : ImportReaders.Directory(dir);
            var (events, items) = ToEvidence(batch);
            SkillEvaluationReport report;
            try
            {
                report = SkillEvaluation.Run(events, items);
            }
            catch (ArgumentException e)
            {
                throw new CliException($"{batch.EventsFile}: {e.Message}");
            }
            var oracle = ReadOracle(Path.Combine(dir, "oracle.json"));
            Print(report, oracle);
            var name = new DirectoryInfo(dir).Name;
            var outPath = parse.GetValue(output) ?? $"skill-{name}.json";
            File.WriteAllText(outPath, JsonSerializer.Serialize(ToJson(report, oracle), JsonOptions));
            AnsiConsole.MarkupLine($"JSON report: [bold]{Markup.Escape(outPath)}[/]");
            return Task.FromResult(0);
        }));
        return command;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>Items and evidence keyed by row order, the way the database would key them; an answer on an unknown item names its line.</summary>
    private static (List<EvidenceEvent> Events, Dictionary<long, ItemInfo> Items) ToEvidence(ImportBatch batch)
    {
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        var items = new Dictionary<long, ItemInfo>();
        foreach (var row in batch.Items)
        {
            var id = ids.Count + 1L;
            ids[row.ExternalId] = id;
            items[id] = new ItemInfo(id, row.ExternalId, row.Title, row.Topics, row.Level, null, null, null, null);
        }
        var users = new Dictionary<string, long>(StringComparer.Ordinal);
        var events = new List<EvidenceEvent>();
        foreach (var e in batch.Events.Where(e => e.Kind.IsLearningEvidence()))
        {
            if (!ids.TryGetValue(e.ItemExternalId, out var itemId))
                throw new ImportException(batch.EventsFile, e.Line, $"item_id '{e.ItemExternalId}' is not in {Path.GetFileName(batch.ItemsFile)}");
            var userId = users.TryGetValue(e.UserExternalId, out var u) ? u : users[e.UserExternalId] = users.Count + 1L;
            // The file's row order breaks ties between answers given in the same second.
            events.Add(new EvidenceEvent(userId, itemId, e.Kind, e.OccurredAt, e.Line.ToString("D12", CultureInfo.InvariantCulture)));
        }
        return (events, items);
    }

    private sealed record Oracle(double Auc, double LogLoss);

    private static Oracle? ReadOracle(string path)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            var root = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
            return new Oracle(root.GetProperty("auc").GetDouble(), root.GetProperty("logLoss").GetDouble());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new CliException($"{path}: not an oracle file with auc and logLoss ({e.Message})");
        }
    }

    private static object ToJson(SkillEvaluationReport r, Oracle? oracle) => new Dictionary<string, object?>
    {
        ["model"] = r.Model.Name,
        ["answers"] = r.Answers,
        ["heldOut"] = r.HeldOut,
        ["correctShare"] = Round(r.CorrectShare),
        ["auc"] = Round(r.Model.Auc),
        ["logLoss"] = Round(r.Model.LogLoss),
        ["ece"] = Round(r.Model.Ece),
        ["models"] = r.Models.Select(Score).ToList(),
        ["baselines"] = r.Baselines.Select(b => new Dictionary<string, object> { ["name"] = b.Name, ["auc"] = Round(b.Auc), ["logLoss"] = Round(b.LogLoss) }).ToList(),
        ["oracle"] = oracle is null ? null : new Dictionary<string, object>
        {
            ["auc"] = oracle.Auc,
            ["logLoss"] = oracle.LogLoss,
            ["aucRatio"] = Round(r.Model.Auc / oracle.Auc),
            ["logLossRatio"] = Round(r.Model.LogLoss / oracle.LogLoss),
        },
        ["priors"] = new Dictionary<string, object>
        {
            ["startSkill"] = Math.Round(r.Priors.StartSkill, 1),
            ["guess"] = Round(r.Priors.Guess),
            ["practiceRight"] = Round(r.Priors.PracticeRight),
            ["practiceWrong"] = Round(r.Priors.PracticeWrong),
            ["levelDifficulty"] = r.Priors.LevelDifficulty.Select(d => Math.Round(d, 1)).ToList(),
            ["levelVariance"] = r.Priors.LevelVariance.Select(Round).ToList(),
            ["topicStart"] = r.Priors.TopicStart.ToDictionary(p => p.Key, p => Math.Round(p.Value, 1)),
        },
    };

    private static Dictionary<string, object> Score(SkillScore s) =>
        new() { ["name"] = s.Name, ["auc"] = Round(s.Auc), ["logLoss"] = Round(s.LogLoss), ["ece"] = Round(s.Ece) };

    private static double Round(double v) => Math.Round(v, 4);

    private static void Print(SkillEvaluationReport r, Oracle? oracle)
    {
        static string F(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);
        AnsiConsole.MarkupLineInterpolated($"{r.Answers:N0} evidence events, {r.HeldOut:N0} held-out quiz answers, {r.CorrectShare:P1} right");
        var table = new Table().Border(TableBorder.Rounded).AddColumns("predictor", "AUC", "log-loss", "ECE");
        foreach (var s in r.Models)
            table.AddRow(s.Name, F(s.Auc), F(s.LogLoss), F(s.Ece));
        foreach (var b in r.Baselines)
            table.AddRow(b.Name, F(b.Auc), F(b.LogLoss), F(b.Ece));
        if (oracle is not null)
            table.AddRow("oracle (true model)", F(oracle.Auc), F(oracle.LogLoss), "");
        AnsiConsole.Write(table);
        if (oracle is not null)
            AnsiConsole.MarkupLineInterpolated($"{r.Model.Name}: AUC {r.Model.Auc / oracle.Auc:0.000}× the oracle's, log-loss {r.Model.LogLoss / oracle.LogLoss:0.000}×");
    }
}
