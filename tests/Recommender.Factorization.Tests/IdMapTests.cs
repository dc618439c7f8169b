namespace Recommender.Factorization.Tests;

public class IdMapTests
{
    [Fact]
    public void GetOrAdd_smallLargeAndNegativeIds_giveDenseIndicesInFirstSeenOrder()
    {
        var map = new IdMap();
        long[] ids = [5, 10_000_000_000, -3, 5, 4_194_303, 4_194_304, -3, 0];

        var indices = ids.Select(map.GetOrAdd).ToArray();

        Assert.Equal([0, 1, 2, 0, 3, 4, 2, 5], indices);
        Assert.Equal(6, map.Count);
        Assert.Equal(10_000_000_000, map.IdAt(1));
        Assert.True(map.TryGetIndex(4_194_304, out var index) && index == 4);
        Assert.False(map.TryGetIndex(6, out _));
        Assert.False(map.TryGetIndex(-4, out _));
        Assert.Throws<KeyNotFoundException>(() => map.IndexOf(7));
    }

    [Fact]
    public void FromIds_duplicate_throwsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => IdMap.FromIds([1, 2, 1]));
    }
}
