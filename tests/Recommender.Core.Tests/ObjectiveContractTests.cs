namespace Recommender.Core.Tests;

/// <summary>
/// The contract every objective must pass, built-in or plug-in. Derive, return the objective from
/// <see cref="CreateObjective"/>, and every fact below runs against it.
/// </summary>
public abstract class ObjectiveContractTests
{
    protected abstract IObjective CreateObjective();

    private static UserState Reader => TestWorld.UserWithHistory(TestWorld.KnownUser, 6, 12, 18, 24, 30);

    [Fact]
    public void Rank_enoughCandidates_returnsExactlyK()
    {
        var ranked = CreateObjective().Rank(TestWorld.Request(Reader, k: 10));

        Assert.Equal(10, ranked.Count);
    }

    [Fact]
    public void Rank_kLargerThanCandidates_returnsAtMostCandidates()
    {
        var candidates = TestWorld.Candidates(Reader).Where(c => c.ItemId is 1 or 2 or 3).ToList();

        var ranked = CreateObjective().Rank(TestWorld.Request(Reader, k: 10, candidates: candidates));

        Assert.InRange(ranked.Count, 0, 3);
        Assert.All(ranked, r => Assert.Contains(r.ItemId, new long[] { 1, 2, 3 }));
    }

    [Fact]
    public void Rank_duplicateCandidates_returnsNoDuplicates()
    {
        var candidates = TestWorld.Candidates(Reader);
        candidates.AddRange(candidates.Take(20));

        var ranked = CreateObjective().Rank(TestWorld.Request(Reader, k: 30, candidates: candidates));

        Assert.Equal(ranked.Count, ranked.Select(r => r.ItemId).Distinct().Count());
    }

    [Fact]
    public void Rank_consumedAndDismissedItems_neverReturned()
    {
        // Exclude the items the objective would otherwise put first, so the test can fail.
        var unrestricted = CreateObjective().Rank(TestWorld.Request(Reader, k: 10, exclusions: new HashSet<long>()));
        var excluded = new HashSet<long>(unrestricted.Select(r => r.ItemId));

        var ranked = CreateObjective().Rank(TestWorld.Request(Reader, k: 10, exclusions: excluded));

        Assert.NotEmpty(ranked);
        Assert.DoesNotContain(ranked, r => excluded.Contains(r.ItemId));
    }

    [Fact]
    public void Rank_credibilityFloorSet_returnsNothingBelowFloor()
    {
        var parameters = ObjectiveParameters.Empty.With("credibility_floor", 0.65);

        var ranked = CreateObjective().Rank(TestWorld.Request(Reader, parameters, k: 20));

        Assert.NotEmpty(ranked);
        Assert.All(ranked, r => Assert.True(TestWorld.Catalog[r.ItemId].Credibility >= 0.65, $"item {r.ItemId} is below the floor"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(10)]
    [InlineData(25)]
    public void Rank_pagedLikeAFeed_continuesOneRankingWithoutRepeats(int pageSize)
    {
        // A feed's next page ranks offset + size items and skips the offset, so a longer list must start with the shorter.
        const int depth = 75;
        var whole = CreateObjective().Rank(TestWorld.Request(Reader, k: depth)).Select(r => r.ItemId).ToList();
        var paged = new List<long>();
        for (var offset = 0; offset < depth; offset += pageSize)
        {
            paged.AddRange(CreateObjective().Rank(TestWorld.Request(Reader, k: offset + pageSize)).Skip(offset).Select(r => r.ItemId));
        }

        Assert.Equal(paged.Count, paged.Distinct().Count());
        Assert.Equal(whole, paged.Take(depth));
    }

    [Fact]
    public void Rank_sameSeed_returnsSameList()
    {
        var first = CreateObjective().Rank(TestWorld.Request(Reader, seed: 11));
        var second = CreateObjective().Rank(TestWorld.Request(Reader, seed: 11));

        Assert.Equal(first.Select(r => (r.ItemId, r.Score)), second.Select(r => (r.ItemId, r.Score)));
    }

    [Fact]
    public void Rank_shuffledCandidates_returnsSameList()
    {
        var candidates = TestWorld.Candidates(Reader);
        var shuffled = candidates.OrderBy(c => (c.ItemId * 7919) % 101).ToList();

        var first = CreateObjective().Rank(TestWorld.Request(Reader, candidates: candidates));
        var second = CreateObjective().Rank(TestWorld.Request(Reader, candidates: shuffled));

        Assert.Equal(first.Select(r => r.ItemId), second.Select(r => r.ItemId));
    }

    [Fact]
    public void Rank_anyItem_hasOneOrTwoReasons()
    {
        var ranked = CreateObjective().Rank(TestWorld.Request(Reader, k: 20));

        Assert.NotEmpty(ranked);
        Assert.All(ranked, r =>
        {
            // Reasons about the item and about its place in the list are shown together.
            var shown = r.Reasons.Concat(r.ListReasons).ToList();
            Assert.InRange(shown.Count, 1, 2);
            Assert.All(shown, reason => Assert.False(string.IsNullOrWhiteSpace(reason)));
        });
    }

    [Fact]
    public void Rank_anyItem_hasFiniteScoreAndComponents()
    {
        var ranked = CreateObjective().Rank(TestWorld.Request(Reader, k: 20));

        Assert.All(ranked, r =>
        {
            Assert.True(double.IsFinite(r.Score));
            Assert.NotEmpty(r.Components);
            Assert.All(r.Components.Values, v => Assert.True(double.IsFinite(v)));
        });
    }

    [Fact]
    public void Rank_emptyHistoryUnknownUser_returnsK()
    {
        var newcomer = UserState.FromHistory(999, []);

        var ranked = CreateObjective().Rank(TestWorld.Request(newcomer, k: 10));

        Assert.Equal(10, ranked.Count);
    }

    [Fact]
    public void Rank_noCandidates_returnsEmpty()
    {
        var ranked = CreateObjective().Rank(TestWorld.Request(Reader, candidates: []));

        Assert.Empty(ranked);
    }

    [Fact]
    public void Validate_defaults_returnsNoErrors()
    {
        var objective = CreateObjective();
        var defaults = objective.Schema.Resolve(ObjectiveParameters.Empty);

        Assert.Empty(objective.Validate(defaults));
        Assert.Empty(objective.Validate(ObjectiveParameters.Empty));
    }

    [Fact]
    public void Validate_numberAboveMax_returnsErrorNamingField()
    {
        var objective = CreateObjective();
        var bounded = objective.Schema.Parameters.First(p => p.Max is not null);

        var errors = objective.Validate(ObjectiveParameters.Empty.With(bounded.Name, bounded.Max!.Value + 1));

        Assert.Contains(errors, e => e.Field == bounded.Name);
    }

    [Fact]
    public void Describe_always_hasIdVersionNameAndPlainDescription()
    {
        var objective = CreateObjective();

        Assert.Matches("^[a-z][a-z0-9_]*$", objective.Id);
        Assert.False(string.IsNullOrWhiteSpace(objective.Version));
        Assert.False(string.IsNullOrWhiteSpace(objective.DisplayName));
        Assert.True(objective.Description.Length >= 20, "a description should tell the user what the objective does");
        Assert.All(objective.Schema.Parameters, p => Assert.False(string.IsNullOrWhiteSpace(p.Description)));
    }
}
