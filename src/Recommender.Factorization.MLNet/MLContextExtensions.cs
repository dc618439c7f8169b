using Microsoft.ML;

namespace Recommender.Factorization.MLNet;

/// <summary>Entry point beside ML.NET's catalogs: <c>mlContext.RecommenderMatrixFactorization(options)</c>.</summary>
public static class MLContextExtensions
{
    public static MatrixFactorizationEstimator RecommenderMatrixFactorization(this MLContext context, MatrixFactorizationEstimatorOptions options) =>
        new(context, options);
}
