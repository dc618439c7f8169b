using System.Text.RegularExpressions;
using Recommender.Core.Objectives;

namespace Recommender.Core.Tests;

/// <summary>
/// "Why this" as a property: over every objective and many generated catalogs and readers, no reason claims what the
/// item's own data (what its card shows) or the reader's history does not hold.
/// </summary>
public sealed partial class WhyThisTests
{
    private static readonly EventKind[] Kinds = Enum.GetValues<EventKind>();

    [Fact]
    public void Reasons_everyObjectiveManyReaders_claimOnlyWhatTheDataHolds()
    {
        var claims = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var seed = 0; seed < 60; seed++)
        {
            var random = new Random(seed);
            var catalog = GeneratedCatalog(random);
            var objectives = new ObjectiveRegistry(ObjectiveRegistry.BuiltIn());
            var pipeline = new RecommendationPipeline(new FakeFactorModel(catalog), catalog, objectives, new PipelineOptions { PersonalCandidates = 40 });
            var userId = random.Next(3) switch { 0 => 1L, 1 => 2L, _ => 500L + seed };
            var history = GeneratedHistory(random, catalog, userId);
            var chosen = TestWorld.TopicNames.OrderBy(_ => random.Next()).Take(random.Next(0, 4)).ToArray();
            // The topics a reader picked on My goals stand in for a taste until they have read enough, as the service passes them.
            var interests = random.Next(2) == 0 ? chosen : [];
            foreach (var objective in objectives.All)
            {
                var parameters = ObjectiveParameters.Empty;
                if (objective.Schema.TryGet(CommonParameters.Topics, out _))
                    parameters = parameters.With(CommonParameters.Topics, chosen);
                if (objective.Schema.TryGet(CommonParameters.CredibilityFloor, out _))
                    parameters = parameters.With(CommonParameters.CredibilityFloor, random.Next(3) * 0.2);
                var served = pipeline.Recommend(new RecommendationRequest(UserState.FromHistory(userId, history), objective.Id, parameters, 10, seed, TestWorld.Now,
                    InterestTopics: interests));
                var chosenHere = objective.Schema.TryGet(CommonParameters.Topics, out _) ? chosen : [];
                var above = new HashSet<string>(StringComparer.Ordinal);
                foreach (var item in served.Items)
                {
                    Assert.NotEmpty(item.Reasons);
                    // "Brings X into the list" is checked against the cards above it, which the reader sees too.
                    foreach (var reason in item.Reasons)
                    {
                        if (BringsIn().Match(reason) is { Success: true } brings)
                        {
                            claims["brings in"] = claims.GetValueOrDefault("brings in") + 1;
                            var topic = brings.Groups[1].Value;
                            Assert.True(catalog[item.ItemId].Topics.Contains(topic) && above.Count > 0 && !above.Contains(topic),
                                $"seed {seed}, {objective.Id}, item {item.ItemId}: \"{reason}\" but the item is on [{string.Join(", ", catalog[item.ItemId].Topics)}] and the picks above on [{string.Join(", ", above)}]");
                        }
                    }
                    above.UnionWith(catalog[item.ItemId].Topics);
                    foreach (var reason in item.Reasons)
                        Check(reason, catalog[item.ItemId], item.Components, chosenHere, interests, history, userId is 1 or 2, catalog, claims, $"seed {seed}, {objective.Id}, item {item.ItemId}");
                }
            }
        }
        // The property means something only if every kind of claim was actually made, and checked, somewhere.
        foreach (var claim in new[] { "credible", "topic you chose", "level", "level read", "step beyond", "outside", "because you", "enjoyed", "like the topics chosen", "recent", "signed", "right level", "newcomer level", "brings in" })
            Assert.True(claims.GetValueOrDefault(claim) > 0, $"no reason made the '{claim}' claim: the generator does not exercise it");
    }

    [Theory]
    [InlineData("diversity")]
    [InlineData("engagement")]
    public void Reasons_whereMostOfAnItemsRelevanceIsPopularity_sayManyPeopleLikeIt(string objectiveId)
    {
        // A newcomer with only chosen topics: diversity's prior counts 1 × (1 + 20 / (1 + signals)), several times the
        // model's 0..1; engagement's is raised to match here.
        var random = new Random(3);
        var catalog = GeneratedCatalog(random);
        var objectives = new ObjectiveRegistry(ObjectiveRegistry.BuiltIn());
        var pipeline = new RecommendationPipeline(new FakeFactorModel(catalog), catalog, objectives, new PipelineOptions { PersonalCandidates = 40 });
        var parameters = objectiveId == "engagement" ? ObjectiveParameters.Empty.With(CommonParameters.PopularityWeight, 1.0).With(CommonParameters.PriorShrinkage, 20.0) : ObjectiveParameters.Empty;
        var served = pipeline.Recommend(new RecommendationRequest(UserState.FromHistory(900, []), objectiveId, parameters, 10, 3, TestWorld.Now,
            InterestTopics: [TestWorld.TopicNames[0]]));

        Assert.NotEmpty(served.Items);
        foreach (var item in served.Items)
        {
            var (taste, popular) = (item.Components["relevance"], item.Components["popularity"]);
            var because = item.Reasons.Single(r => r.StartsWith("Mostly because", StringComparison.Ordinal));
            if (popular > taste)
            {
                Assert.StartsWith("Mostly because many people like it", because, StringComparison.Ordinal);
                Assert.DoesNotContain(item.Reasons, r => r.StartsWith("Relevant to you", StringComparison.Ordinal));
                // Nor that people like them, or who read their topics, enjoyed it: that is the smaller part.
                Assert.DoesNotContain(item.Reasons, r => r.StartsWith("People ", StringComparison.Ordinal) || r.StartsWith("Because you", StringComparison.Ordinal));
            }
        }
        Assert.Contains(served.Items, i => i.Components["popularity"] > i.Components["relevance"]);
        if (objectiveId == "diversity")
        {
            // A newcomer's cards are told apart: the pick that brings a topic in names it; the first pick brings nothing in.
            Assert.DoesNotMatch(BringsIn(), served.Items[0].Reasons[0]);
            Assert.Contains(served.Items, i => BringsIn().IsMatch(i.Reasons[0]));
        }
        if (objectiveId == "engagement")
            Assert.All(served.Items, i => Assert.Equal(i.Score, i.Components.Values.Sum(), 9));
    }

    [Fact]
    public void MainFactors_aComponentThatBarelyLiftedTheItem_isNotNamed()
    {
        var objectives = new ObjectiveRegistry(ObjectiveRegistry.BuiltIn());
        var item = new ItemInfo(1, "ext-1", "Item 1", ["physics"], 2, "source-1", 0.5, null, TestWorld.Now.AddDays(-10));
        var components = new Dictionary<string, double> { ["popularity"] = 0.8, ["recency"] = 1e-6 };

        Assert.Equal("Mostly because many people like it.", WhyThis.MainFactors(components, item, new Catalog([item]), [], Taste.None, objectives, TestWorld.Now));

        components["recency"] = 0.3;
        Assert.Equal("Mostly because many people like it and it is recent.", WhyThis.MainFactors(components, item, new Catalog([item]), [], Taste.None, objectives, TestWorld.Now));
    }

    [Fact]
    public void MainFactors_twoGoalsOfAMix_areNamedInOneClaim()
    {
        var objectives = new ObjectiveRegistry(ObjectiveRegistry.BuiltIn());
        var item = new ItemInfo(1, "ext-1", "Item 1", ["physics"], 2, "source-1", 0.5, null, TestWorld.Now.AddDays(-10));
        var components = new Dictionary<string, double> { ["engagement"] = 0.5, ["diversity"] = 0.24, ["learning"] = 0.01 };

        Assert.Equal("Mostly because the \u201cMore of what I enjoy\u201d and \u201cShow me other perspectives\u201d parts of your mix rank it high.",
            WhyThis.MainFactors(components, item, new Catalog([item]), [], Taste.None, objectives, TestWorld.Now));

        components["diversity"] = 0;
        Assert.Equal("Mostly because the \u201cMore of what I enjoy\u201d part of your mix ranks it high.",
            WhyThis.MainFactors(components, item, new Catalog([item]), [], Taste.None, objectives, TestWorld.Now));
    }

    [Fact]
    public void MainFactors_aLevelThatFitsPoorly_isNotCalledTheRightLevel_evenWhenItIsAStrongPart()
    {
        var objectives = new ObjectiveRegistry(ObjectiveRegistry.BuiltIn());
        var item = new ItemInfo(1, "ext-1", "Item 1", ["physics"], 2, "source-1", 0.5, null, TestWorld.Now.AddDays(-10));
        var catalog = new Catalog([item]);
        HashSet<string> known = ["physics"];
        // Learning's weights: the chosen topic 2, the level fit itself, novelty up to 0.3.
        var components = new Dictionary<string, double> { ["topic_match"] = 2, [WhyThis.LevelFit] = 0.331, ["novelty"] = 0.28 };

        Assert.Equal("Mostly because it is about physics, a topic you chose and it is new to you.",
            WhyThis.MainFactors(components, item, catalog, ["physics"], Taste.None, objectives, TestWorld.Now, known));

        components[WhyThis.LevelFit] = 0.9;
        Assert.Equal("Mostly because it is about physics, a topic you chose and it is at the right level for you.",
            WhyThis.MainFactors(components, item, catalog, ["physics"], Taste.None, objectives, TestWorld.Now, known));
    }

    [Fact]
    public void MainFactors_anItemPublishedYearsAgo_isNeverCalledRecent()
    {
        var objectives = new ObjectiveRegistry(ObjectiveRegistry.BuiltIn());
        var item = new ItemInfo(1, "ext-1", "Item 1", ["physics"], 2, "source-1", 0.5, null, TestWorld.Now.AddYears(-8));
        var components = new Dictionary<string, double> { ["recency"] = 0.9, ["popularity"] = 0.8 };

        Assert.Equal("Mostly because many people like it.", WhyThis.MainFactors(components, item, new Catalog([item]), [], Taste.None, objectives, TestWorld.Now));
    }

    private static void Check(string reason, ItemInfo item, IReadOnlyDictionary<string, double> components, IReadOnlyList<string> chosen, IReadOnlyList<string> interests, IReadOnlyList<Interaction> history,
        bool inModel, Catalog catalog,
        Dictionary<string, int> claims, string where)
    {
        Assert.False(string.IsNullOrWhiteSpace(reason), where);
        void Claimed(string claim, bool holds)
        {
            claims[claim] = claims.GetValueOrDefault(claim) + 1;
            Assert.True(holds, $"{where}: \"{reason}\" claims '{claim}' but the item has topics [{string.Join(", ", item.Topics)}], level {item.Level?.ToString() ?? "none"}, credibility {item.Credibility?.ToString() ?? "unknown"}; chosen [{string.Join(", ", chosen)}]");
        }
        if (reason.Contains("credible source", StringComparison.Ordinal))
            Claimed("credible", item.Credibility >= WhyThis.CredibleFrom);
        Assert.DoesNotContain("accuracy", reason, StringComparison.Ordinal);
        // Levels the reader read on a topic: an item marked too hard was not read at its level.
        var tooHard = history.Where(h => h.Kind == EventKind.TooHard).Select(h => h.ItemId).ToHashSet();
        List<int> LevelsRead(string topic) => [.. history.Where(h => h.Kind is not EventKind.Impression and not EventKind.NotInterested && !tooHard.Contains(h.ItemId))
            .Select(h => catalog[h.ItemId]).Where(i => i.Topics.Contains(topic) && i.Level is not null).Select(i => i.Level!.Value)];
        if (LevelRead().Match(reason) is { Success: true } levelRead)
            Claimed("level read", LevelsRead(levelRead.Groups[1].Value).Any(l => l >= item.Level));
        if (StepBeyond().Match(reason) is { Success: true } beyond)
            Claimed("step beyond", history.Any(h => !tooHard.Contains(h.ItemId) && catalog[h.ItemId].Topics.Contains(beyond.Groups[1].Value))
                && LevelsRead(beyond.Groups[1].Value).All(l => l < item.Level));
        // "The right level for you" rests on something the reader did on one of the item's topics; otherwise it is a newcomer's level.
        var knowsTopic = history.Any(h => h.Kind is not EventKind.Impression and not EventKind.NotInterested && catalog[h.ItemId].Topics.Any(item.Topics.Contains));
        // And either says the level suits the reader, which the card's own "fits your level" figure must bear out.
        var fits = components.GetValueOrDefault(WhyThis.LevelFit) >= WhyThis.FitsFrom;
        if (reason.Contains("the right level for you", StringComparison.Ordinal))
            Claimed("right level", knowsTopic && item.Level is not null && fits);
        if (reason.Contains("suits someone new to the topic", StringComparison.Ordinal))
            Claimed("newcomer level", !knowsTopic && item.Level is not null && fits);
        if (reason.StartsWith("Outside the topics you chose", StringComparison.Ordinal))
            Claimed("outside", chosen.Count > 0 && !item.Topics.Any(chosen.Contains));
        else if (chosen.Count > 0 && !item.Topics.Any(chosen.Contains) && LevelClaim().IsMatch(reason) && !reason.StartsWith("Mostly", StringComparison.Ordinal))
            Assert.Fail($"{where}: \"{reason}\" is outside the chosen topics [{string.Join(", ", chosen)}] and does not say so");
        foreach (Match m in TopicYouChose().Matches(reason))
            Claimed("topic you chose", chosen.Contains(m.Groups[1].Value) && item.Topics.Contains(m.Groups[1].Value));
        if (reason.Contains("a topic you chose", StringComparison.Ordinal) && !TopicYouChose().IsMatch(reason))
            Claimed("topic you chose", item.Topics.Any(chosen.Contains));
        if (LevelClaim().IsMatch(reason))
            Claimed("level", item.Level is not null);
        if (BecauseYou().Match(reason) is { Success: true } because)
        {
            var title = because.Groups[2].Value;
            var named = catalog.Items.Single(i => i.Title == title).Id;
            var marks = history.Where(h => h.ItemId == named).Select(h => h.Kind).ToList();
            // A rating below 7 of 10 is not a liking: the item was turned down like one marked too hard.
            var spoiled = marks.Any(k => k is EventKind.TooHard or EventKind.TooEasy or EventKind.NotInterested or EventKind.QuizWrong)
                || history.Any(h => h.ItemId == named && h.Kind == EventKind.Rating && h.Value < 7);
            var verbHolds = because.Groups[1].Value switch
            {
                "liked" => marks.Contains(EventKind.Like),
                "learned from" => marks.Contains(EventKind.Learned),
                "finished" => marks.Contains(EventKind.Complete),
                "rated" => marks.Contains(EventKind.Rating),
                _ => marks.Any(k => k is EventKind.View or EventKind.Click or EventKind.QuizCorrect),
            };
            Claimed("because you", verbHolds && !spoiled);
        }
        // The model knows readers 1 and 2 from their training history; anyone else only from the history given, where only a
        // rating or a sign of liking counts, and not on an item they later turned down.
        var turnedDown = history.Where(h => h.Kind is EventKind.TooHard or EventKind.TooEasy or EventKind.NotInterested or EventKind.QuizWrong
            || (h.Kind == EventKind.Rating && h.Value < 7)).Select(h => h.ItemId).ToHashSet();
        var enjoyed = inModel || history.Any(h => !turnedDown.Contains(h.ItemId)
            && h.Kind is EventKind.Rating or EventKind.Like or EventKind.Learned or EventKind.Complete or EventKind.View or EventKind.Click
                or EventKind.Answer or EventKind.Ask or EventKind.Comment or EventKind.Favourite or EventKind.Edit);
        if (reason.Contains("what you have enjoyed", StringComparison.Ordinal))
            Claimed("enjoyed", enjoyed);
        if (reason.Contains("popular items on the topics you chose", StringComparison.Ordinal))
            Claimed("like the topics chosen", !enjoyed && interests.Count > 0);
        if (reason.Contains("items you have tried", StringComparison.Ordinal))
            Claimed("tried", !enjoyed && history.Any(h => h.Kind is not EventKind.Impression and not EventKind.NotInterested));
        if (reason.Contains("it is recent", StringComparison.Ordinal))
            Claimed("recent", TestWorld.Now - item.PublishedAt <= WhyThis.RecentWithin);
        if (reason.Contains("another viewpoint", StringComparison.Ordinal) || reason.Contains("another side", StringComparison.Ordinal))
            Claimed("viewpoint", item.Stance is not null);
        // A debate is about something: the item is on the topic it is said to answer.
        foreach (Match m in Debate().Matches(reason))
            Claimed("debate topic", item.Topics.Contains(m.Groups[1].Value));
        if (reason.Contains("signed", StringComparison.OrdinalIgnoreCase))
            // Only a signature that checked out is mentioned, and it names the source the card says verified it.
            Claimed("signed", item.IsVerified && reason.Contains($"the key registered for {item.Provenance!.Signer}:", StringComparison.Ordinal));
    }

    /// <summary>Items on the test topics with every field sometimes unknown: no level, no credibility, no date; signed, unsigned or altered.</summary>
    internal static Catalog GeneratedCatalog(Random random)
    {
        var items = Enumerable.Range(1, random.Next(60, 150)).Select(i =>
        {
            var topic = TestWorld.TopicNames[random.Next(TestWorld.TopicNames.Length)];
            IReadOnlyList<string> topics = random.Next(4) == 0 ? [topic, TestWorld.TopicNames[random.Next(TestWorld.TopicNames.Length)]] : [topic];
            var source = $"source-{random.Next(5)}";
            return new ItemInfo(i, $"ext-{i}", $"Item {i}", [.. topics.Distinct()],
                random.Next(3) == 0 ? null : 1 + random.Next(5),
                source,
                random.Next(3) == 0 ? null : Math.Round(random.NextDouble(), 2),
                topic == "politics" && random.Next(2) == 0 ? random.Next(-1, 2) : null,
                random.Next(5) == 0 ? null : TestWorld.Now.AddDays(-random.Next(0, 400)),
                Provenance: random.Next(4) switch
                {
                    0 => new ItemProvenance(ProvenanceStates.Verified, source, "0123456789abcdef"),
                    1 => new ItemProvenance(ProvenanceStates.Invalid, null, "0123456789abcdef", "altered after signing"),
                    2 => ItemProvenance.Unsigned,
                    _ => null,
                });
        }).ToList();
        return new Catalog(items, items.ToDictionary(i => i.Id, _ => random.Next(0, 300)));
    }

    /// <summary>Up to 15 events of every kind, in time order; some items both enjoyed and later marked too hard.</summary>
    private static List<Interaction> GeneratedHistory(Random random, Catalog catalog, long userId)
    {
        var history = new List<Interaction>();
        var count = random.Next(0, 16);
        for (var n = 0; n < count; n++)
        {
            var item = catalog.Items[random.Next(catalog.Count)].Id;
            var kind = Kinds[random.Next(Kinds.Length)];
            history.Add(new Interaction(userId, item, kind, kind == EventKind.Rating ? random.Next(1, 11) : null, TestWorld.Now.AddDays(-100 + n)));
            if (random.Next(4) == 0)
                history.Add(new Interaction(userId, item, EventKind.TooHard, null, TestWorld.Now.AddDays(-100 + n).AddHours(1)));
        }
        return history;
    }

    [GeneratedRegex(@"^Brings ([\w-]+) into the list")]
    private static partial Regex BringsIn();

    [GeneratedRegex(@"debate on ([\w-]+) in your list")]
    private static partial Regex Debate();

    [GeneratedRegex(@"about ([\w-]+), a topic you chose")]
    private static partial Regex TopicYouChose();

    [GeneratedRegex(@"challenge|gentle start|right level|suits someone new|at your level|step beyond|above your level|level you have been reading|first step|answers and feedback so far|hard one")]
    private static partial Regex LevelClaim();

    [GeneratedRegex(@"[Mm]ore on ([\w-]+), at the level you have been reading")]
    private static partial Regex LevelRead();

    [GeneratedRegex(@"step beyond what you've read on ([\w-]+)")]
    private static partial Regex StepBeyond();

    [GeneratedRegex("^Because you (liked|learned from|finished|rated|read) \u201c([^\u201d]+)\u201d")]
    private static partial Regex BecauseYou();
}
