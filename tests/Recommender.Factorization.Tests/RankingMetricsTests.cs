namespace Recommender.Factorization.Tests;

public class RankingMetricsTests
{
    [Fact]
    public void NdcgAtK_hitsAtFirstAndThird_matchesHandComputedValue()
    {
        var relevant = new HashSet<int> { 7, 9 };

        var ndcg = RankingMetrics.NdcgAtK([7, 1, 9, 4], relevant, 3);

        var expected = (1 + 1 / Math.Log2(4)) / (1 + 1 / Math.Log2(3));
        Assert.Equal(expected, ndcg, 10);
    }

    [Fact]
    public void PairedStandardError_over_the_users_both_measured_matches_hand_computed_value()
    {
        // Gaps 0.4, 0 and 0.7 for users 1–3; user 4 has no score in the first ranking and is left out.
        var a = new Dictionary<int, double> { [1] = 0.5, [2] = 0.3, [3] = 0.9 };
        var b = new Dictionary<int, double> { [1] = 0.1, [2] = 0.3, [3] = 0.2, [4] = 0.7 };

        var error = RankingMetrics.PairedStandardError(a, b);

        var mean = 1.1 / 3;
        var variance = (Math.Pow(0.4 - mean, 2) + Math.Pow(0 - mean, 2) + Math.Pow(0.7 - mean, 2)) / 2;
        Assert.Equal(Math.Sqrt(variance / 3), error!.Value, 10);
        Assert.Null(RankingMetrics.PairedStandardError(new Dictionary<int, double> { [1] = 0.5 }, b));
    }

    [Fact]
    public void RecallAndAveragePrecision_oneOfTwoRelevantAtSecond_areHalfAndQuarter()
    {
        var relevant = new HashSet<int> { 5, 6 };

        Assert.Equal(0.5, RankingMetrics.RecallAtK([1, 5, 2], relevant, 3), 10);
        Assert.Equal(0.25, RankingMetrics.AveragePrecisionAtK([1, 5, 2], relevant, 3), 10);
    }

    [Fact]
    public void RmseAndMae_knownErrors_matchDefinitions()
    {
        float[] predicted = [1, 2, 3, 4];
        float[] actual = [2, 2, 1, 4];

        Assert.Equal(Math.Sqrt(5.0 / 4), RankingMetrics.Rmse(predicted, actual), 10);
        Assert.Equal(0.75, RankingMetrics.Mae(predicted, actual), 10);
    }

    [Fact]
    public void CatalogCoverage_twoListsOverlapping_countsDistinctItems()
    {
        var coverage = RankingMetrics.CatalogCoverage([[1, 2, 3], [3, 4]], 10);

        Assert.Equal(0.4, coverage, 10);
    }
}
