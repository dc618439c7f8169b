using Recommender.Testing;

namespace Recommender.Factorization.Tests;

public sealed class RatingTableTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ratings-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Load_csvWithHeader_readsEveryRowWithIds()
    {
        var path = Write("ratings.csv", "user_id,item_id,rating,timestamp\n10,200,4,1600000000\r\n11,200,3.5,1600000001\n10,201,5,1600000002");

        var table = RatingTable.Load(_dir);

        Assert.Equal(3, table.Count);
        Assert.Equal([10L, 11L, 10L], Enumerable.Range(0, 3).Select(table.UserId));
        Assert.Equal([200L, 200L, 201L], Enumerable.Range(0, 3).Select(table.ItemId));
        Assert.Equal([4f, 3.5f, 5f], table.Values[..3]);
        Assert.Equal(1600000002, table.Timestamps[2]);
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void Load_datWithLeadingZeroItemIds_parsesThemAsNumbers()
    {
        Write("ratings.dat", "1::0114508::8::1381006850\n2::0068646::10::1376753198\n");

        var table = RatingTable.Load(Path.Combine(_dir, "ratings.dat"));

        Assert.Equal([114508L, 68646L], Enumerable.Range(0, 2).Select(table.ItemId));
        Assert.Equal([8f, 10f], table.Values[..2]);
    }

    [Theory]
    [InlineData("10,200,four,1600000001", "rating")]
    [InlineData("10,200,4", "4 fields")]
    [InlineData("10,x,4,1600000001", "item_id")]
    [InlineData("10,200,4,1600000001,7", "more than 4 fields")]
    public void Load_badRow_reportsFileAndLine(string badRow, string complaint)
    {
        var path = Write("ratings.csv", $"user_id,item_id,rating,timestamp\n1,2,3,4\n{badRow}\n5,6,7,8\n");

        var error = Assert.Throws<InvalidDataException>(() => RatingTable.Load(path));

        Assert.StartsWith($"{path}:3:", error.Message, StringComparison.Ordinal);
        Assert.Contains(complaint, error.Message, StringComparison.Ordinal);
    }

    [SharedDataFact(SharedDataSet.MovieTweetings)]
    public void Split_movieTweetings100k_gives90000TrainAnd6578Test()
    {
        var table = RatingTable.Load(RepositoryPaths.MovieTweetings);

        var split = TemporalSplit.Split(table);

        Assert.Equal(90_000, split.Train.Count);
        Assert.Equal(6_578, split.Test.Count);
        Assert.Equal(10_000 - 6_578, split.DroppedTestRows);
        Assert.True(table.IsConsumed);
    }

    [Fact]
    public void Split_outOfOrderRows_sortsByTimeThenUserThenItem()
    {
        // 10 rows, so 9 train and 1 test: the latest row, with ties on time broken by user id then item id.
        var rows = new[] { "3,1,5,100", "1,2,4,100", "2,1,3,50", "1,1,2,100", "2,2,1,40", "9,1,1,100", "1,3,1,10", "2,3,2,20", "3,2,2,30", "3,3,4,60" };
        var path = Write("ratings.csv", string.Join('\n', rows));

        var split = TemporalSplit.Split(RatingTable.Load(path));

        Assert.Equal(9, split.Train.Count);
        Assert.Equal(0, split.Test.Count);
        Assert.Equal(1, split.DroppedTestRows); // user 9 at t=100 is last and never seen in train
        Assert.False(split.Train.Users.TryGetIndex(9, out _));
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }
}
