using System.CommandLine;
using System.Globalization;
using Recommender.Data.Models;
using Recommender.Training;
using Spectre.Console;

namespace Recommender.Cli.Commands;

/// <summary><c>recommender models list|activate</c>: stored models and roll-back from the command line (the admin API does the same).</summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var list = new Command("list", "List stored models, newest first, with status, what each was trained on and what its holdout measured (the admin API gives every figure).");
        list.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            await using var dataSource = await CliContext.OpenDatabaseAsync(parse, ct);
            // The stored metrics JSON squeezed into a column was unreadable: what was trained on, and what the holdout measured.
            var table = new Table().AddColumns("version", "status", "active", "created", "trained on", "holdout");
            foreach (var m in await new ModelStore(dataSource).ListAsync(ct))
            {
                var metrics = ModelMetrics.Read(m.Metrics);
                var data = metrics is null ? "" : string.Create(CultureInfo.InvariantCulture, $"{metrics.Users:N0} people × {metrics.Items:N0} items, {metrics.Feedback}");
                table.AddRow($"{m.Version}", m.Status, m.IsActive ? "yes" : "", $"{m.CreatedAt:u}", Markup.Escape(data), Markup.Escape(metrics?.Holdout() ?? ""));
            }
            AnsiConsole.Write(table);
            return 0;
        }));

        var version = new Argument<int>("version") { Description = "The model's version (from models list)." };
        var activate = new Command("activate", "Make a ready model the active one; every serving process swaps to it (or refuses it if its payload is damaged).") { version };
        activate.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            await using var dataSource = await CliContext.OpenDatabaseAsync(parse, ct);
            if (!await new ModelStore(dataSource).ActivateAsync(parse.GetValue(version), ModelActivator.ByCommandLine, ct))
                throw new CliException($"model {parse.GetValue(version)} is not a ready model");
            AnsiConsole.WriteLine($"activated model {parse.GetValue(version)}");
            return 0;
        }));
        return new Command("models", "Stored models: list, activate or roll back.") { list, activate };
    }
}
