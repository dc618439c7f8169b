namespace Recommender.Factorization.Tests;

public class HyperparameterSearchTests
{
    /// <summary>Planted ratings cut at random into train and validation sets that share the train set's id maps.</summary>
    private static (TrainingData Train, TrainingData Validation) Planted(double noise = 0.3)
    {
        var (data, _) = TestData.Planted(users: 200, items: 150, rank: 4, density: 0.2, noise: noise);
        var times = new long[data.Count];
        var random = new Random(3);
        for (var j = 0; j < times.Length; j++)
            times[j] = random.NextInt64();
        var users = new long[data.Count];
        var items = new long[data.Count];
        for (var j = 0; j < data.Count; j++)
            (users[j], items[j]) = (data.Users.IdAt(data.UserIndices[j]), data.Items.IdAt(data.ItemIndices[j]));
        var split = TemporalSplit.Split(RatingTable.FromRows(users, items, data.Values.AsSpan(0, data.Count), times));
        return (split.Train, split.Test);
    }

    private static double Rmse(MatrixFactorizationModel model, TrainingData rows) =>
        RankingMetrics.Rmse(RankingMetrics.Predict(model, rows), rows.Values.AsSpan(0, rows.Count));

    [Fact]
    public void Fit_withValidation_reportsItEveryEpochAndStopsOnceItStopsImproving()
    {
        var (train, validation) = Planted(noise: 0.5);
        var progress = new Recording();
        // Rank 16 with almost no regularisation and no decay memorises the noise, so validation RMSE turns upward.
        new MatrixFactorizationTrainer(new() { ApproximationRank = 16, Lambda = 0.001, LearningRateDecay = 1, NumberOfIterations = 200, NumberOfThreads = 1 })
            .Fit(train, validation, progress);

        var rmse = progress.Reports.Select(r => r.ValidationRmse!.Value).ToList();
        var best = rmse.IndexOf(rmse.Min());
        Assert.True(rmse.Count < 200, $"Ran all {rmse.Count} epochs.");
        Assert.Equal(best + 1 + SgdSolver.EarlyStoppingPatience, rmse.Count);
        Assert.All(rmse.Skip(best + 1), r => Assert.True(r >= rmse[best]));
    }

    [Fact]
    public void Fit_defaultDecay_moreIterationsAreNotWorseOnHeldOutRows()
    {
        var (train, validation) = Planted(noise: 0.5);
        double HeldOut(int iterations, double decay) =>
            Rmse(new MatrixFactorizationTrainer(new() { ApproximationRank = 16, Lambda = 0.01, LearningRateDecay = decay, NumberOfIterations = iterations, NumberOfThreads = 1 })
                .Fit(new TrainingData(train.Users, train.Items, [.. train.UserIndices], [.. train.ItemIndices], [.. train.Values], train.Count)), validation);

        var decayed = (Short: HeldOut(20, new MatrixFactorizationOptions().LearningRateDecay), Long: HeldOut(80, new MatrixFactorizationOptions().LearningRateDecay));
        var constant = (Short: HeldOut(20, 1), Long: HeldOut(80, 1));

        // The constant step overfits with more epochs on this data; the decayed one must not.
        Assert.True(constant.Long > constant.Short + 0.01, $"Without decay: {constant.Short:F4} at 20 epochs, {constant.Long:F4} at 80 (the data no longer shows overfitting).");
        Assert.True(decayed.Long <= decayed.Short + 0.001, $"With decay: {decayed.Short:F4} at 20 epochs, {decayed.Long:F4} at 80.");
    }

    [Fact]
    public void Fit_frequencyScaledSgd_shrinksRarelySeenUsersMore()
    {
        var (train, _) = Planted();
        var counts = new int[train.Users.Count];
        for (var j = 0; j < train.Count; j++)
            counts[train.UserIndices[j]]++;
        var rarest = Array.IndexOf(counts, counts.Min());
        var busiest = Array.IndexOf(counts, counts.Max());
        float Norm(MatrixFactorizationModel m, int u) => MathF.Sqrt(m.UserVector(u).ToArray().Sum(x => x * x));
        MatrixFactorizationModel Train(bool weighted) => new MatrixFactorizationTrainer(new()
        {
            ApproximationRank = 8,
            Lambda = 0.2,
            NumberOfIterations = 30,
            NumberOfThreads = 1,
            FrequencyScaledRegularization = weighted,
        }).Fit(new TrainingData(train.Users, train.Items, [.. train.UserIndices], [.. train.ItemIndices], [.. train.Values], train.Count));

        var plain = Train(false);
        var scaled = Train(true);

        // λ·(1 + 1/n) per update: the extra penalty is largest for the user with fewest ratings.
        var rareShrink = Norm(scaled, rarest) / Norm(plain, rarest);
        var busyShrink = Norm(scaled, busiest) / Norm(plain, busiest);
        Assert.True(rareShrink < busyShrink, $"Rarest user ({counts[rarest]} ratings) kept {rareShrink:P1} of its norm, busiest ({counts[busiest]}) {busyShrink:P1}.");
    }

    [Fact]
    public void Run_triesEveryPairAndChoosesTheLowestValidationRmse()
    {
        var (train, validation) = Planted();
        var search = new HyperparameterSearch([1, 8], [0.01, 0.5], 60, ChooseIterations: true);

        var choice = search.Run(train, validation, new MatrixFactorizationOptions { NumberOfThreads = 1 });

        Assert.Equal([(1, 0.01), (1, 0.5), (8, 0.01), (8, 0.5)], choice.Trials.Select(t => (t.Rank, t.Lambda)));
        Assert.Equal(choice.Trials.Min(t => t.ValidationRmse), choice.Best.ValidationRmse);
        Assert.All(choice.Trials, t => Assert.InRange(t.Iterations, 1, 60));
        // The planted rank is 4: one factor cannot fit it.
        Assert.Equal(8, choice.Best.Rank);
        Assert.Equal((validation.Count, train.Count), (choice.ValidationRows, choice.TrainRows));

        // The chosen epoch, trained again from the start, scores about what the search recorded for it (the rows' order,
        // and so the order of updates within a block, differs after earlier fits).
        var again = new MatrixFactorizationTrainer(choice.Apply(new MatrixFactorizationOptions { NumberOfThreads = 1 })).Fit(train);
        Assert.InRange(Math.Abs(Rmse(again, validation) - choice.Best.ValidationRmse), 0, 0.01);
    }

    [Fact]
    public void Except_givenSettingsAreFixedAndAllThreeLeaveNothingToChoose()
    {
        Assert.Null(HyperparameterSearch.Except(16, 0.1, 10));

        var fixedRank = HyperparameterSearch.Except(16, null, null)!;
        Assert.Equal([16], fixedRank.Ranks);
        Assert.Equal(HyperparameterSearch.Default.Lambdas, fixedRank.Lambdas);
        Assert.True(fixedRank.ChooseIterations);

        var fixedIterations = HyperparameterSearch.Except(null, null, 12)!;
        Assert.Equal((12, false), (fixedIterations.MaxIterations, fixedIterations.ChooseIterations));
    }

    [Fact]
    public void EarliestRows_areTheRowsTheSplitTrainsOn()
    {
        long[] users = [1, 2, 3, 1, 2, 3, 1, 2, 3, 4];
        long[] items = [10, 10, 10, 11, 11, 11, 12, 12, 12, 13];
        float[] values = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5];
        long[] times = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0];

        var earliest = TemporalSplit.EarliestRows(RatingTable.FromRows(users, items, values, times), 0.7);
        var split = TemporalSplit.Split(RatingTable.FromRows(users, items, values, times), 0.7);

        var fromEarliest = Enumerable.Range(0, earliest.Count).Select(j => (earliest.UserId(j), earliest.ItemId(j), earliest.Value(j))).Order();
        var fromSplit = Enumerable.Range(0, split.Train.Count)
            .Select(j => (split.Train.Users.IdAt(split.Train.UserIndices[j]), split.Train.Items.IdAt(split.Train.ItemIndices[j]), split.Train.Values[j])).Order();
        Assert.Equal(fromSplit, fromEarliest);
        Assert.Equal(7, earliest.Count);
        Assert.Equal([0L, 1, 2, 3, 4, 5, 6], Enumerable.Range(0, earliest.Count).Select(earliest.Timestamp).Order());
    }

    private sealed class Recording : IProgress<TrainingProgress>
    {
        public List<TrainingProgress> Reports { get; } = [];

        public void Report(TrainingProgress value) => Reports.Add(value);
    }
}
