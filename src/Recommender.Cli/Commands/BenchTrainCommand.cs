using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Recommender.Core.Evaluation;
using Recommender.Data.Import;
using Recommender.Factorization;

namespace Recommender.Cli.Commands;

/// <summary>
/// <c>recommender bench train</c>: loads a ratings file (or a Stack Exchange dump's activity as implicit feedback), applies
/// the benchmark temporal split, trains and prints one JSON line with load and train times, throughput, peak memory and
/// test accuracy, so runs can be compared with LIBMF's.
/// </summary>
internal static class BenchTrainCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Directory holding ratings.csv or ratings.dat, or the file itself; or a Stack Exchange dump (a site folder or a folder of sites), whose activity is implicit feedback and trains one-class.", Required = true };
        var rank = new Option<int>("--rank") { Description = "ApproximationRank (vector length).", DefaultValueFactory = _ => 64 };
        var iterations = new Option<int>("--iterations") { Description = "NumberOfIterations.", DefaultValueFactory = _ => 20 };
        var threads = new Option<int>("--threads") { Description = "NumberOfThreads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var lambda = new Option<double>("--lambda") { Description = "Lambda (L2 regularisation).", DefaultValueFactory = _ => 0.05 };
        var loss = new Option<string>("--loss") { Description = "regression (ratings, SGD) or oneclass (implicit, ALS).", DefaultValueFactory = _ => "regression" };
        loss.AcceptOnlyFromAmong("regression", "oneclass");
        var alpha = new Option<double?>("--alpha") { Description = "Alpha: one-class confidence 1 + alpha·value (default: the trainer's)." };
        var learningRate = new Option<double?>("--learning-rate") { Description = "LearningRate for SGD (default: the trainer's)." };
        var decay = new Option<double?>("--learning-rate-decay") { Description = "LearningRateDecay for SGD: the step shrinks by this factor every epoch (default: the trainer's; 1 = none)." };
        var cgSteps = new Option<int?>("--cg-steps") { Description = "ConjugateGradientSteps per ALS row (default: the trainer's)." };
        var verbose = new Option<bool>("--verbose") { Description = "Print each iteration's loss and elapsed time to stderr." };
        var seed = new Option<int>("--seed") { Description = "Seed.", DefaultValueFactory = _ => 42 };
        var split = new Option<string>("--split") { Description = "temporal (first 90% of rows by time train) or random (a seeded 90/10 cut).", DefaultValueFactory = _ => "temporal" };
        split.AcceptOnlyFromAmong("temporal", "random");
        var weighted = new Option<bool>("--weighted-lambda") { Description = "Frequency-scaled regularisation: λ·(1 + n) in all for a row with n ratings or positives." };
        var positive = new Option<float?>("--positive") { Description = "One-class: ratings at or above this are positives (default 7 for .dat files, else 4)." };

        var command = new Command("train", "Train on a 90/10 split of a ratings file and print one JSON line of measurements.")
        {
            data, rank, iterations, threads, lambda, loss, alpha, learningRate, decay, cgSteps, seed, positive, split, weighted, verbose,
        };
        command.SetAction(CliApp.Guarded((parseResult, cancellationToken) =>
        {
            var options = new MatrixFactorizationOptions
            {
                ApproximationRank = parseResult.GetValue(rank),
                NumberOfIterations = parseResult.GetValue(iterations),
                NumberOfThreads = parseResult.GetValue(threads),
                Lambda = parseResult.GetValue(lambda),
                Seed = parseResult.GetValue(seed),
                LossFunction = parseResult.GetValue(loss) == "oneclass" ? LossFunction.SquareLossOneClass : LossFunction.SquareLossRegression,
                FrequencyScaledRegularization = parseResult.GetValue(weighted),
            };
            if (parseResult.GetValue(alpha) is { } a)
                options.Alpha = a;
            if (parseResult.GetValue(cgSteps) is { } steps)
                options.ConjugateGradientSteps = steps;
            if (parseResult.GetValue(learningRate) is { } lr)
                options.LearningRate = lr;
            if (parseResult.GetValue(decay) is { } d)
                options.LearningRateDecay = d;
            FactorizationFlags.Validate(options);
            var path = parseResult.GetValue(data)!;
            return Task.FromResult(Run(path, options, parseResult.GetValue(positive), parseResult.GetValue(split) == "random", parseResult.GetValue(verbose), cancellationToken));
        }));
        return command;
    }

    /// <returns>The exit code: 1 when training diverged (the figures are then null), 2 when nothing is left to test on, else 0.</returns>
    private static int Run(string path, MatrixFactorizationOptions options, float? positiveThreshold, bool randomSplit, bool verbose, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var activity = ActivityEvaluation.IsStackExchange(path);
        RatingSplit split;
        float threshold;
        double loadSeconds;
        if (activity)
        {
            // Every asking, answering, commenting, favouriting or editing pair is a positive of some strength, split in
            // time by its first event: the data evaluate and the trainer service use for the demo.
            var data = ActivityEvaluation.LoadStackExchange(path, randomSplit ? SplitKind.Random : SplitKind.Temporal, options.Seed);
            loadSeconds = clock.Elapsed.TotalSeconds;
            split = data.Split;
            threshold = data.PositiveThreshold;
            options.LossFunction = LossFunction.SquareLossOneClass;
            clock.Restart();
        }
        else
        {
            split = LoadAndSplit(path, randomSplit, options.Seed, verbose, clock, out loadSeconds);
            var isDat = !File.Exists(Path.Combine(path, "ratings.csv")) && (Directory.Exists(path) || path.EndsWith(".dat", StringComparison.OrdinalIgnoreCase));
            threshold = positiveThreshold ?? (isDat ? 7 : 4);
        }
        var trainer = new MatrixFactorizationTrainer(options);
        var train = split.Train;
        var test = split.Test;
        var oneClass = options.LossFunction == LossFunction.SquareLossOneClass;
        if (oneClass)
        {
            train = TemporalSplit.Positives(train, threshold);
            test = TemporalSplit.Positives(test, threshold);
        }
        if (test.Count == 0)
        {
            Console.Error.WriteLine($"bench train: {path}: no test row is left to measure on ({split.DroppedTestRows} dropped for a person or item not seen in training); the data set is too small to measure on.");
            return 2;
        }
        var splitSeconds = clock.Elapsed.TotalSeconds;
        Stage(verbose, "split");
        var trainRows = train.Count;
        // Release the table's timestamps before training and hand the pages back to the OS (aggressive mode decommits),
        // so the factors do not stack on top of them in the peak.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

        Stage(verbose, "collected");
        using var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        clock.Restart();
        var model = trainer.Fit(train, verbose ? new StderrProgress() : null, cancellationToken);
        var trainSeconds = clock.Elapsed.TotalSeconds;
        self.Refresh();
        Stage(verbose, "trained");
        // CPU time beside wall time: on a shared machine wall time alone says more about the neighbours than the code.
        var trainCpuSeconds = (self.TotalProcessorTime - cpuBefore).TotalSeconds;

        using var stdout = Console.OpenStandardOutput();
        using var json = new Utf8JsonWriter(stdout);
        json.WriteStartObject();
        json.WriteString("data", path);
        json.WriteString("feedback", activity ? "activity" : "ratings");
        json.WriteString("loss", oneClass ? "oneclass" : "regression");
        json.WriteNumber("rank", options.ApproximationRank);
        json.WriteNumber("iterations", options.NumberOfIterations);
        json.WriteNumber("threads", options.NumberOfThreads ?? Environment.ProcessorCount);
        json.WriteNumber("lambda", options.Lambda);
        json.WriteNumber("train_rows", trainRows);
        json.WriteString("split", randomSplit ? "random" : "temporal");
        json.WriteNumber("test_rows", test.Count);
        // Test rows of a user or item the model never saw cannot be scored; saying how many keeps the figure honest.
        json.WriteNumber("dropped_test_rows", split.DroppedTestRows);
        json.WriteNumber("load_seconds", Math.Round(loadSeconds, 3));
        json.WriteNumber("split_seconds", Math.Round(splitSeconds, 3));
        json.WriteNumber("train_seconds", Math.Round(trainSeconds, 3));
        json.WriteNumber("train_cpu_seconds", Math.Round(trainCpuSeconds, 3));
        json.WriteNumber("updates_per_second", Math.Round(trainRows * (double)options.NumberOfIterations / trainSeconds));
        var diverged = false;
        if (oneClass)
        {
            var report = RankingMetrics.Evaluate(model, train, test, 10, options.NumberOfThreads ?? 0);
            json.WriteNumber("alpha", options.Alpha);
            json.WriteNumber("positive_threshold", threshold);
            json.WriteNumber("test_users", report.Users);
            json.WriteNumber("ndcg_at_10", Math.Round(report.Ndcg, 5));
            json.WriteNumber("recall_at_10", Math.Round(report.Recall, 5));
            json.WriteNumber("map_at_10", Math.Round(report.MeanAveragePrecision, 5));
            json.WriteNumber("coverage_at_10", Math.Round(report.CatalogCoverage, 4));
        }
        else
        {
            var (rmse, mae) = RankingMetrics.Errors(model, test);
            // A step too large for the data makes SGD diverge; that is a setting to change, not a crash.
            diverged = !double.IsFinite(rmse);
            WriteFigure(json, "test_rmse", rmse, 5);
            WriteFigure(json, "test_mae", mae, 5);
        }
        json.WriteNumber("peak_memory_mb", Math.Round(PeakMemoryBytes() / 1048576.0, 1));
        json.WriteEndObject();
        json.Flush();
        stdout.WriteByte((byte)'\n');
        if (diverged)
            Console.Error.WriteLine($"bench train: training diverged (the test RMSE is not a finite number); try a smaller --learning-rate than {options.LearningRate}.");
        return diverged ? 1 : 0;
    }

    private static void WriteFigure(Utf8JsonWriter json, string name, double value, int digits)
    {
        if (double.IsFinite(value))
            json.WriteNumber(name, Math.Round(value, digits));
        else
            json.WriteNull(name);
    }

    /// <summary>
    /// Loads and splits in a method of its own so that nothing refers to the rating table once it returns: a local in
    /// <see cref="Run"/> stays alive to the end of the method in unoptimised (tier-0) code, which is how a run-once
    /// method executes, and the table's timestamps (160 MB at 20M rows) then sat beside the factors during training.
    /// </summary>
    private static RatingSplit LoadAndSplit(string path, bool randomSplit, int seed, bool verbose, Stopwatch clock, out double loadSeconds)
    {
        var table = RatingTable.Load(path);
        loadSeconds = clock.Elapsed.TotalSeconds;
        Stage(verbose, "loaded");
        clock.Restart();
        return randomSplit ? TemporalSplit.RandomSplit(table, seed) : TemporalSplit.Split(table);
    }

    private sealed class StderrProgress : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) =>
            Console.Error.WriteLine($"iteration {value.Iteration}/{value.TotalIterations} loss {value.Loss:F5} elapsed {value.Elapsed.TotalSeconds:F3}s");
    }

    private static void Stage(bool verbose, string name)
    {
        if (verbose)
            Console.Error.WriteLine($"{name}: resident {Environment.WorkingSet / 1048576} MB, peak {PeakMemoryBytes() / 1048576} MB, GC heap {GC.GetTotalMemory(false) / 1048576} MB");
    }

    /// <summary>Peak resident set (VmHWM) on Linux, else the process's peak working set.</summary>
    private static long PeakMemoryBytes()
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
        {
            foreach (var line in File.ReadLines(status))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal)
                    && long.TryParse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), out var kb))
                    return kb * 1024;
            }
        }
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }
}
