using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Parsing;
using System.Globalization;
using Npgsql;
using Recommender.Cli.Commands;
using Recommender.Data;
using Recommender.Data.Import;
using Spectre.Console;

namespace Recommender.Cli;

/// <summary>The <c>recommender</c> command tree. Each command lives in its own file and is listed here once.</summary>
public static class CliApp
{
    public static Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Recommender: a content recommender whose users choose what the ranking optimises.")
        {
            DbCommand.Create(),
            ImportCommand.Create(),
            TrainCommand.Create(),
            UpCommand.Create(),
            EvaluateCommand.Create(),
            KeysCommand.Create(),
            UsersCommand.Create(),
            ModelsCommand.Create(),
            AuditCommand.Create(),
            SkillCommand.Create(),
            ProvenanceCommand.Create(),
            Bench(),
        };
        root.Options.Add(CliContext.DbOption);
        PlainWhenRedirected();
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && !args.Contains("--help") && !args.Contains("-h"))
        {
            // A mistyped option is bad input like any other: one line each, exit 2 (the library's default is 1, which means a failed check).
            foreach (var error in parsed.Errors)
                CliContext.Error(Describe(error, parsed.CommandResult));
            return Task.FromResult(2);
        }
        // up needs time after Ctrl-C to stop its children and the database cleanly.
        return parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(40) });
    }

    /// <summary>
    /// Whether progress is shown: a status line or a progress bar belongs on a terminal. Redirected, Spectre prints each
    /// as lines of their own, the last one stale ("training (final model): iteration 20/20…"), so a log or a script
    /// gets no progress at all, as evaluate's output never has any; the summary lines after the work say what was done.
    /// </summary>
    internal static bool ShowsProgress => !Console.IsOutputRedirected;

    /// <summary>Runs <paramref name="work"/> under a status line on a terminal, and without one (a null context) otherwise.</summary>
    internal static Task<T> WithStatusAsync<T>(string status, Func<StatusContext?, Task<T>> work) =>
        ShowsProgress ? AnsiConsole.Status().StartAsync(status, ctx => work(ctx)) : work(null);

    /// <summary>
    /// Output to a file or a pipe is for scripts and logs: no escape codes for bold or colour, and lines as long as they
    /// are (a table or a sentence wrapped at 80 columns breaks a grep).
    /// </summary>
    private static void PlainWhenRedirected()
    {
        if (!Console.IsOutputRedirected)
            return;
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        AnsiConsole.Profile.Width = 240;
    }

    /// <summary>
    /// The library says a value that is not a number "cannot be parsed as expected type 'System.Int64'", which names a
    /// .NET type a user never sees; this says which flag or argument wanted what kind of number. A value outside an
    /// option's fixed set (an enum such as <c>--split</c>, or one limited by <c>AcceptOnlyFromAmong</c> such as
    /// <c>--loss</c>) is told the same way for both: the flag, its values as they are typed, and what was given. A
    /// required flag left out is named first too.
    /// </summary>
    private static string Describe(ParseError error, CommandResult command)
    {
        // "Option '--name' is required." names the flag in the library's words; the line starts with it, as every other does.
        if (command.Command.Options.FirstOrDefault(o =>
                o.Required && error.Message.Contains($"'{o.Name}'", StringComparison.Ordinal)) is { } missing)
            return $"{missing.Name} is required";
        var (option, name, type, tokens) = error.SymbolResult switch
        {
            OptionResult o => (o.Option, o.Option.Name, o.Option.ValueType, o.Tokens),
            ArgumentResult { Parent: OptionResult o } a => (o.Option, o.Option.Name, a.Argument.ValueType, a.Tokens),
            ArgumentResult a => (null, a.Argument.Name, a.Argument.ValueType, a.Tokens),
            _ => (null, null, null, null),
        };
        type = type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
        if (option is not null && tokens is not null && FixedValues(option, type) is { Count: > 0 } allowed)
        {
            // An enum is read whatever its case; a list of strings only as it is written.
            var comparer = type is { IsEnum: true } ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
            if (tokens.FirstOrDefault(t => !allowed.Contains(t.Value, comparer)) is { } wrong)
                return $"{name} must be one of: {string.Join(", ", allowed)} (got '{wrong.Value}')";
        }
        var whole = type == typeof(int) || type == typeof(long);
        var number = whole || type == typeof(double) || type == typeof(float);
        if (!number || tokens is null)
            return error.Message;
        var style = whole ? NumberStyles.Integer : NumberStyles.Float;
        foreach (var token in tokens)
        {
            var parses = type == typeof(int) ? int.TryParse(token.Value, style, CultureInfo.InvariantCulture, out _)
                : type == typeof(long) ? long.TryParse(token.Value, style, CultureInfo.InvariantCulture, out _)
                : double.TryParse(token.Value, style, CultureInfo.InvariantCulture, out _);
            if (!parses)
                return $"{name}: '{token.Value}' is not {(whole ? "a whole number" : "a number")}";
        }
        return error.Message;
    }

    /// <summary>The values an option takes, as a user types them; empty when it takes any value of its type.</summary>
    private static IReadOnlyList<string> FixedValues(Option option, Type? type) =>
        type is { IsEnum: true } ? [.. Enum.GetNames(type).Select(n => n.ToLowerInvariant())]
        : type == typeof(string) ? [.. option.GetCompletions(CompletionContext.Empty).Select(c => c.Label)]
        : [];

    private static Command Bench()
    {
        var bench = new Command("bench", "Benchmarks that print their figures: training, and load against a running service.") { BenchTrainCommand.Create() };
        foreach (var command in BenchServeCommand.Create())
            bench.Subcommands.Add(command);
        return bench;
    }

    /// <summary>Wraps a command's work so a user's mistake prints one clear line (exit 2) instead of a stack trace.</summary>
    internal static Func<ParseResult, CancellationToken, Task<int>> Guarded(Func<ParseResult, CancellationToken, Task<int>> action) =>
        async (parse, ct) =>
        {
            try
            {
                return await action(parse, ct);
            }
            // IOException and UnauthorizedAccessException: a path the user gave that cannot be read or written (a missing
            // file, a folder where a file belongs, no permission); .NET's message names the path.
            catch (Exception e) when (e is CliException or ImportException or LocalPostgresException or IOException or UnauthorizedAccessException or InvalidDataException)
            {
                CliContext.Error(e.Message);
                return 2;
            }
            catch (NpgsqlException e)
            {
                CliContext.Error($"database: {e.Message}");
                return 3;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                CliContext.Error("cancelled");
                return 130;
            }
        };
}
