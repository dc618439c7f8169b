namespace Recommender.Factorization.Tests;

/// <summary>Planted low-rank data.</summary>
internal static class TestData
{
    /// <summary>
    /// Ratings = 3 + u·v + noise on a random subset of cells, with u, v ~ N(0, 1/√rank) so the signal has unit scale.
    /// Returns the data and the noise-free value of every cell (users × items, row-major).
    /// </summary>
    public static (TrainingData Data, float[] Truth) Planted(int users, int items, int rank, double density, double noise, int seed = 1)
    {
        var random = new Random(seed);
        var u = Gaussian(random, users * rank, 1 / Math.Sqrt(Math.Sqrt(rank)));
        var v = Gaussian(random, items * rank, 1 / Math.Sqrt(Math.Sqrt(rank)));
        var truth = new float[users * items];
        for (var a = 0; a < users; a++)
        {
            for (var b = 0; b < items; b++)
            {
                double s = 3;
                for (var d = 0; d < rank; d++)
                    s += u[a * rank + d] * v[b * rank + d];
                truth[a * items + b] = (float)s;
            }
        }
        var userIds = new List<long>();
        var itemIds = new List<long>();
        var values = new List<float>();
        for (var a = 0; a < users; a++)
        {
            for (var b = 0; b < items; b++)
            {
                if (random.NextDouble() >= density)
                    continue;
                userIds.Add(1000 + a);
                itemIds.Add(5000 + b);
                values.Add(truth[a * items + b] + (float)(noise * NextGaussian(random)));
            }
        }
        return (TrainingData.FromIds([.. userIds], [.. itemIds], [.. values]), truth);
    }

    /// <summary>Implicit positives: each user likes the items with the highest planted affinity plus a few random ones.</summary>
    public static TrainingData PlantedImplicit(int users, int items, int rank, int perUser, int seed = 2)
    {
        var random = new Random(seed);
        var u = Gaussian(random, users * rank, 1);
        var v = Gaussian(random, items * rank, 1);
        var userIds = new List<long>();
        var itemIds = new List<long>();
        var scores = new double[items];
        for (var a = 0; a < users; a++)
        {
            for (var b = 0; b < items; b++)
            {
                double s = 0;
                for (var d = 0; d < rank; d++)
                    s += u[a * rank + d] * v[b * rank + d];
                scores[b] = s + NextGaussian(random);
            }
            var order = Enumerable.Range(0, items).OrderByDescending(b => scores[b]).Take(perUser);
            foreach (var b in order)
            {
                userIds.Add(a);
                itemIds.Add(b);
            }
        }
        var values = Enumerable.Repeat(1f, userIds.Count).ToArray();
        return TrainingData.FromIds([.. userIds], [.. itemIds], values);
    }

    public static float Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var d = 0; d < a.Length; d++)
        {
            dot += a[d] * b[d];
            na += a[d] * a[d];
            nb += b[d] * b[d];
        }
        return (float)(dot / Math.Sqrt(na * nb));
    }

    private static double[] Gaussian(Random random, int count, double scale)
    {
        var values = new double[count];
        for (var j = 0; j < count; j++)
            values[j] = NextGaussian(random) * scale;
        return values;
    }

    private static double NextGaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}

/// <summary>Records reports synchronously (Progress&lt;T&gt; posts them later on the thread pool).</summary>
internal sealed class RecordingProgress : IProgress<TrainingProgress>
{
    public List<TrainingProgress> Reports { get; } = [];

    public void Report(TrainingProgress value) => Reports.Add(value);
}
