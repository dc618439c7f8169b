namespace Recommender.Factorization.Tests;

public class MatrixFactorizationTrainerTests
{
    [Fact]
    public void Fit_plantedLowRankRatings_recoversNearNoiseFloor()
    {
        const double noise = 0.1;
        var (data, truth) = TestData.Planted(users: 400, items: 300, rank: 4, density: 0.25, noise: noise);
        var items = data.Items.Count;
        var model = new MatrixFactorizationTrainer(new() { ApproximationRank = 8, NumberOfIterations = 40, Lambda = 0.01, NumberOfThreads = 2 }).Fit(data);

        // Error against the noise-free truth on every cell, observed or not: recovery, not memorisation.
        double sum = 0;
        for (var u = 0; u < model.UserCount; u++)
        {
            var a = (int)(model.UserId(u) - 1000);
            for (var i = 0; i < model.ItemCount; i++)
            {
                var b = (int)(model.ItemId(i) - 5000);
                var e = model.Score(u, i) - truth[a * items + b];
                sum += e * e;
            }
        }
        var rmse = Math.Sqrt(sum / (model.UserCount * model.ItemCount));
        Assert.True(rmse < 1.5 * noise, $"RMSE against the planted matrix {rmse:F4}, noise {noise}.");
    }

    [Fact]
    public void Fit_defaultStepRule_convergesWithinDefaultIterations()
    {
        const double noise = 0.1;
        var (data, truth) = TestData.Planted(users: 400, items: 300, rank: 4, density: 0.25, noise: noise);
        double ErrorAgainstTruth(int iterations)
        {
            var copy = new TrainingData(data.Users, data.Items, [.. data.UserIndices], [.. data.ItemIndices], [.. data.Values], data.Count);
            var model = new MatrixFactorizationTrainer(new() { ApproximationRank = 8, NumberOfIterations = iterations, NumberOfThreads = 1 }).Fit(copy);
            double sum = 0;
            for (var u = 0; u < model.UserCount; u++)
            {
                var a = (int)(model.UserId(u) - 1000);
                for (var i = 0; i < model.ItemCount; i++)
                {
                    var e = model.Score(u, i) - truth[a * data.Items.Count + (int)(model.ItemId(i) - 5000)];
                    sum += e * e;
                }
            }
            return Math.Sqrt(sum / (model.UserCount * model.ItemCount));
        }

        // Default step, decay and initialisation: after the default 20 epochs the factors sit near the planted matrix,
        // and 40 more epochs move them no further from it.
        var atDefault = ErrorAgainstTruth(20);
        var longer = ErrorAgainstTruth(60);
        Assert.True(atDefault < 2 * noise, $"RMSE against the planted matrix after 20 epochs {atDefault:F4}, noise {noise}.");
        Assert.True(longer <= atDefault + 0.002, $"20 epochs {atDefault:F4}, 60 epochs {longer:F4}.");
    }

    [Fact]
    public void Fit_ratingsKeptAsCodes_trainsTheSameModelAsOnFloats()
    {
        var (planted, _) = TestData.Planted(users: 200, items: 150, rank: 4, density: 0.25, noise: 0.3);
        var n = planted.Count;
        // Half stars: few enough distinct values for one-byte codes.
        var values = Enumerable.Range(0, n).Select(j => MathF.Round(planted.Values[j] * 2) / 2).ToArray();
        var users = Enumerable.Range(0, n).Select(j => planted.Users.IdAt(planted.UserIndices[j])).ToArray();
        var items = Enumerable.Range(0, n).Select(j => planted.Items.IdAt(planted.ItemIndices[j])).ToArray();
        var times = Enumerable.Range(0, n).Select(j => (long)((j * 7919L) % n)).ToArray();
        RatingSplit Split() => TemporalSplit.Split(RatingTable.FromRows(users, items, values, times));
        var coded = Split();
        var floats = Split();
        _ = floats.Train.Values;
        var trainer = new MatrixFactorizationTrainer(new() { ApproximationRank = 8, NumberOfIterations = 5, NumberOfThreads = 1 });

        Assert.NotNull(coded.Train.ValueColumn.Codes);
        Assert.Null(floats.Train.ValueColumn.Codes);
        var fromCodes = trainer.Fit(coded.Train, coded.Test);
        var fromFloats = trainer.Fit(floats.Train, floats.Test);

        // Errors reads the coded test values in place; the same figures from the float arrays.
        var (rmse, mae) = RankingMetrics.Errors(fromCodes, coded.Test);
        var predicted = RankingMetrics.Predict(fromCodes, coded.Test);
        Assert.Equal(RankingMetrics.Predict(fromFloats, floats.Test), predicted);
        Assert.Equal(floats.Test.Values, coded.Test.Values);
        var actual = floats.Test.Values.AsSpan(0, floats.Test.Count);
        Assert.Equal(RankingMetrics.Rmse(predicted, actual), rmse);
        Assert.Equal(RankingMetrics.Mae(predicted, actual), mae);
        Assert.True(rmse < 1, $"test RMSE {rmse:F3}: the model learned nothing");
    }

    [Theory]
    [InlineData(LossFunction.SquareLossRegression)]
    [InlineData(LossFunction.SquareLossOneClass)]
    public void Fit_anyLoss_trainingLossFallsEveryIteration(LossFunction loss)
    {
        var data = loss == LossFunction.SquareLossRegression
            ? TestData.Planted(200, 150, 4, 0.3, 0.2).Data
            : TestData.PlantedImplicit(200, 150, 4, 15);
        var progress = new RecordingProgress();
        new MatrixFactorizationTrainer(new() { ApproximationRank = 8, NumberOfIterations = 12, LossFunction = loss, NumberOfThreads = 1 }).Fit(data, progress);

        Assert.Equal(12, progress.Reports.Count);
        for (var j = 1; j < progress.Reports.Count; j++)
            Assert.True(progress.Reports[j].Loss < progress.Reports[j - 1].Loss, $"Loss rose at iteration {j + 1}: {progress.Reports[j - 1].Loss} -> {progress.Reports[j].Loss}");
        Assert.Equal(Enumerable.Range(1, 12), progress.Reports.Select(r => r.Iteration));
    }

    [Fact]
    public void Fit_oneClass_itemRowsMeetNormalEquations()
    {
        var data = TestData.PlantedImplicit(150, 100, 3, 12);
        var options = new MatrixFactorizationOptions
        {
            ApproximationRank = 6,
            NumberOfIterations = 15,
            LossFunction = LossFunction.SquareLossOneClass,
            Alpha = 5,
            Lambda = 0.1,
            C = 0.000001,
            NumberOfThreads = 1,
            // As many CG steps as the rank solves each row exactly up to float rounding, so a wrong system shows.
            ConjugateGradientSteps = 6,
        };
        var model = new MatrixFactorizationTrainer(options).Fit(data);

        // Items are solved last, so each item row should satisfy (XᵀC_iX + λI)y = XᵀC_i p_i for the final X.
        var k = model.Rank;
        var byItem = Enumerable.Range(0, model.ItemCount).Select(_ => new List<int>()).ToArray();
        for (var j = 0; j < data.Count; j++)
            byItem[data.ItemIndices[j]].Add(data.UserIndices[j]);
        var observed = new bool[model.UserCount];
        var worst = 0.0;
        for (var i = 0; i < model.ItemCount; i++)
        {
            Array.Clear(observed);
            foreach (var u in byItem[i])
                observed[u] = true;
            var a = new double[k, k];
            var b = new double[k];
            for (var u = 0; u < model.UserCount; u++)
            {
                var x = model.UserVector(u);
                var confidence = observed[u] ? 1 + options.Alpha : 1;
                var preference = observed[u] ? 1 : options.C;
                for (var r = 0; r < k; r++)
                {
                    b[r] += confidence * preference * x[r];
                    for (var c = 0; c < k; c++)
                        a[r, c] += confidence * x[r] * x[c];
                }
            }
            var y = model.ItemVector(i);
            double residual = 0, norm = 0;
            for (var r = 0; r < k; r++)
            {
                var ay = options.Lambda * y[r];
                for (var c = 0; c < k; c++)
                    ay += a[r, c] * y[c];
                residual += (ay - b[r]) * (ay - b[r]);
                norm += b[r] * b[r];
            }
            worst = Math.Max(worst, Math.Sqrt(residual / norm));
        }
        Assert.True(worst < 2e-4, $"Worst relative residual of the normal equations {worst:E2}.");
    }

    [Theory]
    [InlineData(LossFunction.SquareLossRegression)]
    [InlineData(LossFunction.SquareLossOneClass)]
    public void Fit_oneThreadFixedSeed_isDeterministic(LossFunction loss)
    {
        MatrixFactorizationModel Train()
        {
            var data = loss == LossFunction.SquareLossRegression ? TestData.Planted(120, 90, 3, 0.3, 0.2).Data : TestData.PlantedImplicit(120, 90, 3, 10);
            return new MatrixFactorizationTrainer(new() { ApproximationRank = 8, NumberOfIterations = 5, LossFunction = loss, NumberOfThreads = 1, Seed = 7 }).Fit(data);
        }

        var first = Train();
        var second = Train();
        for (var u = 0; u < first.UserCount; u++)
            Assert.True(first.UserVector(u).SequenceEqual(second.UserVector(u)), $"User {u} differs.");
        for (var i = 0; i < first.ItemCount; i++)
            Assert.True(first.ItemVector(i).SequenceEqual(second.ItemVector(i)), $"Item {i} differs.");
    }

    public static TheoryData<Action<MatrixFactorizationOptions>, string> BadOptions => new()
    {
        { o => o.ApproximationRank = 0, nameof(MatrixFactorizationOptions.ApproximationRank) },
        { o => o.NumberOfIterations = -1, nameof(MatrixFactorizationOptions.NumberOfIterations) },
        { o => o.Lambda = -0.1, nameof(MatrixFactorizationOptions.Lambda) },
        { o => o.Lambda = double.NaN, nameof(MatrixFactorizationOptions.Lambda) },
        { o => o.LearningRate = 0, nameof(MatrixFactorizationOptions.LearningRate) },
        { o => o.LearningRate = double.PositiveInfinity, nameof(MatrixFactorizationOptions.LearningRate) },
        { o => o.Alpha = double.NaN, nameof(MatrixFactorizationOptions.Alpha) },
        { o => o.C = double.NaN, nameof(MatrixFactorizationOptions.C) },
        { o => o.NumberOfThreads = 0, nameof(MatrixFactorizationOptions.NumberOfThreads) },
        { o => o.LossFunction = (LossFunction)7, nameof(MatrixFactorizationOptions.LossFunction) },
        { o => o.ConjugateGradientSteps = 0, nameof(MatrixFactorizationOptions.ConjugateGradientSteps) },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Constructor_badOption_throwsArgumentExceptionNamingIt(Action<MatrixFactorizationOptions> spoil, string name)
    {
        var options = new MatrixFactorizationOptions();
        spoil(options);

        var error = Assert.ThrowsAny<ArgumentException>(() => new MatrixFactorizationTrainer(options));
        Assert.Equal(name, error.ParamName);
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_emptyData_throwsArgumentException()
    {
        var empty = TrainingData.FromIds([], [], []);

        var error = Assert.ThrowsAny<ArgumentException>(() => new MatrixFactorizationTrainer().Fit(empty));
        Assert.Contains("empty", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Fit_nanValue_throwsArgumentException()
    {
        var data = TrainingData.FromIds([1, 2], [1, 2], [3, float.NaN]);

        var error = Assert.ThrowsAny<ArgumentException>(() => new MatrixFactorizationTrainer().Fit(data));
        Assert.Contains("finite", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_cancelled_throwsOperationCanceledException()
    {
        var data = TestData.Planted(50, 40, 2, 0.5, 0.1).Data;
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => new MatrixFactorizationTrainer().Fit(data, cancellationToken: cancel.Token));
    }

    [Theory]
    [InlineData(LossFunction.SquareLossRegression)]
    [InlineData(LossFunction.SquareLossOneClass)]
    public void Fit_cancelledDuringTraining_stopsAfterCurrentIteration(LossFunction loss)
    {
        var data = loss == LossFunction.SquareLossRegression ? TestData.Planted(100, 80, 2, 0.3, 0.1).Data : TestData.PlantedImplicit(100, 80, 2, 10);
        using var cancel = new CancellationTokenSource();
        var progress = new CancellingProgress(cancel, afterIteration: 2);

        Assert.ThrowsAny<OperationCanceledException>(() =>
            new MatrixFactorizationTrainer(new() { NumberOfIterations = 50, LossFunction = loss, NumberOfThreads = 2 }).Fit(data, progress, cancel.Token));
        Assert.Equal(2, progress.Seen);
    }

    private sealed class CancellingProgress(CancellationTokenSource cancel, int afterIteration) : IProgress<TrainingProgress>
    {
        public int Seen { get; private set; }

        public void Report(TrainingProgress value)
        {
            Seen = value.Iteration;
            if (value.Iteration == afterIteration)
                cancel.Cancel();
        }
    }
}
