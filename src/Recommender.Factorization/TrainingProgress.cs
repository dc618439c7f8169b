namespace Recommender.Factorization;

/// <summary>Reported after each iteration.</summary>
/// <param name="Iteration">1-based iteration just finished.</param>
/// <param name="TotalIterations">Iterations requested.</param>
/// <param name="Loss">
/// Ratings: training RMSE in rating units, measured during the pass (as LIBMF's tr_rmse).
/// One-class: the full weighted objective (every cell, plus regularisation) divided by the number of positives.
/// </param>
/// <param name="Elapsed">Time since training started, data preparation included.</param>
/// <param name="ValidationRmse">Ratings trained with a validation set: its RMSE after this iteration; otherwise null.</param>
public readonly record struct TrainingProgress(int Iteration, int TotalIterations, double Loss, TimeSpan Elapsed, double? ValidationRmse = null);

/// <summary>An item and its score, as returned by top-k queries.</summary>
public readonly record struct ScoredItem(int ItemIndex, float Score);

/// <summary>A user's vector and bias, from training or from <see cref="MatrixFactorizationModel.FoldIn(ReadOnlySpan{int}, ReadOnlySpan{float})"/>.</summary>
/// <param name="Vector">Length <see cref="MatrixFactorizationModel.Rank"/>.</param>
/// <param name="Bias">User bias (0 for one-class models).</param>
public sealed record UserEmbedding(float[] Vector, float Bias);
