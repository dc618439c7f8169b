using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Recommender.Data;
using Recommender.Data.Import;
using Recommender.Data.Migrations;
using Recommender.Data.Models;
using Recommender.Factorization;
using Recommender.Serving;
using Recommender.Training;
using Spectre.Console;

namespace Recommender.Cli.Commands;

/// <summary>
/// <c>recommender up</c>: the embedded default. Starts the local cluster, migrates, loads the demo catalog into an
/// empty database, makes sure the demo logins exist, starts the service and the web app, prints their addresses,
/// and on Ctrl-C stops everything it started. Running it again reuses the data.
/// </summary>
internal static class UpCommand
{
    public static Command Create()
    {
        var servicePort = new Option<int>("--service-port") { Description = "Port of the REST service (loopback).", DefaultValueFactory = _ => 5080 };
        var webPort = new Option<int>("--web-port") { Description = "Port of the web app (loopback).", DefaultValueFactory = _ => 5000 };
        var demo = new Option<string>("--demo") { Description = "Demo loaded into an empty database: stackexchange (Q&A with topics, levels and sources), movietweetings (ratings) or generated.", DefaultValueFactory = _ => "stackexchange" };
        demo.AcceptOnlyFromAmong([.. Demos.Keys]);
        var demoData = new Option<string?>("--demo-data") { Description = "Folder of the demo's data. Default: ../shared/data/stackexchange or ../shared/data/movietweetings-100k beside the repository." };
        var noSimulatedReaders = new Option<bool>("--no-simulated-readers")
        {
            Description = "Load the demo without its simulated readers (32 labelled accounts with 14 days of served lists and clicks, for the admin dashboard).",
        };
        var command = new Command("up", "Bring the whole product up on the embedded default and keep it running until Ctrl-C.")
        {
            servicePort, webPort, demo, demoData, noSimulatedReaders,
        };
        command.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            var (connectionString, local, startedHere) = await CliContext.ResolveDatabaseAsync(parse, ct);
            var children = new List<Process>();
            try
            {
                await using var dataSource = Database.CreateDataSource(connectionString, "recommender-up");
                var migrated = await MigrationRunner.MigrateAsync(dataSource, ct);
                AnsiConsole.WriteLine($"database ready ({migrated.Applied.Count} migrations applied now, {migrated.AlreadyApplied} before)");

                var counts = await new CatalogStore(dataSource).CountAsync(ct);
                var empty = counts.Items == 0;
                if (empty)
                    await LoadDemoAsync(dataSource, parse.GetValue(demo)!, parse.GetValue(demoData), ct);

                if (await new ModelStore(dataSource).GetActiveMetricsAsync(ct) is null)
                {
                    AnsiConsole.WriteLine("no active model: training the first one");
                    TrainCommand.Print(await TrainCommand.RunAsync(dataSource, ModelTraining.DefaultOptions(), HyperparameterSearch.Default, RankingSearch.Default, ct));
                }
                // Only with the demo just loaded: a database that had data keeps exactly what it had.
                if (empty && !parse.GetValue(noSimulatedReaders))
                    await SimulateReadersAsync(connectionString, ct);

                var logins = await EnsureDemoLoginsAsync(dataSource, ct);

                // Least privilege: on the local cluster the services connect as the runtime role (rows only); the CLI
                // migrated above as the schema's owner, so the services do not migrate.
                var env = new Dictionary<string, string>
                {
                    ["ConnectionStrings__Recommender"] = local?.RuntimeConnectionString ?? connectionString,
                    ["Recommender__MigrateOnStart"] = local is null ? "true" : "false",
                    // Served lists wait here, on disk, for the database; beside the cluster's data, not in the user's home.
                    ["Recommender__AuditSpoolPath"] = Path.Combine(CliContext.DataRoot, "audit-spool"),
                };
                var service = StartChild("Recommender.Service", parse.GetValue(servicePort), env);
                children.Add(service.Process);
                var web = StartChild("Recommender.Web", parse.GetValue(webPort), env);
                children.Add(web.Process);
                await WaitHealthyAsync(service.Url, ct);
                await WaitHealthyAsync(web.Url, ct);

                var table = new Table().AddColumns("what", "where");
                table.AddRow("web app", web.Url);
                table.AddRow("REST service", service.Url + "/docs");
                table.AddRow("database", local is null ? "external (--db / RECOMMENDER_DB)" : $"local cluster in {local.DataDirectory}");
                foreach (var l in logins)
                    table.AddRow($"login ({l.Role})", $"{l.Login} / {l.Password}");
                AnsiConsole.Write(table);
                AnsiConsole.WriteLine("Ctrl-C stops everything.");

                await Task.WhenAny(Task.Delay(Timeout.Infinite, ct), service.Process.WaitForExitAsync(CancellationToken.None), web.Process.WaitForExitAsync(CancellationToken.None));
                if (!ct.IsCancellationRequested)
                    throw new CliException("a child process exited on its own; see its output above");
                return 0;
            }
            finally
            {
                AnsiConsole.WriteLine("stopping…");
                foreach (var child in children)
                    await StopChildAsync(child);
                if (startedHere && local is not null)
                    await local.StopAsync(CancellationToken.None);
            }
        }));
        return command;
    }

    private sealed record Demo(string Name, string Folder, Func<string, ImportBatch> Read);

    private static readonly Dictionary<string, Demo> Demos = new(StringComparer.Ordinal)
    {
        ["stackexchange"] = new("Stack Exchange (Quantum Computing, Cardano)", "stackexchange", StackExchangeReader.Read),
        ["movietweetings"] = new("MovieTweetings", "movietweetings-100k", ImportReaders.MovieTweetings),
        ["generated"] = new(GeneratedDemo.Label, "", _ => GeneratedDemo.Create()),
    };

    /// <summary>
    /// Real data is read in place from the shared data sets beside the repository; a clone without them still comes
    /// up, on a generated catalog that says it is one.
    /// </summary>
    private static async Task LoadDemoAsync(Npgsql.NpgsqlDataSource dataSource, string name, string? folder, CancellationToken ct)
    {
        var demo = Demos[name];
        folder ??= Path.GetFullPath(Path.Combine(CliContext.RepositoryRoot, "..", "shared", "data", demo.Folder));
        if (name != "generated" && !Directory.Exists(folder))
        {
            AnsiConsole.MarkupLineInterpolated(
                $"[yellow]no {demo.Name} data at {folder}[/]: Stack Exchange dumps are at https://archive.org/details/stackexchange, MovieTweetings at https://github.com/sidooms/MovieTweetings (load one with recommender import); serving a [bold]generated demo[/] meanwhile");
            demo = Demos["generated"];
        }
        AnsiConsole.WriteLine($"empty catalog: loading the {demo.Name} demo data");
        DemoSigning? signing = null;
        ImportCommand.Print(await ImportCommand.RunAsync(dataSource, () =>
        {
            var batch = demo.Read(folder);
            // Some sources sign their items, with keys kept beside the database so a later up signs with the same ones.
            signing = DemoProvenance.Sign(batch, Path.Combine(CliContext.DataRoot, "demo-publisher-keys"));
            return batch;
        }, ct));
        if (signing is not null)
            AnsiConsole.WriteLine(DemoProvenance.Describe(signing));
    }

    /// <summary>
    /// The demo's simulated readers (<see cref="SimulatedReaders.SeedDatabaseAsync"/>), so the dashboard has a history to
    /// audit, with a line saying what was written and what was trained on it. Nothing when they exist already.
    /// </summary>
    internal static async Task<SimulatedHistory?> SimulateReadersAsync(string connectionString, CancellationToken ct)
    {
        var history = await SimulatedReaders.SeedDatabaseAsync(connectionString, Path.Combine(CliContext.DataRoot, "audit-spool"), ct);
        if (history is not null)
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Simulated {history.Readers} readers over {history.Days} days: {history.Lists:N0} lists served, {history.Events:N0} events (labelled '{SimulatedReaders.NamePrefix}' on the dashboard) in {history.Elapsed.TotalSeconds:F1} s"));
        if (history?.Retrained is { } model)
        {
            AnsiConsole.WriteLine("trained again on that history, as Train now does, so the model knows the simulated readers:");
            TrainCommand.Print(model);
            if (history.Reranker is { } reranker)
                AnsiConsole.WriteLine(reranker.Version is { } v ? $"re-ranker v{v} {reranker.Decision}" : $"no re-ranker: {reranker.Decision}");
        }
        return history;
    }

    private sealed record DemoLogin(string Login, string Role, string Password);

    /// <summary>Demo passwords are generated on first use and kept in the git-ignored data folder, never in the source.</summary>
    private static async Task<IReadOnlyList<DemoLogin>> EnsureDemoLoginsAsync(Npgsql.NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var file = Path.Combine(CliContext.DataRoot, "demo-logins.json");
        List<DemoLogin>? logins = File.Exists(file) ? JsonSerializer.Deserialize<List<DemoLogin>>(await File.ReadAllTextAsync(file, ct)) : null;
        if (logins is null)
        {
            logins = [new("reader", "user", NewPassword()), new("admin", "admin", NewPassword())];
            Directory.CreateDirectory(CliContext.DataRoot);
            await File.WriteAllTextAsync(file, JsonSerializer.Serialize(logins), ct);
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var accounts = new AccountStore(dataSource);
        foreach (var l in logins)
            await accounts.UpsertAsync(l.Login, l.Role == "admin" ? "Demo admin" : "Demo reader", l.Role, l.Password, ct);
        return logins;
    }

    private static string NewPassword() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(12)).Replace('+', 'x').Replace('/', 'y');

    private static (Process Process, string Url) StartChild(string project, int port, Dictionary<string, string> env)
    {
        var dll = FindBuiltDll(project);
        if (!LocalPostgres.IsPortFree(port))
            throw new CliException($"port {port} is in use; pass another with --{(project.EndsWith("Web", StringComparison.Ordinal) ? "web" : "service")}-port");
        var url = $"http://127.0.0.1:{port}";
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(dll)! };
        psi.ArgumentList.Add(dll);
        psi.Environment["ASPNETCORE_URLS"] = url;
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (k, v) in env)
            psi.Environment[k] = v;
        return (Process.Start(psi) ?? throw new CliException($"could not start {project}"), url);
    }

    /// <summary>
    /// The service and web app are published beside the CLI (artifacts/app/service, artifacts/app/web) by the launcher
    /// script, as the Docker images publish them: a published web app serves its own wwwroot in any environment.
    /// </summary>
    private static string FindBuiltDll(string project)
    {
        var apps = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory))!;
        var dll = Path.Combine(apps, PublishedFolder(project), project + ".dll");
        return File.Exists(dll) ? dll : throw new CliException($"{dll} is not published; start the product with ./recommender up (it publishes first)");
    }

    internal static string PublishedFolder(string project) => project["Recommender.".Length..].ToLowerInvariant();

    private static async Task WaitHealthyAsync(string url, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await http.GetAsync($"{url}/health", ct);
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
            }
            await Task.Delay(250, ct);
        }
        throw new CliException($"{url} did not become healthy within 60 s");
    }

    private static async Task StopChildAsync(Process child)
    {
        if (child.HasExited)
            return;
        // SIGTERM lets ASP.NET Core shut down gracefully (flushing buffers); SIGKILL only if it does not.
        using (var kill = Process.Start("kill", ["-TERM", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await child.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            child.Kill(entireProcessTree: true);
        }
    }
}
