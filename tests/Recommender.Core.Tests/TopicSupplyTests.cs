namespace Recommender.Core.Tests;

public sealed class TopicSupplyTests
{
    private static readonly IReadOnlyList<long> FilmNoir = TestWorld.Catalog.ItemsInTopic("film-noir");

    private static UserState Reader(double skill, long[] read, long[] dismissed) => new(
        TestWorld.KnownUser,
        [
            .. read.Select((id, n) => new Interaction(TestWorld.KnownUser, id, EventKind.Complete, 1, TestWorld.Now.AddDays(-10 + n))),
            .. dismissed.Select(id => new Interaction(TestWorld.KnownUser, id, EventKind.NotInterested, 1, TestWorld.Now.AddDays(-1))),
        ],
        new Dictionary<string, TopicSkill> { ["film-noir"] = new("film-noir", skill, 50) });

    [Fact]
    public void Of_countsWhatRulesEachItemOut_inTheOrderAGoalRulesThemOut()
    {
        var (read, dismissed) = (FilmNoir.Take(3).ToArray(), FilmNoir.Skip(3).Take(1).ToArray());
        var lowCredibility = FilmNoir.Skip(4).Count(id => TestWorld.Catalog[id].Credibility < 0.4);
        Assert.True(lowCredibility > 0, "the test world has low-credibility physics items");

        var expert = TopicSupply.Of(TestWorld.Catalog, Reader(4000, read, dismissed), "film-noir", 0.4, 0.92);
        var beginner = TopicSupply.Of(TestWorld.Catalog, Reader(-2000, read, dismissed), "film-noir", 0.4, 0.92);
        var noMastery = TopicSupply.Of(TestWorld.Catalog, Reader(4000, read, dismissed), "film-noir", 0.4, null);

        Assert.Equal(FilmNoir.Count, expert.Total);
        Assert.Equal(4, expert.Read);
        Assert.Equal(lowCredibility, expert.BelowFloor);
        // Far above every item's difficulty: all the rest mastered; far below: all the rest above the reader's level.
        Assert.Equal((FilmNoir.Count - 4 - lowCredibility, 0, 0), (expert.Mastered, expert.AboveLevel, expert.AtLevel));
        Assert.Equal((0, FilmNoir.Count - 4 - lowCredibility, 0), (beginner.Mastered, beginner.AboveLevel, beginner.AtLevel));
        // A goal that sets nothing aside as mastered: the same items are at the reader's level.
        Assert.Equal((0, 0, FilmNoir.Count - 4 - lowCredibility), (noMastery.Mastered, noMastery.AboveLevel, noMastery.AtLevel));
    }
}
