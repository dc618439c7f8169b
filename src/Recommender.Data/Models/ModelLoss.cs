using Recommender.Factorization;

namespace Recommender.Data.Models;

/// <summary>What a model minimised, as its row records it.</summary>
/// <param name="Objective"><see cref="SquaredError"/> or <see cref="OneClass"/>.</param>
/// <param name="WeightedLambda">Whether the regularisation grew with each person's and item's number of entries (weighted-λ).</param>
public sealed record ModelLoss(string Objective, bool WeightedLambda)
{
    /// <summary>Squared error on the observed ratings (<see cref="LossFunction.SquareLossRegression"/>, SGD).</summary>
    public const string SquaredError = "squared-error";

    /// <summary>Weighted squared error over every person and item, on activity or ratings of 7 or more as positives (<see cref="LossFunction.SquareLossOneClass"/>, ALS).</summary>
    public const string OneClass = "one-class";

    /// <summary>The loss the trainer minimises with <paramref name="options"/>.</summary>
    public static ModelLoss Of(MatrixFactorizationOptions options) => new(options.LossFunction switch
    {
        LossFunction.SquareLossRegression => SquaredError,
        LossFunction.SquareLossOneClass => OneClass,
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.LossFunction, "Unknown LossFunction."),
    }, options.FrequencyScaledRegularization);

    /// <summary>In plain words, for admins: "squared error on ratings, weighted λ".</summary>
    public string Describe() =>
        (Objective == OneClass ? "one-class loss on what people liked or did" : "squared error on ratings") + (WeightedLambda ? ", weighted λ" : "");
}
