using Recommender.Core.Objectives;
using Recommender.Factorization;

namespace Recommender.Core.Evaluation;

/// <summary>
/// Chooses the one-class MF model's settings and engagement's popularity mix on the validation split, the way the
/// <see cref="Baselines"/> are tuned: the test rows play no part. First every (rank, λ, α) of <see cref="ModelGrid"/> is
/// trained on the validation split's train side and ranked by the model alone; then the best model serves the
/// validation users through the production pipeline with every (popularity weight, prior shrinkage) of
/// <see cref="MixGrid"/>, and the mix with the best NDCG@K wins.
/// </summary>
public static class EngagementTuning
{
    /// <summary>The choice is reported under engagement's id, beside the baselines' choices.</summary>
    public const string Id = EngagementObjective.ObjectiveId;

    public const string Rank = "rank";
    public const string Lambda = "lambda";
    public const string Alpha = "alpha";
    public const string PopularityWeight = CommonParameters.PopularityWeight;
    public const string PriorShrinkage = CommonParameters.PriorShrinkage;

    /// <summary>
    /// The (rank, λ, α) settings tried. One-class λ is a ridge added to YᵀY + Σ confidences, so it is large next to
    /// the ratings model's: on both MovieTweetings and synth-1M λ 50 beat 0.05 on validation at every rank, and
    /// rank 64, λ 5 and λ 800 were never best (they were tried and dropped to keep the search short).
    /// </summary>
    public static IReadOnlyList<(int Rank, double Lambda, double Alpha)> ModelGrid { get; } =
        [.. from r in new[] { 8, 16, 32 } from l in new[] { 0.05, 50, 200 } from a in new[] { 2.0, 5 } select (r, l, a)];

    /// <summary>The (popularity weight, prior shrinkage) pairs tried, the model alone first; the objective's own default is among them.</summary>
    public static IReadOnlyList<(double Weight, double Shrinkage)> MixGrid { get; } =
        [(0, 0), .. from w in new[] { 0.25, 0.5, 1.0, 2.0 } from s in new[] { 0.0, 5, CommonParameters.DefaultPriorShrinkage } select (w, s)];

    /// <summary>
    /// Tunes on <paramref name="data"/>'s validation split. The result's hyperparameters hold rank, λ, α, popularity
    /// weight and prior shrinkage; its NDCG is engagement's on the validation users with them. The grids default to
    /// <see cref="ModelGrid"/> and <see cref="MixGrid"/>; the other MF settings (iterations, weighted-λ) are the options'.
    /// </summary>
    public static TunedBaseline Tune(EvaluationData data, EvaluationOptions options,
        IReadOnlyList<(int Rank, double Lambda, double Alpha)>? modelGrid = null, IReadOnlyList<(double Weight, double Shrinkage)>? mixGrid = null, int maxUsers = 3000)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        var validation = data.Validation;
        var positives = data.ImplicitStrength ? validation.Train : TemporalSplit.Positives(validation.Train, data.PositiveThreshold);
        var relevantTest = TemporalSplit.Positives(validation.Test, data.PositiveThreshold);

        // Stage 1: the model alone, every item the user rated excluded (as the pipeline excludes what was consumed).
        (int Rank, double Lambda, double Alpha, double Ndcg) bestModel = (options.Rank, options.Lambda, options.Alpha, double.NegativeInfinity);
        MatrixFactorizationModel? best = null;
        foreach (var (rank, lambda, alpha) in modelGrid ?? ModelGrid)
        {
            var model = Train(positives, options with { Rank = rank, Lambda = lambda, Alpha = alpha });
            var ndcg = RankingMetrics.Evaluate(model, validation.Train, relevantTest, options.K, options.Threads).Ndcg;
            if (ndcg > bestModel.Ndcg)
                (bestModel, best) = ((rank, lambda, alpha, ndcg), model);
        }

        // Stage 2: the mix, through the pipeline users get, on a catalog whose popularity is the validation train side's.
        var popularity = EvaluationData.PopularityOf(validation.Train);
        var catalog = new Catalog(data.Catalog.Items, popularity, topicParents: data.Catalog.TopicParents);
        var relevance = new MatrixFactorizationRelevanceModel(best!, "validation", popularity);
        var pipeline = new RecommendationPipeline(relevance, catalog, new ObjectiveRegistry(ObjectiveRegistry.BuiltIn()));
        var users = OfflineEvaluator.TestUsers(validation.Train, validation.Test, data.PositiveThreshold, maxUsers, options.Seed);
        var now = options.Now ?? data.LastRating;
        (double Weight, double Shrinkage, double Ndcg) bestMix = (CommonParameters.DefaultPopularityWeight, CommonParameters.DefaultPriorShrinkage, double.NegativeInfinity);
        foreach (var (weight, shrinkage) in mixGrid ?? MixGrid)
        {
            var parameters = MixParameters(weight, shrinkage);
            var ndcg = new double[users.Count];
            Parallel.For(0, users.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Threads) }, j =>
            {
                var served = pipeline.Recommend(new RecommendationRequest(users[j].State, EngagementObjective.ObjectiveId, parameters, options.K, options.Seed, now));
                ndcg[j] = RankingMetrics.NdcgAtK(OfflineEvaluator.ModelIndices(served, relevance), users[j].Relevant, options.K);
            });
            var mean = ndcg.Length == 0 ? 0 : ndcg.Average();
            if (mean > bestMix.Ndcg)
                bestMix = (weight, shrinkage, mean);
        }
        return new TunedBaseline(Id, new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [Rank] = bestModel.Rank,
            [Lambda] = bestModel.Lambda,
            [Alpha] = bestModel.Alpha,
            [PopularityWeight] = bestMix.Weight,
            [PriorShrinkage] = bestMix.Shrinkage,
        }, bestMix.Ndcg);
    }

    /// <summary>The options with a choice applied: its rank and λ for the MF model, its mix as engagement's parameters.</summary>
    public static EvaluationOptions Apply(EvaluationOptions options, IReadOnlyDictionary<string, double> choice)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(choice);
        var parameters = new Dictionary<string, ObjectiveParameters>(options.Parameters, StringComparer.Ordinal) { [Id] = MixParameters(choice[PopularityWeight], choice[PriorShrinkage]) };
        return options with { Rank = (int)choice[Rank], Lambda = choice[Lambda], Alpha = choice[Alpha], Parameters = parameters };
    }

    /// <summary>Engagement's parameters for a popularity mix.</summary>
    public static ObjectiveParameters MixParameters(double weight, double shrinkage) =>
        ObjectiveParameters.Empty.WithValue(PopularityWeight, weight).WithValue(PriorShrinkage, shrinkage);

    internal static MatrixFactorizationModel Train(TrainingData positives, EvaluationOptions options) => new MatrixFactorizationTrainer(new MatrixFactorizationOptions
    {
        ApproximationRank = options.Rank,
        NumberOfIterations = options.Iterations,
        Lambda = options.Lambda,
        Alpha = options.Alpha,
        FrequencyScaledRegularization = options.FrequencyScaled,
        LossFunction = LossFunction.SquareLossOneClass,
        NumberOfThreads = options.Threads,
        Seed = options.Seed,
    }).Fit(positives);
}
