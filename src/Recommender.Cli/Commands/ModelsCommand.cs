using System.CommandLine;
using Recommender.Data.Models;
using Spectre.Console;

namespace Recommender.Cli.Commands;

/// <summary><c>recommender models list|activate</c>: stored models and roll-back from the command line (the admin API does the same).</summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var list = new Command("list", "List stored models, newest first, with status and holdout metrics.");
        list.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            await using var dataSource = await CliContext.OpenDatabaseAsync(parse, ct);
            var table = new Table().AddColumns("version", "status", "active", "created", "activated", "metrics");
            foreach (var m in await new ModelStore(dataSource).ListAsync(ct))
                table.AddRow($"{m.Version}", m.Status, m.IsActive ? "yes" : "", $"{m.CreatedAt:u}", m.ActivatedAt is { } a ? $"{a:u}" : "", Markup.Escape(m.Metrics));
            AnsiConsole.Write(table);
            return 0;
        }));

        var version = new Argument<int>("version") { Description = "The model's version (from models list)." };
        var activate = new Command("activate", "Make a ready model the active one; every serving process swaps to it (or refuses it if its payload is damaged).") { version };
        activate.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            await using var dataSource = await CliContext.OpenDatabaseAsync(parse, ct);
            if (!await new ModelStore(dataSource).ActivateAsync(parse.GetValue(version), ct))
                throw new CliException($"model {parse.GetValue(version)} is not a ready model");
            AnsiConsole.WriteLine($"activated model {parse.GetValue(version)}");
            return 0;
        }));
        return new Command("models", "Stored models: list, activate or roll back.") { list, activate };
    }
}
