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
