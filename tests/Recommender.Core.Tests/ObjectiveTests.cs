using Recommender.Core.Objectives;
using Recommender.Core.Ranking;
using Recommender.Objectives.Fresh;

namespace Recommender.Core.Tests;

public sealed class EngagementObjectiveTests : ObjectiveContractTests
{
    protected override IObjective CreateObjective() => new EngagementObjective();

    [Fact]
    public void Rank_knownUser_ordersByModelRelevance()
    {
        var request = TestWorld.Request(TestWorld.UserWithHistory(TestWorld.KnownUser), ObjectiveParameters.Empty.With("popularity_weight", 0.0));

        var ranked = new EngagementObjective().Rank(request);

        var expected = request.Candidates.OrderByDescending(c => c.Relevance).Take(10).Select(c => c.ItemId);
        Assert.Equal(expected, ranked.Select(r => r.ItemId));
    }

    [Fact]
    public void Rank_popularityWeight_movesPopularItemsUp()
    {
        var user = TestWorld.UserWithHistory(TestWorld.KnownUser);
        var modelOnly = new EngagementObjective().Rank(TestWorld.Request(user, ObjectiveParameters.Empty.With("popularity_weight", 0.0)));
        var withPrior = new EngagementObjective().Rank(TestWorld.Request(user, ObjectiveParameters.Empty.With("popularity_weight", 3.0)));

        Assert.True(withPrior.Average(r => TestWorld.Catalog.Popularity(r.ItemId)) > modelOnly.Average(r => TestWorld.Catalog.Popularity(r.ItemId)));
    }

    [Fact]
    public void Rank_priorShrinkage_favoursPopularForShortHistories()
    {
        var user = TestWorld.UserWithHistory(TestWorld.KnownUser, 6);
        var noShrink = new EngagementObjective().Rank(TestWorld.Request(user, ObjectiveParameters.Empty.With("popularity_weight", 0.2).With("prior_shrinkage", 0.0)));
        var shrink = new EngagementObjective().Rank(TestWorld.Request(user, ObjectiveParameters.Empty.With("popularity_weight", 0.2).With("prior_shrinkage", 50.0)));

        Assert.True(shrink.Average(r => TestWorld.Catalog.Popularity(r.ItemId)) > noShrink.Average(r => TestWorld.Catalog.Popularity(r.ItemId)));
    }

    [Fact]
    public void Rank_unknownUser_usesPopularityPrior()
    {
        var request = TestWorld.Request(UserState.FromHistory(999, []));

        var ranked = new EngagementObjective().Rank(request);

        // Equal popularity may tie in any seeded order, so compare popularity, not ids.
        Assert.Equal(TestWorld.Catalog.MostPopular.Take(10).Select(TestWorld.Catalog.Popularity), ranked.Select(r => TestWorld.Catalog.Popularity(r.ItemId)));
        Assert.All(ranked, r => Assert.Equal("Many people enjoyed this.", r.Reasons[0]));
    }
}

public sealed class LearningObjectiveTests : ObjectiveContractTests
{
    protected override IObjective CreateObjective() => new LearningObjective();

    private static UserState Learner(double skill) => new(5, [], new Dictionary<string, TopicSkill> { ["physics"] = new("physics", skill, 10) });

    private static ObjectiveParameters Physics => ObjectiveParameters.Empty.With("topics", ["physics"]);

    [Fact]
    public void Rank_chosenTopic_putsThatTopicFirst()
    {
        var ranked = new LearningObjective().Rank(TestWorld.Request(Learner(950), Physics, k: 5));

        Assert.All(ranked, r => Assert.Contains("physics", TestWorld.Catalog[r.ItemId].Topics));
    }

    [Fact]
    public void Rank_strongerLearner_getsHarderItems()
    {
        var novice = new LearningObjective().Rank(TestWorld.Request(Learner(950), Physics, k: 3));
        var expert = new LearningObjective().Rank(TestWorld.Request(Learner(1400), Physics, k: 3));

        Assert.True(expert.Average(r => TestWorld.Catalog[r.ItemId].Level!.Value) > novice.Average(r => TestWorld.Catalog[r.ItemId].Level!.Value) + 1);
    }

    [Fact]
    public void Rank_masteredMaterial_neverServed()
    {
        // Skill 1750 makes levels 1..4 near-certain successes (above 92% even allowing for what is still unknown of the
        // learner and of unanswered items): mastered, so only level-5 items may appear.
        var ranked = new LearningObjective().Rank(TestWorld.Request(Learner(1750), Physics, k: 10));

        Assert.All(ranked.Where(r => TestWorld.Catalog[r.ItemId].Topics.SequenceEqual(["physics"])),
            r => Assert.Equal(5, TestWorld.Catalog[r.ItemId].Level));
    }

    [Fact]
    public void Rank_levelReasons_sayHardWhereSuccessIsLow_andStepBeyondOnlyAboveWhatWasRead()
    {
        var claims = new HashSet<string>(StringComparer.Ordinal);
        foreach (var skill in new[] { 300.0, 600, 900, 1100, 1400 })
        {
            var learner = Learner(skill);
            foreach (var r in new LearningObjective().Rank(TestWorld.Request(learner, Physics, k: 40)))
            {
                var item = TestWorld.Catalog[r.ItemId];
                if (item.Level is null || !item.Topics.Contains("physics"))
                    continue;
                var success = TestWorld.Catalog.PredictSuccess(learner.Skills, r.ItemId, ["physics"]);
                var first = r.Reasons[0];
                if (first.Contains("within reach", StringComparison.Ordinal))
                    Assert.True(success >= LearningObjective.HardBelow, $"{first} at a predicted success of {success:0.00}");
                if (success < LearningObjective.HardBelow)
                    Assert.StartsWith("A hard one", first, StringComparison.Ordinal);
                var cut = first.IndexOf(" on ", StringComparison.Ordinal);
                claims.Add(cut < 0 ? first : first[..cut]);
            }
        }
        Assert.Contains("A hard one", claims);
        Assert.Contains("A real challenge", claims);

        // A reader who has read level-3 physics is not told a level-2 or level-3 item is a step beyond it.
        var read = TestWorld.Catalog.Items.First(i => i.Level == 3 && i.Topics.SequenceEqual(["physics"]));
        var reader = new UserState(5, [new Interaction(5, read.Id, EventKind.Complete, null, TestWorld.Now.AddDays(-1))],
            new Dictionary<string, TopicSkill> { ["physics"] = new("physics", 1000, 10) });
        var shown = new LearningObjective().Rank(TestWorld.Request(reader, Physics, k: 40));
        Assert.Contains(shown, r => TestWorld.Catalog[r.ItemId].Level <= 3 && r.Reasons[0].StartsWith("More on physics, at the level", StringComparison.Ordinal));
        Assert.All(shown.Where(r => r.Reasons[0].StartsWith("A step beyond", StringComparison.Ordinal)), r => Assert.True(TestWorld.Catalog[r.ItemId].Level > 3));
    }

    [Fact]
    public void Rank_skillWithoutReading_saysWhatTheLevelRestsOn()
    {
        var ranked = new LearningObjective().Rank(TestWorld.Request(Learner(1100), Physics, k: 1));

        Assert.Equal("On physics, at the level your answers and feedback so far suggest.", ranked[0].Reasons[0]);
    }

    [Fact]
    public void Rank_afterOnlyTooHard_neverSaysTheReaderReadAtThatLevel()
    {
        // The reader's one contact with physics: a level-3 item they marked too hard. They have not been reading at level 3.
        var tooHard = TestWorld.Catalog.Items.First(i => i.Level == 3 && i.Topics.SequenceEqual(["physics"]));
        var reader = new UserState(5, [new Interaction(5, tooHard.Id, EventKind.TooHard, null, TestWorld.Now.AddDays(-1))],
            new Dictionary<string, TopicSkill> { ["physics"] = new("physics", 1000, 1) });

        var shown = new LearningObjective().Rank(TestWorld.Request(reader, Physics, k: 40));

        Assert.NotEmpty(shown);
        Assert.All(shown, r => Assert.DoesNotContain("you have been reading", r.Reasons[0], StringComparison.Ordinal));
        Assert.All(shown, r => Assert.DoesNotContain("what you've read", r.Reasons[0], StringComparison.Ordinal));
    }

    [Fact]
    public void Rank_aNewReader_isNotToldAnItemIsAtTheirLevel()
    {
        var shown = new LearningObjective().Rank(TestWorld.Request(new UserState(6, [], new Dictionary<string, TopicSkill>()), Physics, k: 20));

        Assert.NotEmpty(shown);
        Assert.All(shown, r => Assert.DoesNotContain("your level", r.Reasons[0], StringComparison.Ordinal));
    }

    [Fact]
    public void Rank_threeChosenTopics_firstPageHoldsEachAndLongerListsStartTheSame()
    {
        // Reader 1's tastes lean to film noir, they have read cooking and music already, and relevance and novelty weigh
        // heavily here: by score alone film noir fills the page.
        var chosen = ObjectiveParameters.Empty.With("topics", ["film-noir", "cooking", "music"]).With("relevance_weight", 2.0).With("novelty_weight", 2.0);
        var reader = TestWorld.UserWithHistory(TestWorld.KnownUser, 3, 9, 15, 21, 4, 10, 16, 22);
        var page = new LearningObjective().Rank(TestWorld.Request(reader, chosen, k: 10));
        var longer = new LearningObjective().Rank(TestWorld.Request(reader, chosen, k: 20));

        Assert.All(new[] { "film-noir", "cooking", "music" }, topic => Assert.Contains(page, r => TestWorld.Catalog[r.ItemId].Topics.Contains(topic)));
        Assert.Equal(page.Select(r => r.ItemId), longer.Take(10).Select(r => r.ItemId));
    }

    /// <summary>A newcomer's request over <paramref name="items"/> alone, each item's model relevance given by <paramref name="relevance"/>.</summary>
    private static RankingRequest Only(List<ItemInfo> items, Func<ItemInfo, double> relevance, string[] chosen, int k, IReadOnlyDictionary<string, string>? parents = null) =>
        new(new UserState(5, [], new Dictionary<string, TopicSkill>()), ObjectiveParameters.Empty.With("topics", chosen),
            [.. items.Select(i => new Candidate(i.Id, relevance(i), ReadOnlyMemory<float>.Empty))], new HashSet<long>(),
            new Catalog(items, topicParents: parents), TestWorld.Model, false, k, 7, TestWorld.Now);

    private static IEnumerable<ItemInfo> Items(int from, int count, string[] topics, int level, double credibility) =>
        Enumerable.Range(from, count).Select(id => new ItemInfo(id, $"e{id}", $"Item {id}", topics, level, "source", credibility, null, null));

    [Fact]
    public void Rank_twoChosenTopics_oneAheadOnEveryScore_eachGetsHalfOfEveryPage()
    {
        // Every plutus item beats every qubit item on relevance and credibility, all at a newcomer's level: by score
        // alone plutus fills the page but for the one place that covers qubit.
        var items = Items(1, 30, ["plutus"], 1, 0.9).Concat(Items(101, 30, ["qubit"], 1, 0.5)).ToList();
        var request = Only(items, i => i.Topics[0] == "plutus" ? 1 : 0.1, ["plutus", "qubit"], 10);

        var page = new LearningObjective().Rank(request);
        var longer = new LearningObjective().Rank(request with { K = 20 });

        var catalog = request.Catalog;
        Assert.Equal(10, page.Count);
        Assert.All(page, r => Assert.InRange(catalog.PredictSuccess(request.User.Skills, r.ItemId, []), LearningObjective.ChallengeBelow, 0.92));
        Assert.Equal(5, page.Count(r => catalog[r.ItemId].Topics.Contains("qubit")));
        Assert.Equal(page.Select(r => r.ItemId), longer.Take(10).Select(r => r.ItemId));
        Assert.Equal(10, longer.Count(r => catalog[r.ItemId].Topics.Contains("qubit")));
        Assert.Empty(ChosenTopicShare.Short(["plutus", "qubit"], [.. page.Select(r => catalog[r.ItemId].Topics)]));
    }

    [Fact]
    public void Rank_aChosenTopicWithLittleAtTheReadersLevel_handsItsShareOnWithoutBringingInHarderItems()
    {
        // Qubit has two items at a newcomer's level and eight far above it; plutus has plenty at their level.
        var items = Items(1, 30, ["plutus"], 1, 0.9).Concat(Items(101, 2, ["qubit"], 1, 0.5)).Concat(Items(201, 8, ["qubit"], 5, 0.9)).ToList();
        var request = Only(items, i => i.Level == 5 ? 1 : 0.5, ["plutus", "qubit"], 10);

        var page = new LearningObjective().Rank(request);

        var catalog = request.Catalog;
        Assert.Equal(10, page.Count);
        Assert.All(page, r => Assert.True(catalog.PredictSuccess(request.User.Skills, r.ItemId, []) >= LearningObjective.ChallengeBelow, $"item {r.ItemId} is above the reader's level"));
        Assert.Equal(new long[] { 101, 102 }, page.Where(r => catalog[r.ItemId].Topics.Contains("qubit")).Select(r => r.ItemId).Order());
        Assert.Equal(new[] { ("qubit", 2) }, ChosenTopicShare.Short(["plutus", "qubit"], [.. page.Select(r => catalog[r.ItemId].Topics)]));
    }

    [Fact]
    public void Rank_aSubjectChosenBesideOneOfItsTags_getsItsOwnShareWithoutCountingTheTagsItems()
    {
        // Qubit questions carry their site too. Counted for both, they would fill the subject's share and the site's own
        // questions, scored lower, would not appear.
        var items = Items(1, 20, ["qc", "qc/qubit"], 1, 0.9).Concat(Items(101, 20, ["qc"], 1, 0.5)).Concat(Items(201, 20, ["plutus"], 1, 0.7)).ToList();
        var request = Only(items, i => i.Topics.Contains("qc/qubit") ? 1 : i.Topics.Contains("plutus") ? 0.6 : 0.2,
            ["qc", "qc/qubit", "plutus"], 10, new Dictionary<string, string> { ["qc/qubit"] = "qc" });

        var page = new LearningObjective().Rank(request);

        int On(Func<IReadOnlyList<string>, bool> topics) => page.Count(r => topics(request.Catalog[r.ItemId].Topics));
        var share = ChosenTopicShare.Of(10, 3);
        Assert.InRange(On(t => t.SequenceEqual(["qc"])), share, share + 1);
        Assert.InRange(On(t => t.Contains("qc/qubit")), share, share + 1);
        Assert.InRange(On(t => t.Contains("plutus")), share, share + 1);
    }

    /// <summary>Seventeen algebra items from difficulty 800 to 1600 in steps of 50, ranked with <paramref name="skill"/>.</summary>
    private static (Catalog Catalog, RankingRequest Request) AlgebraLadder(SkillModel skill, UserState user)
    {
        var items = Enumerable.Range(0, 17).Select(i => new ItemInfo(i + 1, $"a{i + 1}", $"Algebra {i + 1}", ["algebra"], 3, "source", 0.9, null, null)).ToList();
        var catalog = new Catalog(items, difficulty: items.ToDictionary(i => i.Id, i => new ItemDifficulty(800 + 50.0 * (i.Id - 1), 50)), skill: skill);
        var candidates = items.Select(i => new Candidate(i.Id, 1, ReadOnlyMemory<float>.Empty)).ToList();
        var request = new RankingRequest(user, ObjectiveParameters.Empty.With("topics", ["algebra"]), candidates, new HashSet<long>(),
            catalog, TestWorld.Model, false, 1, 7, TestWorld.Now);
        return (catalog, request);
    }

    private static long NearestToAim(Catalog catalog, UserState user, double aim) =>
        catalog.Items.MinBy(i => Math.Abs(catalog.PredictSuccess(user.Skills, i.Id, i.Topics) - aim))!.Id;

    [Fact]
    public void Rank_fittedSkillModel_picksTheItemAtTheAimedSuccessUnderThatModel()
    {
        // A fitted guessing floor of 0.3 makes every item likelier to succeed than the unfitted model says, so the item
        // at 70% is harder than the unfitted model's.
        var fitted = new SkillModel(SkillPriors.Default with { Guess = 0.3 });
        var user = new UserState(5, [], new Dictionary<string, TopicSkill> { ["algebra"] = new("algebra", 1200, 40) });
        var (catalog, request) = AlgebraLadder(fitted, user);

        var ranked = new LearningObjective().Rank(request);

        Assert.Equal(NearestToAim(catalog, user, 0.7), ranked[0].ItemId);
        Assert.NotEqual(NearestToAim(AlgebraLadder(SkillModel.Default, user).Catalog, user, 0.7), ranked[0].ItemId);
        Assert.InRange(catalog.PredictSuccess(user.Skills, ranked[0].ItemId, ["algebra"]), 0.67, 0.73);
    }

    [Fact]
    public void Rank_learnerNewToTheTopic_startsFromTheTopicsFittedStart()
    {
        var fitted = new SkillModel(SkillPriors.Default with { TopicStart = new Dictionary<string, double> { ["algebra"] = 1350 } });
        var newcomer = new UserState(5, [], new Dictionary<string, TopicSkill>());
        var (catalog, request) = AlgebraLadder(fitted, newcomer);

        var ranked = new LearningObjective().Rank(request);

        // At skill 1350 the item at 70% sits near 1200; the unfitted start (950) would put it near 800.
        Assert.Equal(NearestToAim(catalog, newcomer, 0.7), ranked[0].ItemId);
        Assert.InRange(catalog.Difficulty(ranked[0].ItemId), 1150, 1250);
    }

    [Fact]
    public void Rank_itemAtTheAimAlsoOnAnotherTopic_beatsOneTopicItemsFarFromIt()
    {
        // One algebra item at the reader's aim (70%) also covers geometry; the one-topic algebra items sit at about 85%
        // and 5%. Counting the share of an item's topics that were chosen served the easy one first.
        var items = new List<ItemInfo>
        {
            new(1, "a1", "Algebra and geometry", ["algebra", "geometry"], 3, "source", 0.9, null, null),
            new(2, "a2", "Algebra, easy", ["algebra"], 1, "source", 0.9, null, null),
            new(3, "a3", "Algebra, hard", ["algebra"], 5, "source", 0.9, null, null),
        };
        var catalog = new Catalog(items, difficulty: new Dictionary<long, ItemDifficulty> { [1] = new(1050, 50), [2] = new(900, 50), [3] = new(1700, 50) });
        var user = new UserState(5, [], new Dictionary<string, TopicSkill> { ["algebra"] = new("algebra", 1200, 40) });
        var request = new RankingRequest(user, ObjectiveParameters.Empty.With("topics", ["algebra"]),
            [.. items.Select(i => new Candidate(i.Id, 1, ReadOnlyMemory<float>.Empty))], new HashSet<long>(), catalog, TestWorld.Model, false, 3, 7, TestWorld.Now);

        var ranked = new LearningObjective().Rank(request);

        Assert.InRange(catalog.PredictSuccess(user.Skills, 1, ["algebra"]), 0.6, 0.8);
        Assert.Equal(1, ranked[0].ItemId);
    }

    [Fact]
    public void Rank_chosenTopicWithNothingEligible_stillFillsThePage()
    {
        var chosen = ObjectiveParameters.Empty.With("topics", ["physics", "no-such-topic"]);

        var ranked = new LearningObjective().Rank(TestWorld.Request(Learner(1100), chosen, k: 10));

        Assert.Equal(10, ranked.Count);
    }
}

public sealed class DiversityObjectiveTests : ObjectiveContractTests
{
    protected override IObjective CreateObjective() => new DiversityObjective();

    private static double IntraListDiversity(IReadOnlyList<RankedItem> ranked)
    {
        var vectors = ranked.Select(r => { TestWorld.Model.TryGetItemIndex(r.ItemId, out var i); return TestWorld.Model.ItemVector(i); }).ToList();
        var total = 0.0;
        var pairs = 0;
        for (var a = 0; a < vectors.Count; a++)
        {
            for (var b = a + 1; b < vectors.Count; b++)
            {
                total += 1 - RankingMath.Cosine(vectors[a].Span, vectors[b].Span);
                pairs++;
            }
        }
        return total / pairs;
    }

    [Fact]
    public void Rank_sameCandidates_isMoreDiverseThanEngagement()
    {
        var request = TestWorld.Request(TestWorld.UserWithHistory(TestWorld.KnownUser, 6, 12));

        // Both rank by the model alone, so the difference is the diversification itself.
        var noPrior = ObjectiveParameters.Empty.With("popularity_weight", 0.0);
        var diverse = new DiversityObjective().Rank(request with { Parameters = noPrior });
        var engaging = new EngagementObjective().Rank(request with { Parameters = noPrior.With("credibility_floor", 0.4) });

        Assert.True(IntraListDiversity(diverse) > 1.3 * IntraListDiversity(engaging));
    }

    [Fact]
    public void Rank_lambdaOne_equalsRelevanceOrderWithoutCalibration()
    {
        var parameters = ObjectiveParameters.Empty.With("lambda", 1.0).With("variety", 1.0).With("calibration_weight", 0.0).With("viewpoint_weight", 0.0)
            .With("author_weight", 0.0).With("popularity_weight", 0.0);
        var request = TestWorld.Request(TestWorld.UserWithHistory(TestWorld.KnownUser), parameters);

        var ranked = new DiversityObjective().Rank(request);

        var expected = RankingMath.Eligible(request, 0.4).OrderByDescending(c => c.Relevance).Take(10).Select(c => c.ItemId);
        Assert.Equal(expected, ranked.Select(r => r.ItemId));
    }

    [Fact]
    public void Rank_startNotVariedEnough_movesTowardsVarietyOnlyAsFarAsNeeded()
    {
        // Starting from relevance alone, the first list is the closest matches themselves: 1.0× their variety.
        var parameters = ObjectiveParameters.Empty.With("lambda", 1.0).With("calibration_weight", 0.0).With("viewpoint_weight", 0.0).With("popularity_weight", 0.0);
        var request = TestWorld.Request(TestWorld.UserWithHistory(TestWorld.KnownUser), parameters);
        var closest = RankingMath.Eligible(request, 0.4).OrderByDescending(c => c.Relevance).Take(10)
            .Select(c => new RankedItem(c.ItemId, c.Relevance, new Dictionary<string, double>(), [])).ToList();

        var ranked = new DiversityObjective().Rank(request);
        var atFloor = new DiversityObjective().Rank(request with { Parameters = parameters.With("lambda", 0.2) });

        Assert.True(IntraListDiversity(ranked) >= 1.3 * IntraListDiversity(closest));
        // No more relevance given up than the floor gives up: it stopped at the first balance varied enough.
        var relevance = RankingMath.Eligible(request, 0.4).ToDictionary(c => c.ItemId, c => c.Relevance);
        Assert.True(ranked.Sum(r => relevance[r.ItemId]) >= atFloor.Sum(r => relevance[r.ItemId]));
        Assert.NotEqual(atFloor.Select(r => r.ItemId), ranked.Select(r => r.ItemId));
    }

    [Fact]
    public void Rank_varietyOutOfReach_keepsTheFirstList()
    {
        // Mutually orthogonal items: every list is exactly as varied as the closest matches, so no balance reaches 1.3×.
        // The most relevant share one topic, so a balance nearer variety would fill other topics first.
        long[] ids = [6, 12, 18, 24, 30, 36, 1, 2, 3, 4, 5];
        var candidates = ids.Select((id, n) =>
        {
            var embedding = new float[ids.Length];
            embedding[n] = 1;
            return new Candidate(id, (n < 6 ? 1.0 : 0.5) - n * 0.01, embedding);
        }).ToList();
        var request = TestWorld.Request(TestWorld.UserWithHistory(TestWorld.KnownUser), k: 6, candidates: candidates) with { Exclusions = new HashSet<long>() };
        var credible = ObjectiveParameters.Empty.With("credibility_floor", 0.0).With("popularity_weight", 0.0);

        var ranked = new DiversityObjective().Rank(request with { Parameters = credible });
        var unpushed = new DiversityObjective().Rank(request with { Parameters = credible.With("variety", 1.0) });
        var atFloor = new DiversityObjective().Rank(request with { Parameters = credible.With("lambda", 0.2) });

        Assert.Equal(unpushed.Select(r => r.ItemId), ranked.Select(r => r.ItemId));
        Assert.NotEqual(atFloor.Select(r => r.ItemId), ranked.Select(r => r.ItemId));
    }

    /// <summary>Items taking side +1 are all more relevant than those taking side -1; relevance alone would serve one side only.</summary>
    private static RankingRequest SidedRequest(int k)
    {
        var sided = TestWorld.Candidates(UserState.Anonymous)
            .Where(c => TestWorld.Catalog[c.ItemId].Stance is 1 or -1)
            .Select(c => c with { Relevance = TestWorld.Catalog[c.ItemId].Stance > 0 ? 1.0 - c.ItemId * 1e-4 : 0.5 - c.ItemId * 1e-4 })
            .ToList();
        return TestWorld.Request(UserState.FromHistory(999, []), k: k, candidates: sided) with { Personalized = true };
    }

    [Fact]
    public void Rank_oneSideMoreRelevant_balancesViewpoints()
    {
        var request = SidedRequest(k: 6);

        var balanced = new DiversityObjective().Rank(request with { Parameters = ObjectiveParameters.Empty.With("viewpoint_weight", 1.0).With("popularity_weight", 0.0) });
        var unbalanced = new DiversityObjective().Rank(request with { Parameters = ObjectiveParameters.Empty.With("viewpoint_weight", 0.0).With("popularity_weight", 0.0) });

        Assert.InRange(balanced.Sum(r => TestWorld.Catalog[r.ItemId].Stance!.Value), -1, 1);
        Assert.True(unbalanced.Sum(r => TestWorld.Catalog[r.ItemId].Stance!.Value) > 1);
    }

    [Fact]
    public void Rank_anotherSide_isOnlyClaimedAgainstAnItemAboveOnTheSameTopic()
    {
        var request = SidedRequest(k: 10);

        var ranked = new DiversityObjective().Rank(request with { Parameters = ObjectiveParameters.Empty.With("viewpoint_weight", 1.0).With("popularity_weight", 0.0) });

        var claims = 0;
        for (var i = 0; i < ranked.Count; i++)
        {
            var item = TestWorld.Catalog[ranked[i].ItemId];
            foreach (var reason in ranked[i].ListReasons.Where(r => r.Contains("another side", StringComparison.Ordinal)))
            {
                var topic = reason.Split("debate on ")[1].Split(" in your list")[0];
                Assert.Contains(topic, item.Topics);
                Assert.Contains(ranked.Take(i), above => TestWorld.Catalog[above.ItemId] is var other
                    && other.Topics.Contains(topic) && Math.Sign(other.Stance!.Value) == -Math.Sign(item.Stance!.Value));
                claims++;
            }
        }
        Assert.True(claims > 0, "no item was said to answer another");
    }

    [Fact]
    public void Rank_oneAuthorMostRelevant_bringsInOtherAuthors()
    {
        // A prolific author: every item by source-1 ranks above anything by the other three, on every topic alike, in
        // an evenly spread pool (as a model's scores are), so the next author's best is only a little less relevant.
        var order = TestWorld.Candidates(UserState.Anonymous)
            .OrderBy(c => TestWorld.Catalog[c.ItemId].Source == "source-1" ? 0 : 1).ThenBy(c => c.ItemId).ToList();
        var skewed = order.Select((c, position) => c with { Relevance = 1.0 - position * 0.004 }).ToList();
        var request = TestWorld.Request(UserState.FromHistory(999, []), k: 8, candidates: skewed) with { Personalized = true };
        static int Authors(IReadOnlyList<RankedItem> ranked) => ranked.Select(r => TestWorld.Catalog[r.ItemId].Source).Distinct().Count();

        var voices = new DiversityObjective().Rank(request with { Parameters = ObjectiveParameters.Empty.With("popularity_weight", 0.0) });
        var oneVoice = new DiversityObjective().Rank(request with { Parameters = ObjectiveParameters.Empty.With("popularity_weight", 0.0).With("author_weight", 0.0) });

        Assert.True(Authors(voices) > Authors(oneVoice), $"authors: {Authors(voices)} with the default weight, {Authors(oneVoice)} without");
        Assert.All(voices.Skip(1), r => Assert.True(r.Components.ContainsKey("author_repeat")));
        Assert.Contains(voices, r => r.Components["author_repeat"] < 0);
    }
}

public sealed class NoProfilingObjectiveTests : ObjectiveContractTests
{
    protected override IObjective CreateObjective() => new NoProfilingObjective();

    [Fact]
    public void Rank_differentUsersSameSettings_returnsSameList()
    {
        var first = new UserState(TestWorld.KnownUser, [new Interaction(1, 50, EventKind.Like, null, TestWorld.Now)],
            new Dictionary<string, TopicSkill> { ["physics"] = new("physics", 1500, 3) });
        var second = TestWorld.UserWithHistory(TestWorld.OtherKnownUser, 60, 61, 62);
        var exclusions = new HashSet<long> { 3 };

        var a = new NoProfilingObjective().Rank(TestWorld.Request(first, exclusions: exclusions, candidates: TestWorld.Candidates(first)));
        var b = new NoProfilingObjective().Rank(TestWorld.Request(second, exclusions: exclusions, candidates: TestWorld.Candidates(second)));

        Assert.Equal(a.Select(r => r.ItemId), b.Select(r => r.ItemId));
    }

    [Fact]
    public void Rank_topicBalance_spreadsTopics()
    {
        var ranked = new NoProfilingObjective().Rank(TestWorld.Request(UserState.Anonymous, k: 6));

        var firstTopics = ranked.Select(r => TestWorld.Catalog[r.ItemId].Topics[0]).Distinct().Count();
        Assert.True(firstTopics >= 4, $"only {firstTopics} topics in six items");
    }
}

public sealed class BlendObjectiveTests : ObjectiveContractTests
{
    protected override IObjective CreateObjective() => new BlendObjective();

    [Fact]
    public void Schema_declares_one_weight_per_part_by_the_objective_it_weighs()
    {
        var blend = new BlendObjective([new EngagementObjective(), new DiversityObjective()]);

        Assert.Equal([("engagement_weight", "engagement"), ("diversity_weight", "diversity")], blend.Schema.Weights.Select(w => (w.Name, w.Weighs!)));
        var json = blend.Schema.ToJson();
        Assert.Equal(["engagement", "diversity"], json.Select(p => p!["weighs"]?.GetValue<string>()).OfType<string>());
        // A number of a part's own that happens to end in "_weight" is not one of the mix's weights.
        Assert.DoesNotContain(new DiversityObjective().Schema.Parameters, p => p.Weighs is not null);
        Assert.Single(blend.Validate(ObjectiveParameters.Empty.With("engagement_weight", 0.0).With("diversity_weight", 0.0)));
    }

    [Fact]
    public void Rank_onlyEngagementWeighted_matchesEngagementOrder()
    {
        var parameters = ObjectiveParameters.Empty.With("engagement_weight", 1.0).With("learning_weight", 0.0).With("diversity_weight", 0.0)
            .With("credibility_floor", 0.0);
        var request = TestWorld.Request(TestWorld.UserWithHistory(TestWorld.KnownUser), parameters);

        var blended = new BlendObjective().Rank(request);
        var engaged = new EngagementObjective().Rank(request with { Parameters = ObjectiveParameters.Empty });

        Assert.Equal(engaged.Select(r => r.ItemId), blended.Select(r => r.ItemId));
    }

    [Fact]
    public void Rank_reasonsAboutAPartsOwnList_areNotCarriedIntoTheMix()
    {
        // Diversity's "the first pick on physics" describes diversity's list; the mix orders the items its own way.
        var parameters = ObjectiveParameters.Empty.With("engagement_weight", 0.5).With("learning_weight", 0.0).With("diversity_weight", 1.0)
            .With("credibility_floor", 0.0);
        var request = TestWorld.Request(UserState.FromHistory(999, []), parameters, k: 20);
        var diversity = new DiversityObjective().Rank(request with { Parameters = ObjectiveParameters.Empty.With("credibility_floor", 0.0), K = BlendObjective.Depth });

        var blended = new BlendObjective().Rank(request);

        Assert.Contains(diversity, r => r.ListReasons.Count > 0);
        var listReasons = diversity.SelectMany(r => r.ListReasons).ToHashSet(StringComparer.Ordinal);
        Assert.All(blended, r =>
        {
            Assert.NotEmpty(r.Reasons);
            Assert.Empty(r.ListReasons);
            Assert.DoesNotContain(r.Reasons, listReasons.Contains);
        });
        Assert.Contains(blended, r => r.Reasons[0] == "\u201cShow me other perspectives\u201d, part of your mix, ranks it high.");
    }
}

public sealed class FreshObjectiveTests : ObjectiveContractTests
{
    protected override IObjective CreateObjective() => new FreshObjective();

    [Fact]
    public void Rank_fullFreshnessWeight_returnsNewestFirst()
    {
        var ranked = new FreshObjective().Rank(TestWorld.Request(UserState.FromHistory(999, []), ObjectiveParameters.Empty.With("freshness_weight", 1.0), k: 5));

        // Items are published i days before "now", so the newest are the lowest ids.
        Assert.Equal([1L, 2, 3, 4, 5], ranked.Select(r => r.ItemId));
    }
}
