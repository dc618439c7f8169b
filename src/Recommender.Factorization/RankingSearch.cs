namespace Recommender.Factorization;

/// <summary>
/// Chooses rank, λ and α of the one-class (implicit feedback) model from data, the counterpart of
/// <see cref="HyperparameterSearch"/> for a model judged by how it ranks rather than by RMSE: every (rank, λ, α) of the
/// grid trains on the earlier part of the training rows and ranks, for every user with a later positive, every item
/// they have not had; the setting with the best NDCG@<see cref="K"/> wins. <c>train</c> runs it for the ranking model (on ratings of 7 or more, or on activity) and
/// <c>evaluate</c> on its validation split, so what evaluate measures is chosen as the product chooses it. Iterations
/// are the options' (ALS converges in a few). A grid with one value fixes that setting, as an explicit flag does.
/// </summary>
/// <param name="Ranks">Ranks to try.</param>
/// <param name="Lambdas">λ values to try.</param>
/// <param name="Alphas">α values to try.</param>
/// <param name="K">List length NDCG is measured at.</param>
/// <param name="MinimumValidationPairs">Fewer relevant validation pairs than this and nothing is chosen (see <see cref="DefaultMinimumValidationPairs"/>).</param>
public sealed record RankingSearch(IReadOnlyList<int> Ranks, IReadOnlyList<double> Lambdas, IReadOnlyList<double> Alphas, int K = 10,
    int MinimumValidationPairs = RankingSearch.DefaultMinimumValidationPairs)
{
    /// <summary>
    /// Below 1,000 relevant validation pairs a choice is noise: on the Stack Exchange demo (80 pairs) neighbouring
    /// settings scored anywhere from 0 to 0.093, and the winner scored 0.003 on the holdout where the given defaults
    /// scored 0.016. MovieTweetings and synth-1M have several thousand.
    /// </summary>
    public const int DefaultMinimumValidationPairs = 1000;

    /// <summary>
    /// The grid searched when no flag fixes a setting: 18 trials. One-class λ is a ridge added to YᵀY + Σ confidences,
    /// so it is large next to the ratings model's: on MovieTweetings and synth-1M λ 50 beat 0.05 on validation at every
    /// rank, while on the Stack Exchange demo's sparse activity λ 0.05 wins; rank 64, λ 5 and λ 800 were never best.
    /// </summary>
    public static RankingSearch Default { get; } = new([8, 16, 32], [0.05, 50, 200], [2, 5]);

    /// <summary>The default grid with every given setting fixed; null when all three are given (nothing left to choose).</summary>
    public static RankingSearch? Except(int? rank, double? lambda, double? alpha) =>
        rank is not null && lambda is not null && alpha is not null
            ? null
            : Default with { Ranks = rank is { } r ? [r] : Default.Ranks, Lambdas = lambda is { } l ? [l] : Default.Lambdas, Alphas = alpha is { } a ? [a] : Default.Alphas };

    /// <summary>
    /// Runs every trial with <paramref name="options"/>' other settings and the one-class loss. The model trains on
    /// <paramref name="positives"/>; each user's items in <paramref name="seen"/> are left out of their list, and the
    /// items in <paramref name="relevant"/> are the hits. All three share id maps. Null when <paramref name="relevant"/>
    /// holds fewer than <see cref="MinimumValidationPairs"/> pairs: too little to choose from, so the given settings stand.
    /// </summary>
    /// <exception cref="ArgumentException">The grid is empty.</exception>
    public HyperparameterChoice? Run(TrainingData positives, TrainingData seen, TrainingData relevant, MatrixFactorizationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(positives);
        ArgumentNullException.ThrowIfNull(seen);
        ArgumentNullException.ThrowIfNull(relevant);
        ArgumentNullException.ThrowIfNull(options);
        if (Ranks.Count == 0 || Lambdas.Count == 0 || Alphas.Count == 0 || K < 1)
            throw new ArgumentException("The search needs at least one rank, one λ, one α and a list length.");
        if (relevant.Count == 0 || relevant.Count < MinimumValidationPairs)
            return null;
        var trials = new List<HyperparameterTrial>();
        foreach (var rank in Ranks)
        {
            foreach (var lambda in Lambdas)
            {
                foreach (var alpha in Alphas)
                {
                    var trial = options.Clone();
                    trial.ApproximationRank = rank;
                    trial.Lambda = lambda;
                    trial.Alpha = alpha;
                    trial.LossFunction = LossFunction.SquareLossOneClass;
                    var model = new MatrixFactorizationTrainer(trial).Fit(positives, progress: null, cancellationToken);
                    var ndcg = RankingMetrics.Evaluate(model, seen, relevant, K, options.NumberOfThreads ?? 0).Ndcg;
                    trials.Add(new HyperparameterTrial(rank, lambda, options.NumberOfIterations, double.NaN, alpha, ndcg));
                }
            }
        }
        // The first of equal scores wins, so the grid's order decides ties and the choice is reproducible.
        var best = trials.Where(t => double.IsFinite(t.ValidationNdcg!.Value)).MaxBy(t => t.ValidationNdcg)
            ?? new HyperparameterTrial(options.ApproximationRank, options.Lambda, options.NumberOfIterations, double.NaN, options.Alpha, null);
        return new HyperparameterChoice(best, trials, positives.Count, relevant.Count);
    }
}
