using System.CommandLine;
using Recommender.Cli.Commands;

namespace Recommender.Cli;

/// <summary>The <c>recommender</c> command tree. Each command lives in its own file and is listed here once.</summary>
public static class CliApp
{
    public static Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Recommender: a content recommender whose users choose what the ranking optimises.");
        var bench = new Command("bench", "Measure training speed, memory and accuracy on a ratings file.")
        {
            BenchTrainCommand.Create(),
        };
        root.Subcommands.Add(bench);
        root.Subcommands.Add(EvaluateCommand.Create());
        return root.Parse(args).InvokeAsync();
    }
}
