using System.Numerics.Tensors;
using Recommender.Core.Ranking;

namespace Recommender.Core.Objectives;

/// <summary>
/// "Maximise how fast and how much I'm learning": items in the chosen topics whose difficulty sits in the learner's
/// zone of proximal development (about 70% predicted success), new relative to what they have read, from credible
/// sources, never material they have already mastered. Success is predicted by the catalog's fitted skill model
/// (<see cref="Catalog.PredictSuccess"/>), the one <c>evaluate skill</c> measures.
/// </summary>
public sealed class LearningObjective : IObjective
{
    public const string ObjectiveId = "learning";
    public const string TargetSuccess = "target_success";

    /// <summary>Predicted success below which an item is called hard rather than "within reach".</summary>
    public const double HardBelow = 0.35;

    /// <summary>
    /// Predicted success below which an item is called "a real challenge" rather than at the reader's level: the lowest
    /// at which an item counts towards a chosen topic's share of the page (see <see cref="Arrange"/>).
    /// </summary>
    public const double ChallengeBelow = 0.5;
    public const string MasteredSuccess = "mastered_success";
    public const string NoveltyWeight = "novelty_weight";
    public const string RelevanceWeight = "relevance_weight";

    // Outweighs every other component together (at default weights), so off-topic items only fill a short list.
    private const double TopicWeight = 2;

    // How quickly the fit falls off away from the target success rate; 0.15 keeps 55%..85% clearly preferred.
    private const double ZoneWidth = 0.15;

    public string Id => ObjectiveId;

    public string Version => "1.2.0";

    public string DisplayName => "Help me learn";

    public string Description =>
        "Picks items on the topics you chose, taking them in turn, that are a step beyond what you already know: not too easy, not too hard, from trustworthy sources, and items on other topics only when those run short. Tell us when something was too easy or too hard and it adapts.";

    public CandidateSources Sources => CandidateSources.Personal | CandidateSources.Topics;

    /// <summary>See <see cref="CoverWithin"/>.</summary>
    public bool CoversChosenTopics => true;

    /// <summary>See <see cref="Arrange"/>.</summary>
    public bool BalancesChosenTopics => true;

    public ParameterSchema Schema { get; } = new(
    [
        // What an empty list does, in the words both the welcome page and My goals show beside the topics (FocusTopics).
        CommonParameters.TopicsSpec() with { Description = "Topics you want to learn about. With none chosen, it follows the three topics you have read most, or every topic until you have read something." },
        new ParameterSpec(TargetSuccess, ParameterType.Number, 0.7,
            "How often you should be able to follow an item comfortably. Lower means more challenge.", 0.5, 0.9),
        new ParameterSpec(MasteredSuccess, ParameterType.Number, 0.92,
            "Items you would almost surely find easy count as mastered and are not shown again.", 0.8, 1),
        CommonParameters.CredibilityFloorSpec(0.4),
        CommonParameters.FloorCountsVerificationSpec(), CommonParameters.OnlyVerifiedSourcesSpec(),
        CommonParameters.CredibilityWeightSpec(0.3),
        new ParameterSpec(NoveltyWeight, ParameterType.Number, 0.3,
            "How much to prefer items unlike what you have already read.", 0, 2),
        new ParameterSpec(RelevanceWeight, ParameterType.Number, 0.3,
            "How much your usual tastes still count.", 0, 2),
    ]);

    public IReadOnlyList<RankedItem> Rank(RankingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var p = Schema.Resolve(request.Parameters);
        var eligible = RankingMath.Eligible(request, p.GetNumber(CommonParameters.CredibilityFloor), ProvenanceRule.From(p));
        if (eligible.Count == 0 || request.K <= 0)
        {
            return [];
        }
        var focus = FocusTopics(request, p);
        var target = p.GetNumber(TargetSuccess);
        var mastered = p.GetNumber(MasteredSuccess);
        var credWeight = p.GetNumber(CommonParameters.CredibilityWeight);
        var noveltyWeight = p.GetNumber(NoveltyWeight);
        var relevanceWeight = p.GetNumber(RelevanceWeight);
        var relevance = RankingMath.NormalizedRelevance(eligible);
        var history = HistoryEmbeddings(request);

        var scored = new List<(RankedItem item, string topic, double success)>(eligible.Count);
        for (var i = 0; i < eligible.Count; i++)
        {
            var c = eligible[i];
            var item = request.Catalog[c.ItemId];
            var matched = focus.Count == 0 ? item.Topics : [.. item.Topics.Where(focus.Contains)];
            // An item teaches a chosen topic whether or not it also covers others: by the share of its topics, a
            // two-topic item at the reader's level lost to a one-topic item far above or below it.
            var topicMatch = focus.Count == 0 || matched.Count > 0 ? 1.0 : 0;
            var skillTopics = matched.Count > 0 ? matched : item.Topics;
            var success = request.Catalog.PredictSuccess(request.User.Skills, c.ItemId, skillTopics);
            if (success >= mastered)
            {
                continue;
            }
            var zone = Math.Exp(-Math.Pow((success - target) / ZoneWidth, 2));
            var novelty = Novelty(c.Embedding.Span, history);
            var credibility = item.Credibility ?? 0.5;
            var components = new Dictionary<string, double>
            {
                [WhyThis.LevelFit] = zone,
                ["topic_match"] = TopicWeight * topicMatch,
                ["novelty"] = noveltyWeight * novelty,
                ["credibility"] = credWeight * credibility,
                ["relevance"] = relevanceWeight * relevance[i],
            };
            var score = components.Values.Sum();
            var topic = matched.Count > 0 ? matched[0] : item.Topics.FirstOrDefault() ?? "";
            scored.Add((new RankedItem(c.ItemId, score, components, []), topic, success));
        }
        var chosen = p.GetTextList(CommonParameters.Topics);
        var atLevel = scored.Where(s => s.success >= ChallengeBelow).Select(s => s.item.ItemId).ToHashSet();
        var top = Arrange(RankingMath.TakeTop(scored.Select(s => s.item), scored.Count, request.Seed), request.Catalog, chosen, atLevel, request.K);
        var byId = scored.ToDictionary(s => s.item.ItemId);
        var read = ReadAtTheirLevel(request);
        return [.. top.Select(r => r with { Reasons = Reasons(request, read, request.Catalog[r.ItemId], byId[r.ItemId].topic, byId[r.ItemId].success, chosen) })];
    }

    /// <summary>
    /// The list, place by place, each place depending only on the places above it, so a longer list (the next page)
    /// starts with the same items. With one chosen topic (or none) it is the score order.
    /// <para>With two or more, the chosen topics take turns: each place goes to the best-scored item at the reader's level
    /// (predicted success at least <see cref="ChallengeBelow"/>; mastered items are gone already) of a chosen topic that has
    /// had the fewest places so far among those that still have such items. So every chosen topic gets an equal share
    /// of each page (at least <see cref="ChosenTopicShare.Of"/> of it) while it has items at the reader's level, and a
    /// topic that runs out hands its places on to the others. Equal shares rather than shares in proportion to what
    /// each topic offers: a coach spreads practice over what the reader asked to learn, and the score order already
    /// favours the topic with more (and more popular) material, which is how one topic came to fill nine places in
    /// ten. An item counts for the chosen topics it carries, but not for a subject when it also carries a chosen topic
    /// below it (<see cref="TopicMix.OwnTopics"/>): a question tagged with its site and a chosen tag is the tag's,
    /// so choosing a subject and one of its tags does not count the tag's items twice.</para>
    /// <para>Once no chosen topic has items at the reader's level left, the rest follow by score (challenging and hard
    /// items on the chosen topics, then other topics), as before. Throughout, the first <see cref="CoverWithin"/> places hold at
    /// least one item of every chosen topic that has an eligible item: once the places left in that window are as few
    /// as the chosen topics still missing, the best item of a missing topic takes the place.</para>
    /// </summary>
    private static List<RankedItem> Arrange(List<RankedItem> ordered, Catalog catalog, IReadOnlyList<string> chosen, IReadOnlySet<long> atLevel, int k)
    {
        if (chosen.Count < 2)
        {
            return ordered.Take(k).ToList();
        }
        var places = chosen.Distinct(StringComparer.Ordinal).ToDictionary(t => t, _ => 0, StringComparer.Ordinal);
        var countsFor = ordered.Select(r => atLevel.Contains(r.ItemId)
            ? TopicMix.OwnTopics(catalog, [.. catalog[r.ItemId].Topics.Where(places.ContainsKey)])
            : []).ToList();
        var left = places.Keys.ToDictionary(t => t, t => countsFor.Count(c => c.Contains(t)), StringComparer.Ordinal);
        var missing = places.Keys.Where(t => ordered.Any(r => catalog[r.ItemId].Topics.Contains(t))).ToHashSet(StringComparer.Ordinal);
        var taken = new bool[ordered.Count];
        var result = new List<RankedItem>(Math.Min(k, ordered.Count));
        while (result.Count < k && result.Count < ordered.Count)
        {
            var index = -1;
            if (missing.Count > 0 && CoverWithin - result.Count <= missing.Count)
            {
                index = FirstUntaken(i => catalog[ordered[i].ItemId].Topics.Any(missing.Contains));
            }
            else if (left.Where(t => t.Value > 0).Select(t => places[t.Key]).DefaultIfEmpty(-1).Min() is var fewest and >= 0)
            {
                index = FirstUntaken(i => countsFor[i].Any(t => left[t] > 0 && places[t] == fewest));
            }
            if (index < 0)
            {
                index = FirstUntaken(_ => true);
            }
            taken[index] = true;
            result.Add(ordered[index]);
            foreach (var t in countsFor[index])
            {
                places[t]++;
                left[t]--;
            }
            missing.ExceptWith(catalog[ordered[index].ItemId].Topics);
        }
        return result;

        int FirstUntaken(Func<int, bool> wanted)
        {
            for (var i = 0; i < ordered.Count; i++)
            {
                if (!taken[i] && wanted(i))
                {
                    return i;
                }
            }
            return -1;
        }
    }

    /// <summary>The window in which every chosen topic appears: the first page of a feed.</summary>
    public const int CoverWithin = 10;

    /// <summary>The chosen topics, else the three the user read most about, else none (every topic counts).</summary>
    private static HashSet<string> FocusTopics(RankingRequest request, ObjectiveParameters p)
    {
        var chosen = p.GetTextList(CommonParameters.Topics);
        if (chosen.Count > 0)
        {
            return [.. chosen];
        }
        var fromHistory = RankingMath.Consumed(request.User)
            .SelectMany(id => request.Catalog.TryGet(id, out var item) ? item.Topics : [])
            .GroupBy(t => t, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(3).Select(g => g.Key);
        return [.. fromHistory];
    }

    /// <summary>Unit-length copies of the latest 50 consumed items' vectors, so novelty costs one dot product per pair.</summary>
    private static List<float[]> HistoryEmbeddings(RankingRequest request)
    {
        var list = new List<float[]>();
        if (request.Model.Rank == 0)
        {
            return list;
        }
        foreach (var id in RankingMath.Consumed(request.User).Reverse().Take(50))
        {
            if (request.Model.TryGetItemIndex(id, out var index))
            {
                var vector = request.Model.ItemVector(index).ToArray();
                var norm = TensorPrimitives.Norm(vector);
                if (norm > 0)
                {
                    TensorPrimitives.Divide(vector, norm, vector);
                    list.Add(vector);
                }
            }
        }
        return list;
    }

    private static double Novelty(ReadOnlySpan<float> embedding, List<float[]> history)
    {
        if (embedding.IsEmpty || history.Count == 0)
        {
            return 1;
        }
        var norm = TensorPrimitives.Norm(embedding);
        if (norm == 0)
        {
            return 1;
        }
        var maxDot = 0f;
        foreach (var h in history)
        {
            maxDot = Math.Max(maxDot, TensorPrimitives.Dot(embedding, h));
        }
        return 1 - maxDot / norm;
    }

    /// <summary>
    /// One reason: the topic and, only for an item with a level, how hard it should feel, said only as far as the reader's
    /// history holds it. An item marked too hard was not read at its level; a reader with no history on the topic is not
    /// told an item is "at your level". An item outside the chosen topics says so first. The source's standing is left to
    /// the card and to "mostly because", which names it where it lifted the item.
    /// </summary>
    private static IReadOnlyList<string> Reasons(RankingRequest request, IReadOnlyList<ItemInfo> readAll, ItemInfo item, string topic, double success,
        IReadOnlyCollection<string> chosen)
    {
        var label = string.IsNullOrEmpty(topic) ? "this subject" : request.Catalog.Label(topic);
        var read = readAll.Where(seen => seen.Topics.Contains(topic)).ToList();
        // Feedback and answers on the topic tell the skill model something even where nothing was read.
        var toldUs = request.User.Skills.ContainsKey(topic);
        // "A step beyond" only for an item above every level the reader has read on the topic.
        var deepestRead = read.Max(seen => seen.Level);
        var outside = chosen.Count > 0 && !item.Topics.Any(chosen.Contains);
        var first = (item.Level, success) switch
        {
            (null, _) when chosen.Contains(topic) => $"On {label}, a topic you chose.",
            (null, _) when read.Count > 0 => $"More on {label}, which you have read about.",
            (null, _) => $"On {label}.",
            (_, > 0.85) => $"A gentle start on {label}.",
            // Far below the aimed-for success the item is a stretch, and is called one.
            (_, < HardBelow) when read.Count > 0 || toldUs => $"A hard one on {label}, above your level for now.",
            (_, < HardBelow) => $"A hard one on {label} for someone new to it.",
            (_, < ChallengeBelow) => $"A real challenge on {label}, but within reach.",
            _ when deepestRead is { } deepest && item.Level <= deepest => $"More on {label}, at the level you have been reading.",
            _ when read.Count > 0 => $"A step beyond what you've read on {label}.",
            _ when toldUs => $"On {label}, at the level your answers and feedback so far suggest.",
            _ => $"A good first step into {label}.",
        };
        return [outside ? $"Outside the topics you chose: {char.ToLowerInvariant(first[0])}{first[1..]}" : first];
    }

    /// <summary>The items the reader consumed, read once per list: an item they marked too hard was not read at its level.</summary>
    private static List<ItemInfo> ReadAtTheirLevel(RankingRequest request)
    {
        var tooHard = request.User.History.Where(h => h.Kind == EventKind.TooHard).Select(h => h.ItemId).ToHashSet();
        return [.. RankingMath.Consumed(request.User).Where(id => !tooHard.Contains(id))
            .Select(id => request.Catalog.TryGet(id, out var seen) ? seen : null).OfType<ItemInfo>()];
    }
}
