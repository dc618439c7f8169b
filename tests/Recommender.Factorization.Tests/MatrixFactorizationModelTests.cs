namespace Recommender.Factorization.Tests;

public class MatrixFactorizationModelTests
{
    private static readonly Lazy<(MatrixFactorizationModel Model, TrainingData Data)> Ratings = new(() =>
    {
        var data = TestData.Planted(300, 200, 4, 0.3, 0.1).Data;
        var model = new MatrixFactorizationTrainer(new() { ApproximationRank = 12, NumberOfIterations = 40, Lambda = 0.05, NumberOfThreads = 1 }).Fit(data);
        return (model, data);
    });

    private static readonly Lazy<(MatrixFactorizationModel Model, TrainingData Data)> OneClass = new(() =>
    {
        var data = TestData.PlantedImplicit(300, 200, 4, 20);
        var model = new MatrixFactorizationTrainer(new()
        {
            ApproximationRank = 10,
            NumberOfIterations = 15,
            LossFunction = LossFunction.SquareLossOneClass,
            NumberOfThreads = 1,
        }).Fit(data);
        return (model, data);
    });

    [Theory]
    [InlineData(LossFunction.SquareLossRegression)]
    [InlineData(LossFunction.SquareLossOneClass)]
    public void FoldIn_trainingUsersOwnInteractions_landsNearTrainedVector(LossFunction loss)
    {
        var (model, data) = loss == LossFunction.SquareLossRegression ? Ratings.Value : OneClass.Value;
        var worst = 1f;
        for (var u = 0; u < 50; u++)
        {
            var rows = Enumerable.Range(0, data.Count).Where(j => data.UserIndices[j] == u).ToArray();
            var folded = model.FoldIn(rows.Select(j => data.ItemIndices[j]).ToArray(), rows.Select(j => data.Values[j]).ToArray());
            worst = Math.Min(worst, TestData.Cosine(folded.Vector, model.UserVector(u)));
        }
        Assert.True(worst >= 0.9f, $"Lowest cosine between folded-in and trained user vectors: {worst:F3}.");
    }

    [Fact]
    public void FoldInIds_unknownItem_isSkipped()
    {
        var (model, _) = Ratings.Value;
        var known = model.FoldIn([0, 1], [4, 2]);

        var byId = model.FoldInIds([model.ItemId(0), -99, model.ItemId(1)], [4, 5, 2]);

        Assert.Equal(known.Vector, byId.Vector);
        Assert.Equal(known.Bias, byId.Bias);
    }

    [Fact]
    public void ScoreAll_trainedUser_matchesScoreAndVectorOverload()
    {
        var (model, _) = Ratings.Value;
        var scores = new float[model.ItemCount];
        var fromVector = new float[model.ItemCount];
        model.ScoreAll(3, scores);
        model.ScoreAll(model.UserVector(3), model.UserBias(3), fromVector);

        for (var i = 0; i < model.ItemCount; i++)
        {
            Assert.Equal(model.Score(3, i), scores[i], 4);
            Assert.Equal(scores[i], fromVector[i], 5);
            Assert.Equal(model.Score(model.UserVector(3), model.UserBias(3), i), scores[i], 4);
        }
    }

    [Fact]
    public void TopK_withExclusions_returnsBestRemainingInOrder()
    {
        var (model, _) = Ratings.Value;
        var scores = new float[model.ItemCount];
        model.ScoreAll(5, scores);
        var exclude = Enumerable.Range(0, model.ItemCount).OrderByDescending(i => scores[i]).Take(3).ToArray();

        var top = model.TopK(5, 10, exclude);

        var expected = Enumerable.Range(0, model.ItemCount).Except(exclude).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(10);
        Assert.Equal(expected, top.Select(t => t.ItemIndex));
        Assert.Equal(top.Select(t => t.ItemIndex), model.TopK(model.UserVector(5), model.UserBias(5), 10, exclude).Select(t => t.ItemIndex));
    }

    [Theory]
    [InlineData(16, LossFunction.SquareLossRegression)]
    [InlineData(64, LossFunction.SquareLossRegression)]
    [InlineData(24, LossFunction.SquareLossOneClass)]
    public void TopK_largeCatalog_eightBitScreenFindsExactlyTheFloatTopK(int rank, LossFunction loss)
    {
        // 6,000 items is past the size where TopK screens with 8-bit factors instead of scoring every item in floats.
        var random = new Random(rank);
        var rows = Enumerable.Range(0, 60_000).Select(_ => (random.Next(300), random.Next(6_000), (float)random.Next(1, 6))).Distinct().ToArray();
        var data = TrainingData.FromIds([.. rows.Select(r => (long)r.Item1)], [.. rows.Select(r => (long)r.Item2)], [.. rows.Select(r => r.Item3)]);
        var model = new MatrixFactorizationTrainer(new() { ApproximationRank = rank, NumberOfIterations = 3, LossFunction = loss, NumberOfThreads = 1 }).Fit(data);
        Assert.True(model.ItemCount > 4_000);
        var scores = new float[model.ItemCount];
        foreach (var user in new[] { 0, 17, 123, 299 })
        {
            model.ScoreAll(user, scores);
            var exclude = Enumerable.Range(0, model.ItemCount).OrderByDescending(i => scores[i]).Where((_, i) => i % 3 == 0).Take(40).ToArray();
            foreach (var k in new[] { 1, 20, 500 })
            {
                var top = model.TopK(user, k, exclude);

                var expected = Enumerable.Range(0, model.ItemCount).Except(exclude).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(k).ToArray();
                Assert.Equal(expected, top.Select(t => t.ItemIndex));
                Assert.All(top, t => Assert.Equal(scores[t.ItemIndex], t.Score, 3));
            }
        }
    }

    [Fact]
    public void ItemSimilarity_itemWithItself_isOneAndSimilarItemsExcludesIt()
    {
        var (model, _) = Ratings.Value;

        Assert.Equal(1f, model.ItemSimilarity(7, 7), 4);
        var similar = model.SimilarItems(7, 5);
        Assert.DoesNotContain(similar, s => s.ItemIndex == 7);
        Assert.Equal(model.ItemSimilarity(7, similar[0].ItemIndex), similar[0].Score, 4);
        Assert.True(similar.Zip(similar.Skip(1)).All(p => p.First.Score >= p.Second.Score));
    }

    [Theory]
    [InlineData(LossFunction.SquareLossRegression)]
    [InlineData(LossFunction.SquareLossOneClass)]
    public void SaveLoad_roundTrip_isExact(LossFunction loss)
    {
        var (model, _) = loss == LossFunction.SquareLossRegression ? Ratings.Value : OneClass.Value;
        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;

        var loaded = MatrixFactorizationModel.Load(stream);

        Assert.Equal(model.Rank, loaded.Rank);
        Assert.Equal(model.LossFunction, loaded.LossFunction);
        Assert.Equal(model.GlobalMean, loaded.GlobalMean);
        Assert.Equal(model.Options.Lambda, loaded.Options.Lambda);
        Assert.Equal(model.Options.Alpha, loaded.Options.Alpha);
        for (var u = 0; u < model.UserCount; u++)
        {
            Assert.Equal(model.UserId(u), loaded.UserId(u));
            Assert.True(model.UserVector(u).SequenceEqual(loaded.UserVector(u)));
            Assert.Equal(model.UserBias(u), loaded.UserBias(u));
        }
        for (var i = 0; i < model.ItemCount; i++)
        {
            Assert.Equal(model.ItemIndex(model.ItemId(i)), loaded.ItemIndex(model.ItemId(i)));
            Assert.True(model.ItemVector(i).SequenceEqual(loaded.ItemVector(i)));
            Assert.Equal(model.ItemBias(i), loaded.ItemBias(i));
        }
        Assert.Equal(model.FoldIn([1, 2], [1, 1]).Vector, loaded.FoldIn([1, 2], [1, 1]).Vector);
    }

    [Fact]
    public void Load_truncatedFile_throwsInvalidDataException()
    {
        var bytes = Saved();

        foreach (var length in new[] { 0, 6, 40, bytes.Length / 2, bytes.Length - 1 })
        {
            var error = Assert.Throws<InvalidDataException>(() => MatrixFactorizationModel.Load(new MemoryStream(bytes[..length])));
            Assert.Matches("truncated|magic", error.Message);
        }
    }

    [Fact]
    public void Load_flippedByte_throwsInvalidDataExceptionOnChecksum()
    {
        var bytes = Saved();
        bytes[bytes.Length / 2] ^= 0x10;

        var error = Assert.Throws<InvalidDataException>(() => MatrixFactorizationModel.Load(new MemoryStream(bytes)));
        Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_otherFormatVersion_throwsInvalidDataExceptionNamingVersion()
    {
        var bytes = Saved();
        bytes[4] = 99;

        var error = Assert.Throws<InvalidDataException>(() => MatrixFactorizationModel.Load(new MemoryStream(bytes)));
        Assert.Contains("version 99", error.Message, StringComparison.Ordinal);
    }

    private static byte[] Saved()
    {
        using var stream = new MemoryStream();
        Ratings.Value.Model.Save(stream);
        return stream.ToArray();
    }
}
