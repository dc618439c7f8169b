using System.CommandLine;
using Recommender.Data;
using Recommender.Data.Import;
using Recommender.Data.Migrations;
using Spectre.Console;

namespace Recommender.Cli.Commands;

/// <summary><c>recommender import movietweetings|synthetic|generic|stackexchange DIR</c>: read and check every row, then write in one transaction.</summary>
internal static class ImportCommand
{
    public static Command Create() => new("import", "Import a catalog and its events. A bad row stops the import with file:line and nothing is written.")
    {
        Sub("movietweetings", "MovieTweetings (movies.dat, ratings.dat): genres become topics, ratings become rating events 0..10.", ImportReaders.MovieTweetings),
        Sub("synthetic", "Output of the synthetic generator (items.csv, sources.csv, ratings.csv).", ImportReaders.Synthetic),
        Sub("generic", "Your own catalog: topics.csv, sources.csv, items.csv or items.jsonl, events.csv, any of them (see docs/cli.md).", dir => ImportReaders.Directory(dir)),
        Sub("stackexchange", "A Stack Exchange data dump (Posts.xml, Users.xml, Comments.xml, Votes.xml, Tags.xml): one site folder or a folder of sites.", StackExchangeReader.Read),
    };

    private static Command Sub(string name, string description, Func<string, ImportBatch> read)
    {
        var dir = new Argument<string>("dir") { Description = "Folder holding the files." };
        var command = new Command(name, description) { dir };
        command.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            // A wrong folder is named as such before the database is reached, whether or not it can be.
            ImportReaders.RequireDirectory(parse.GetValue(dir)!);
            var (connectionString, _, _) = await CliContext.ResolveDatabaseAsync(parse, ct);
            await using var dataSource = Database.CreateDataSource(connectionString, "recommender-import");
            await MigrationRunner.MigrateAsync(dataSource, ct);
            var result = await RunAsync(dataSource, () => read(parse.GetValue(dir)!), ct);
            Print(result);
            return 0;
        }));
        return command;
    }

    /// <summary>Reads and imports with a progress bar; shared with <c>up</c>.</summary>
    internal static async Task<ImportResult> RunAsync(Npgsql.NpgsqlDataSource dataSource, Func<ImportBatch> read, CancellationToken ct)
    {
        ImportResult? result = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (!CliApp.ShowsProgress)
        {
            result = await new CatalogImporter(dataSource).ImportAsync(await Task.Run(read, ct), null, ct);
            return result with { Elapsed = clock.Elapsed };
        }
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                var reading = ctx.AddTask("reading files").IsIndeterminate();
                var batch = await Task.Run(read, ct);
                reading.IsIndeterminate(false).Value(100);
                var copying = ctx.AddTask("copying events");
                var merging = ctx.AddTask("merging").IsIndeterminate();
                var progress = new Progress<ImportProgress>(p =>
                {
                    var task = p.Phase == "merging" ? merging : copying;
                    if (p.Total > 0)
                        task.IsIndeterminate(false).MaxValue(p.Total).Value(p.Done);
                });
                result = await new CatalogImporter(dataSource).ImportAsync(batch, progress, ct);
                copying.Value(copying.MaxValue);
                merging.IsIndeterminate(false).Value(merging.MaxValue);
            });
        // The rate covers the whole import, reading and checking the files included.
        return result! with { Elapsed = clock.Elapsed };
    }

    internal static void Print(ImportResult r)
    {
        var rate = r.RowsRead / Math.Max(r.Elapsed.TotalSeconds, 1e-9);
        AnsiConsole.MarkupLineInterpolated(
            $"read [bold]{r.RowsRead:N0}[/] rows in {r.Elapsed.TotalSeconds:F1} s ([bold]{rate:N0} rows/s[/]); added {r.ItemsAdded:N0} items ({r.ItemsUpdated:N0} updated), {r.TopicsAdded:N0} topics, {r.SourcesAdded:N0} sources, {r.UsersAdded:N0} users, {r.EventsAdded:N0} events");
        // A topic only items named is a topic someone may not have meant to create: each is named, with where it was first named.
        var byItems = (r.TopicsCreated ?? []).Where(t => !t.FromTopicFile).ToList();
        if (byItems.Count > 0)
        {
            AnsiConsole.MarkupLineInterpolated(
                $"new {(byItems.Count == 1 ? "topic" : "topics")} named only by items: {string.Join(", ", byItems.Select(t => $"{t.Name} ({t.File}:{t.Line})"))}");
        }
    }
}
