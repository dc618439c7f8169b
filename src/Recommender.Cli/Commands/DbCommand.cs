using System.CommandLine;
using Recommender.Data;
using Recommender.Data.Migrations;
using Spectre.Console;

namespace Recommender.Cli.Commands;

/// <summary><c>recommender db migrate | start | stop</c>.</summary>
internal static class DbCommand
{
    public static Command Create()
    {
        var createRoles = new Option<bool>("--create-roles")
        {
            Description = $"First create the owner role ({DatabaseRoles.Owner}), which then runs the migrations, and the runtime role " +
                $"({DatabaseRoles.Runtime}) with the password in {DatabaseRoles.RuntimePasswordVariable}; needs a superuser connection (Docker Compose does this).",
        };
        var migrate = new Command("migrate", "Apply the numbered SQL files in db/migrations that this database has not seen yet.") { createRoles };
        migrate.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            var (connectionString, _, _) = await CliContext.ResolveDatabaseAsync(parse, ct);
            if (parse.GetValue(createRoles))
            {
                var password = Environment.GetEnvironmentVariable(DatabaseRoles.RuntimePasswordVariable);
                if (string.IsNullOrEmpty(password))
                    throw new CliException($"--create-roles: set {DatabaseRoles.RuntimePasswordVariable} to the password the services will connect with");
                try
                {
                    await DatabaseRoles.EnsureAsync(connectionString, password, ct);
                }
                catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.InsufficientPrivilege)
                {
                    throw new CliException($"--create-roles needs a superuser connection ({e.MessageText})");
                }
                connectionString = DatabaseRoles.AsOwner(connectionString);
                AnsiConsole.WriteLine($"roles {DatabaseRoles.Owner} and {DatabaseRoles.Runtime} ready; migrating as {DatabaseRoles.Owner}");
            }
            await using var dataSource = Database.CreateDataSource(connectionString, "recommender-cli");
            var result = await MigrationRunner.MigrateAsync(dataSource, ct);
            foreach (var m in result.Applied)
                AnsiConsole.MarkupLineInterpolated($"applied [green]{m.Version:D4}_{m.Name}[/]");
            AnsiConsole.WriteLine($"{result.Applied.Count} applied, {result.AlreadyApplied} already there.");
            return 0;
        }));

        var print = new Option<bool>("--print-connection-string") { Description = "Print only the connection string (for scripts)." };
        var admin = new Option<bool>("--admin") { Description = "With --print-connection-string: the maintenance database 'postgres' instead of the application database." };
        var start = new Command("start", "Start the project-local PostgreSQL cluster in .data/ (initialising it on first use) and leave it running.") { print, admin };
        start.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            var local = new LocalPostgres(CliContext.DataRoot);
            var started = await local.EnsureStartedAsync(ct);
            if (parse.GetValue(print))
            {
                Console.WriteLine(parse.GetValue(admin) ? local.AdminConnectionString : local.ConnectionString);
            }
            else
            {
                AnsiConsole.WriteLine(started ? $"started the local cluster in {local.DataDirectory}" : "the local cluster is already running");
            }
            return 0;
        }));

        var stop = new Command("stop", "Stop the project-local PostgreSQL cluster.");
        stop.SetAction(CliApp.Guarded(async (_, ct) =>
        {
            await new LocalPostgres(CliContext.DataRoot).StopAsync(ct);
            AnsiConsole.WriteLine("stopped");
            return 0;
        }));

        return new Command("db", "Database: migrations and the project-local cluster.") { migrate, start, stop };
    }
}
