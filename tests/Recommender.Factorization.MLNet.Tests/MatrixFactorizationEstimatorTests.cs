using Microsoft.ML;
using Microsoft.ML.Data;

namespace Recommender.Factorization.MLNet.Tests;

public sealed class MatrixFactorizationEstimatorTests
{
    public sealed class Rating
    {
        public string UserId { get; set; } = "";
        public string ItemId { get; set; } = "";
        public float Label { get; set; }
    }

    public sealed class Prediction
    {
        public float Score { get; set; }
    }

    [Fact]
    public void Fit_in_pipeline_with_key_mapping_recovers_planted_ratings()
    {
        var context = new MLContext(seed: 1);
        var ratings = Planted(users: 300, items: 200, rank: 4, density: 0.25, noise: 0.1);
        var split = context.Data.TrainTestSplit(context.Data.LoadFromEnumerable(ratings), testFraction: 0.2, seed: 1);
        var pipeline = context.Transforms.Conversion.MapValueToKey("UserKey", nameof(Rating.UserId))
            .Append(context.Transforms.Conversion.MapValueToKey("ItemKey", nameof(Rating.ItemId)))
            .Append(context.RecommenderMatrixFactorization(new MatrixFactorizationEstimatorOptions
            {
                MatrixColumnIndexColumnName = "UserKey",
                MatrixRowIndexColumnName = "ItemKey",
                LabelColumnName = nameof(Rating.Label),
                ApproximationRank = 8,
                NumberOfIterations = 40,
                Lambda = 0.01,
                NumberOfThreads = 1,
            }));

        var model = pipeline.Fit(split.TrainSet);
        var scored = model.Transform(split.TestSet);
        var metrics = context.Regression.Evaluate(scored, labelColumnName: nameof(Rating.Label), scoreColumnName: "Score");

        var labels = ratings.Select(r => (double)r.Label).ToArray();
        var mean = labels.Average();
        var std = Math.Sqrt(labels.Sum(l => (l - mean) * (l - mean)) / labels.Length);
        Assert.True(metrics.RootMeanSquaredError < 0.5 * std, $"test RMSE {metrics.RootMeanSquaredError:F3}, label std-dev {std:F3}");

        // The transformer is a row-to-row mapper, so ML.NET's prediction engine works on the whole chain.
        var engine = context.Model.CreatePredictionEngine<Rating, Prediction>(model);
        var first = ratings[0];
        Assert.True(float.IsFinite(engine.Predict(first).Score));

        // ML.NET's own format is closed to outside components; the key mappings save there, the factorisation beside it.
        var factorization = model.LastTransformer;
        using var mlnetFile = new MemoryStream();
        Assert.ThrowsAny<Exception>(() => context.Model.Save(model, split.TrainSet.Schema, mlnetFile));
        using var file = new MemoryStream();
        factorization.SaveTo(file);
        file.Position = 0;
        var loaded = MatrixFactorizationTransformer.LoadFrom(context, file);
        // The reloaded transformer's Score column hides the original one of the same name.
        Assert.Equal(Scores(scored), Scores(loaded.Transform(scored)));
    }

    private static float[] Scores(IDataView view) => [.. view.GetColumn<float>("Score")];

    private static List<Rating> Planted(int users, int items, int rank, double density, double noise)
    {
        var random = new Random(7);
        var scale = 1 / Math.Sqrt(Math.Sqrt(rank));
        var u = Enumerable.Range(0, users * rank).Select(_ => Gaussian(random) * scale).ToArray();
        var v = Enumerable.Range(0, items * rank).Select(_ => Gaussian(random) * scale).ToArray();
        var ratings = new List<Rating>();
        for (var a = 0; a < users; a++)
        {
            for (var b = 0; b < items; b++)
            {
                if (random.NextDouble() >= density)
                    continue;
                var s = 3.0;
                for (var d = 0; d < rank; d++)
                    s += u[a * rank + d] * v[b * rank + d];
                ratings.Add(new Rating { UserId = $"u{a}", ItemId = $"i{b}", Label = (float)(s + noise * Gaussian(random)) });
            }
        }
        return ratings;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
