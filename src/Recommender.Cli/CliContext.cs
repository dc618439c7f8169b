using System.CommandLine;
using System.Globalization;
using Npgsql;
using Recommender.Data;

namespace Recommender.Cli;

/// <summary>Options and look-ups every database command shares: which database, and where the project's local data lives.</summary>
internal static class CliContext
{
    public static readonly Option<string?> DbOption = new("--db")
    {
        Description = $"PostgreSQL connection string. Default: ${Database.EnvironmentVariable}, else the project-local cluster in .data/ (started if needed).",
        Recursive = true,
    };

    /// <summary>The repository root (the folder holding Recommender.sln), searched upwards from the working directory and then from the program.</summary>
    public static string RepositoryRoot { get; } = FindRoot(Environment.CurrentDirectory) ?? FindRoot(AppContext.BaseDirectory) ?? Environment.CurrentDirectory;

    /// <summary>Where the local cluster and generated secrets live. Default <c>.data</c> under the repository; <c>RECOMMENDER_DATA</c> overrides.</summary>
    public static string DataRoot => Environment.GetEnvironmentVariable("RECOMMENDER_DATA") is { Length: > 0 } d ? d : Path.Combine(RepositoryRoot, ".data");

    /// <summary>The connection string to use, starting the local cluster when nothing else was given.</summary>
    public static async Task<(string ConnectionString, LocalPostgres? Local, bool StartedHere)> ResolveDatabaseAsync(ParseResult parse, CancellationToken ct)
    {
        var explicitDb = parse.GetValue(DbOption) ?? Environment.GetEnvironmentVariable(Database.EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(explicitDb))
        {
            try
            {
                _ = new NpgsqlConnectionStringBuilder(explicitDb);
            }
            catch (ArgumentException e)
            {
                throw new CliException($"--db: not a valid PostgreSQL connection string ({e.Message})");
            }
            return (explicitDb, null, false);
        }
        var local = new LocalPostgres(DataRoot);
        var started = await local.EnsureStartedAsync(ct);
        return (local.ConnectionString, local, started);
    }

    /// <summary>A data source on the database the command names, migrated to the current schema.</summary>
    public static async Task<NpgsqlDataSource> OpenDatabaseAsync(ParseResult parse, CancellationToken ct)
    {
        var (connectionString, _, _) = await ResolveDatabaseAsync(parse, ct);
        var dataSource = Database.CreateDataSource(connectionString, "recommender-cli");
        await Recommender.Data.Migrations.MigrationRunner.MigrateAsync(dataSource, ct);
        return dataSource;
    }

    private static string? FindRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Recommender.sln")))
                return dir.FullName;
        }
        return null;
    }

    /// <summary>
    /// Refuses a value outside <paramref name="min"/>..<paramref name="max"/> as bad input (exit 2, one line naming the
    /// flag, the range and the value given), rather than running with a value the user did not give.
    /// </summary>
    public static Option<int> Within(this Option<int> option, int min, int max, string? unit = null)
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count == 0 || !int.TryParse(result.Tokens[^1].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
                return;
            if (value < min || value > max)
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be from {min:N0} to {max:N0}{(unit is null ? "" : " " + unit)} (got {value})"));
        });
        return option;
    }

    /// <summary>
    /// One line on standard error, never wrapped: scripts read it, and a message broken at the console's width would
    /// read as two. Red only for a person at a terminal.
    /// </summary>
    public static void Error(string message)
    {
        message = message.ReplaceLineEndings(" ");
        var colour = !Console.IsErrorRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        Console.Error.WriteLine(colour ? $"\u001b[31merror:\u001b[0m {message}" : $"error: {message}");
    }
}

/// <summary>A user's mistake on the command line: printed as one line, exit code 2.</summary>
internal sealed class CliException(string message) : Exception(message);
