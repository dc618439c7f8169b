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
        Assert.Equal([4f, 3.5f, 5f], Enumerable.Range(0, 3).Select(table.Value));
        Assert.Equal(1600000002, table.Timestamp(2));
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void Load_datWithLeadingZeroItemIds_parsesThemAsNumbers()
    {
        Write("ratings.dat", "1::0114508::8::1381006850\n2::0068646::10::1376753198\n");

        var table = RatingTable.Load(Path.Combine(_dir, "ratings.dat"));

        Assert.Equal([114508L, 68646L], Enumerable.Range(0, 2).Select(table.ItemId));
        Assert.Equal([8f, 10f], Enumerable.Range(0, 2).Select(table.Value));
    }

    [Theory]
    [InlineData("10,200,four,1600000001", "rating")]
    [InlineData("10,200,4", "4 fields")]
    [InlineData("10,x,4,1600000001", "item_id")]
    [InlineData("10,200,4,1600000001,7", "more than 4 fields")]
    [InlineData("10,200,99,1600000001", "rating 99 is outside 0..10")]
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

    [Fact]
    public void Load_moreDistinctValuesThanCodesAndTimesFarApart_keepsEveryRowExact()
    {
        // 300 distinct ratings are more than one-byte codes hold, and one millisecond timestamp lies more than 2³¹ from
        // the first row: both columns widen part-way through the file and must keep the rows read before.
        var rows = Enumerable.Range(0, 300).Select(j => (Rating: (1 + j / 100.0).ToString(System.Globalization.CultureInfo.InvariantCulture), Time: j == 150 ? 1_600_000_000_000L : 1_600_000_000L - j)).ToArray();
        var path = Write("ratings.csv", string.Join('\n', rows.Select((r, j) => $"{j},{j % 7},{r.Rating},{r.Time}")));

        var table = RatingTable.Load(path);

        Assert.Equal(rows.Select(r => float.Parse(r.Rating, System.Globalization.CultureInfo.InvariantCulture)), Enumerable.Range(0, 300).Select(table.Value));
        Assert.Equal(rows.Select(r => r.Time), Enumerable.Range(0, 300).Select(table.Timestamp));
        var split = TemporalSplit.Split(table, 0.99);
        // The latest rows (the millisecond one, then the latest in seconds) are the ones cut off; their users are unseen, so dropped.
        Assert.Equal(3, split.DroppedTestRows);
        Assert.False(split.Train.Users.TryGetIndex(150, out _));
        Assert.False(split.Train.Users.TryGetIndex(0, out _));
        Assert.True(split.Train.Users.TryGetIndex(3, out _));
    }

    [Fact]
    public void Split_ratingsKeptAsCodes_trainAndTestKeepEachRowsRating()
    {
        long[] users = [1, 2, 3, 1, 2, 3, 1, 2, 3, 1];
        long[] items = [10, 10, 10, 11, 11, 11, 12, 12, 12, 13];
        float[] values = [1, 2.5f, 5, 4, 1, 2.5f, 5, 3, 4, 2];
        long[] times = [9, 1, 8, 2, 7, 3, 6, 4, 5, 0];
        var rating = Enumerable.Range(0, 10).ToDictionary(j => (users[j], items[j]), j => values[j]);

        var split = TemporalSplit.Split(RatingTable.FromRows(users, items, values, times), 0.8);

        Assert.NotNull(split.Train.ValueColumn.Codes);
        Assert.NotNull(split.Test.ValueColumn.Codes);
        Assert.Equal(8, split.Train.Count);
        Assert.Equal(2, split.Test.Count);
        foreach (var data in new[] { split.Train, split.Test })
        {
            Assert.All(Enumerable.Range(0, data.Count), j =>
                Assert.Equal(rating[(data.Users.IdAt(data.UserIndices[j]), data.Items.IdAt(data.ItemIndices[j]))], data.Value(j)));
        }
        Assert.Equal([1f, 5f], split.Test.Values.Order());
    }

    [Fact]
    public void SplitWithNewcomers_trains_on_a_newcomers_earlier_half_and_leaves_everyone_elses_later_rows_held_out()
    {
        // 22 rows; at 0.6 the first 14 in time (t = 0–13, users 1 and 2 on items 10–23) are before the cut. After it,
        // user 3 (a newcomer) rates items 13, 12, 11, 10 at t = 14–17, user 4 (a newcomer) item 10 once, and the known
        // users 1 and 2 rate items nobody rated before.
        var rows = new List<(long User, long Item, long Time)>();
        for (var t = 0; t < 14; t++)
            rows.Add((1 + t % 2, 10 + t, t));
        rows.AddRange([(1, 30, 20), (1, 31, 21), (3, 13, 14), (3, 12, 15), (3, 11, 16), (3, 10, 17), (4, 10, 18), (2, 32, 19)]);
        RatingTable Table() => RatingTable.FromRows([.. rows.Select(r => r.User)], [.. rows.Select(r => r.Item)], [.. rows.Select(_ => 1f)], [.. rows.Select(r => r.Time)]);
        (long, long)[] Pairs(TrainingData d) => [.. Enumerable.Range(0, d.Count).Select(j => (d.Users.IdAt(d.UserIndices[j]), d.Items.IdAt(d.ItemIndices[j]))).Order()];

        var split = TemporalSplit.SplitWithNewcomers(Table(), 0.6);

        // User 3's earlier two rows train and the later two are held out; user 4's single row stays held out and is
        // dropped as an unseen person; users 1 and 2 keep their later rows held out (dropped: unseen items).
        Assert.Equal(16, split.Train.Count);
        Assert.Contains((3L, 13L), Pairs(split.Train));
        Assert.Contains((3L, 12L), Pairs(split.Train));
        Assert.DoesNotContain(Pairs(split.Train), p => p.Item1 is 4 || p.Item2 >= 30);
        Assert.Equal([(3L, 10L), (3L, 11L)], Pairs(split.Test));
        Assert.Equal(4, split.DroppedTestRows);
        // The plain cut measures nothing here: every held-out row is a newcomer's or on an unseen item.
        Assert.Equal(0, TemporalSplit.Split(Table(), 0.6).Test.Count);
        // The rows it would train on, with their times, are exactly the split's train rows.
        var front = TemporalSplit.EarlierWithNewcomers(Table(), 0.6);
        Assert.Equal(Pairs(split.Train), Enumerable.Range(0, front.Count).Select(j => (front.UserId(j), front.ItemId(j))).Order().ToArray());
        Assert.Equal(15, Enumerable.Range(0, front.Count).Max(front.Timestamp));
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }
}
