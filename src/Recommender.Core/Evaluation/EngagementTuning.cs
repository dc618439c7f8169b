using Recommender.Core.Objectives;
using Recommender.Factorization;

namespace Recommender.Core.Evaluation;

/// <summary>
/// Chooses the one-class MF model's settings on the validation split, the way the <see cref="Baselines"/> are tuned and
/// the way <c>train</c> chooses them for the ranking model: the test rows play no part. Every (rank, λ, α) of
/// <see cref="EvaluationOptions.EngagementSearch"/> is trained on the validation split's train side and ranked by the
/// model alone (<see cref="RankingSearch"/>). Only with <see cref="EvaluationOptions.TuneMix"/> is engagement's
/// popularity mix chosen too: the best model then serves the validation users through the production pipeline with
/// every (popularity weight, prior shrinkage) of <see cref="MixGrid"/>. By default the objective's own mix is used, as
/// the product uses it, so engagement is measured as a reader gets it.
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

    /// <summary>The (popularity weight, prior shrinkage) pairs tried with <see cref="EvaluationOptions.TuneMix"/>, the model alone first; the objective's own default is among them.</summary>
    public static IReadOnlyList<(double Weight, double Shrinkage)> MixGrid { get; } =
        [(0, 0), .. from w in new[] { 0.1, 0.25, 0.5, 1.0 } from s in new[] { 0.0, 5, 20 } select (w, s)];

    /// <summary>
    /// Tunes on <paramref name="data"/>'s validation split. The result's hyperparameters hold rank, λ and α, and with
    /// <see cref="EvaluationOptions.TuneMix"/> popularity weight and prior shrinkage; its NDCG is the model alone's on the
    /// validation users, or engagement's with the chosen mix. The grids default to the options' search and
    /// <see cref="MixGrid"/>; the other MF settings (iterations, weighted-λ) are the options'.
    /// </summary>
    public static TunedBaseline Tune(EvaluationData data, EvaluationOptions options,
        RankingSearch? search = null, IReadOnlyList<(double Weight, double Shrinkage)>? mixGrid = null, int maxUsers = 3000)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        var validation = data.Validation;
        var positives = data.ImplicitStrength ? validation.Train : TemporalSplit.Positives(validation.Train, data.PositiveThreshold);
        var relevantTest = TemporalSplit.Positives(validation.Test, data.PositiveThreshold);

        // Stage 1: the model alone, every item the user rated excluded (as the pipeline excludes what was consumed), by
        // the same search train runs for the ranking model.
        // Too few validation positives to choose from: the given settings stand, as in train, and are reported without a score.
        var choice = (search ?? options.EngagementSearch).Run(positives, validation.Train, relevantTest, ModelOptions(options));
        var bestModel = choice?.Best ?? new HyperparameterTrial(options.Rank, options.Lambda, options.Iterations, double.NaN, options.Alpha, double.NaN);
        var hyperparameters = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [Rank] = bestModel.Rank,
            [Lambda] = bestModel.Lambda,
            [Alpha] = bestModel.Alpha ?? options.Alpha,
        };
        if (!options.TuneMix)
            return new TunedBaseline(Id, hyperparameters, bestModel.ValidationNdcg ?? double.NaN);
        var best = Train(positives, options with { Rank = bestModel.Rank, Lambda = bestModel.Lambda, Alpha = bestModel.Alpha ?? options.Alpha });

        // Stage 2: the mix, through the pipeline users get, on a catalog whose popularity is the validation train side's.
        var popularity = EvaluationData.PopularityOf(validation.Train);
        var catalog = new Catalog(data.Catalog.Items, popularity, topicParents: data.Catalog.TopicParents);
        var relevance = new MatrixFactorizationRelevanceModel(best!, "validation", popularity, data.ImplicitStrength ? null : data.PositiveThreshold);
        var pipeline = new RecommendationPipeline(relevance, catalog, new ObjectiveRegistry(ObjectiveRegistry.BuiltIn()));
        var users = OfflineEvaluator.TestUsers(validation.Train, validation.Test, data.PositiveThreshold, maxUsers, options.Seed);
        var now = options.Now ?? data.LastRating;
        (double Weight, double Shrinkage, double Ndcg) bestMix = (EngagementObjective.DefaultPopularityWeight, EngagementObjective.DefaultPriorShrinkage, double.NegativeInfinity);
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
        hyperparameters[PopularityWeight] = bestMix.Weight;
        hyperparameters[PriorShrinkage] = bestMix.Shrinkage;
        return new TunedBaseline(Id, hyperparameters, bestMix.Ndcg);
    }

    /// <summary>The options with a choice applied: its rank, λ and α for the MF model, and its mix (if one was chosen) as engagement's parameters.</summary>
    public static EvaluationOptions Apply(EvaluationOptions options, IReadOnlyDictionary<string, double> choice)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(choice);
        options = options with { Rank = (int)choice[Rank], Lambda = choice[Lambda], Alpha = choice[Alpha] };
        if (!choice.TryGetValue(PopularityWeight, out var weight))
            return options;
        var parameters = new Dictionary<string, ObjectiveParameters>(options.Parameters, StringComparer.Ordinal) { [Id] = MixParameters(weight, choice[PriorShrinkage]) };
        return options with { Parameters = parameters };
    }

    /// <summary>Engagement's parameters for a popularity mix.</summary>
    public static ObjectiveParameters MixParameters(double weight, double shrinkage) =>
        ObjectiveParameters.Empty.WithValue(PopularityWeight, weight).WithValue(PriorShrinkage, shrinkage);

    internal static MatrixFactorizationModel Train(TrainingData positives, EvaluationOptions options) => new MatrixFactorizationTrainer(ModelOptions(options)).Fit(positives);

    /// <summary>The one-class trainer's options for an evaluation's settings.</summary>
    public static MatrixFactorizationOptions ModelOptions(EvaluationOptions options) => new()
    {
        ApproximationRank = options.Rank,
        NumberOfIterations = options.Iterations,
        Lambda = options.Lambda,
        Alpha = options.Alpha,
        FrequencyScaledRegularization = options.FrequencyScaled,
        LossFunction = LossFunction.SquareLossOneClass,
        NumberOfThreads = options.Threads,
        Seed = options.Seed,
    };
}
