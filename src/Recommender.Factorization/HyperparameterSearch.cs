namespace Recommender.Factorization;

/// <summary>One setting tried on the validation split and what it scored there.</summary>
/// <param name="Rank">ApproximationRank.</param>
/// <param name="Lambda">Lambda.</param>
/// <param name="Iterations">The epoch with the lowest validation RMSE (early stopping), or the fixed number of iterations.</param>
/// <param name="ValidationRmse">RMSE on the validation rows after <paramref name="Iterations"/> epochs; NaN for a one-class trial.</param>
/// <param name="Alpha">Alpha of a one-class trial (<see cref="RankingSearch"/>); null for a ratings trial.</param>
/// <param name="ValidationNdcg">NDCG@k of a one-class trial on the validation users; null for a ratings trial.</param>
public sealed record HyperparameterTrial(int Rank, double Lambda, int Iterations, double ValidationRmse, double? Alpha = null, double? ValidationNdcg = null);

/// <summary>What <see cref="HyperparameterSearch.Run"/> chose, and everything it tried.</summary>
/// <param name="Best">The trial with the lowest validation RMSE.</param>
/// <param name="Trials">Every trial, in the order tried.</param>
/// <param name="TrainRows">Ratings the trials trained on.</param>
/// <param name="ValidationRows">Ratings they were measured on.</param>
public sealed record HyperparameterChoice(HyperparameterTrial Best, IReadOnlyList<HyperparameterTrial> Trials, int TrainRows, int ValidationRows)
{
    /// <summary>A copy of <paramref name="options"/> with the chosen rank, λ and iterations (and α, when it was chosen).</summary>
    public MatrixFactorizationOptions Apply(MatrixFactorizationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var chosen = options.Clone();
        chosen.ApproximationRank = Best.Rank;
        chosen.Lambda = Best.Lambda;
        chosen.NumberOfIterations = Best.Iterations;
        if (Best.Alpha is { } alpha)
            chosen.Alpha = alpha;
        return chosen;
    }
}

/// <summary>
/// Chooses rank, λ and the number of iterations of the ratings (SGD) model from data: every (rank, λ) pair of the grid
/// trains on the earlier part of the training rows and is measured after every epoch on the later part (a time-ordered
/// validation split, so no test row is ever looked at); each trial stops early once validation RMSE stops improving,
/// and the pair and epoch with the lowest RMSE win. A grid with one value fixes that setting, as an explicit flag does.
/// </summary>
/// <param name="Ranks">Ranks to try.</param>
/// <param name="Lambdas">λ values to try.</param>
/// <param name="MaxIterations">Epochs per trial at most; with <paramref name="ChooseIterations"/> false, exactly this many.</param>
/// <param name="ChooseIterations">True: the best epoch is chosen (early stopping); false: iterations are fixed.</param>
public sealed record HyperparameterSearch(IReadOnlyList<int> Ranks, IReadOnlyList<double> Lambdas, int MaxIterations, bool ChooseIterations)
{
    /// <summary>
    /// The grid <c>train</c> searches when no flag fixes a setting: ranks 8–64, λ 0.02–0.2 (around the 0.05 that suits
    /// synth-1M at rank 64), up to 50 epochs; 16 trials, each usually stopped well before 50.
    /// </summary>
    public static HyperparameterSearch Default { get; } = new([8, 16, 32, 64], [0.02, 0.05, 0.1, 0.2], 50, true);

    /// <summary>The default grid with every given setting fixed; null when all three are given (nothing left to choose).</summary>
    public static HyperparameterSearch? Except(int? rank, double? lambda, int? iterations) =>
        rank is not null && lambda is not null && iterations is not null
            ? null
            : new HyperparameterSearch(
                rank is { } r ? [r] : Default.Ranks,
                lambda is { } l ? [l] : Default.Lambdas,
                iterations ?? Default.MaxIterations,
                iterations is null);

    /// <summary>
    /// Runs every trial with <paramref name="options"/>' other settings. <paramref name="train"/> is reordered in
    /// place (as by any ratings fit); <paramref name="validation"/> must share its id maps and hold at least one row.
    /// </summary>
    /// <exception cref="ArgumentException">The grid is empty or a set is empty.</exception>
    public HyperparameterChoice Run(TrainingData train, TrainingData validation, MatrixFactorizationOptions options,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(options);
        if (Ranks.Count == 0 || Lambdas.Count == 0 || MaxIterations < 1)
            throw new ArgumentException("The search needs at least one rank, one λ and one iteration.");
        if (validation.Count == 0)
            throw new ArgumentException("The validation set is empty.", nameof(validation));
        var trials = new List<HyperparameterTrial>();
        foreach (var rank in Ranks)
        {
            foreach (var lambda in Lambdas)
            {
                var trial = options.Clone();
                trial.ApproximationRank = rank;
                trial.Lambda = lambda;
                trial.NumberOfIterations = MaxIterations;
                trial.LossFunction = LossFunction.SquareLossRegression;
                var watch = new Watch(progress);
                var model = new MatrixFactorizationTrainer(trial).Fit(train, ChooseIterations ? validation : null, watch, cancellationToken);
                trials.Add(ChooseIterations
                    ? new HyperparameterTrial(rank, lambda, watch.BestIteration, watch.BestRmse)
                    : new HyperparameterTrial(rank, lambda, MaxIterations, RankingMetrics.Errors(model, validation).Rmse));
            }
        }
        // Every trial diverging is not worth failing a training run over: the given settings then stand.
        var best = trials.Where(t => t.Iterations > 0 && double.IsFinite(t.ValidationRmse)).MinBy(t => t.ValidationRmse)
            ?? new HyperparameterTrial(options.ApproximationRank, options.Lambda, options.NumberOfIterations, double.NaN);
        return new HyperparameterChoice(best, trials, train.Count, validation.Count);
    }

    /// <summary>Keeps the epoch with the lowest validation RMSE and passes every report on (reports arrive on the training thread, in order).</summary>
    private sealed class Watch(IProgress<TrainingProgress>? next) : IProgress<TrainingProgress>
    {
        public int BestIteration { get; private set; }
        public double BestRmse { get; private set; } = double.NaN;

        public void Report(TrainingProgress value)
        {
            if (value.ValidationRmse is { } rmse && double.IsFinite(rmse) && (BestIteration == 0 || rmse < BestRmse))
                (BestIteration, BestRmse) = (value.Iteration, rmse);
            next?.Report(value);
        }
    }
}
