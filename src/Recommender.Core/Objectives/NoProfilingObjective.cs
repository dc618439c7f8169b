using Recommender.Core.Ranking;

namespace Recommender.Core.Objectives;

/// <summary>
/// The recommender option not based on profiling (EU Digital Services Act, Art. 38): recent, broadly liked,
/// topic-balanced. It reads nothing about the user except the items they asked never to see again or already
/// consumed, which are removed, so any two users with the same settings and exclusions get the same list.
/// </summary>
public sealed class NoProfilingObjective : IObjective
{
    public const string ObjectiveId = "no_profiling";
    public const string RecencyWeight = "recency_weight";
    public const string HalfLifeDays = "half_life_days";
    public const string TopicBalance = "topic_balance";

    public string Id => ObjectiveId;

    public string Version => "1.0.0";

    public string DisplayName => "Don't profile me";

    public string Description =>
        "Uses nothing about you: shows items that many people liked, newer ones first among equals, spread across topics. Everyone with these settings sees the same list.";

    public CandidateSources Sources => CandidateSources.RecentPopular;

    public ParameterSchema Schema { get; } = new(
    [
        CommonParameters.TopicsSpec() with { Description = "Topics to show. Empty means all topics." },
        new ParameterSpec(RecencyWeight, ParameterType.Number, 0.5,
            "How much newer items are preferred over broadly liked ones.", 0, 2),
        new ParameterSpec(HalfLifeDays, ParameterType.Number, 30.0,
            "Days after which an item counts as half as recent.", 1, 3650),
        new ParameterSpec(TopicBalance, ParameterType.Number, 0.5,
            "How strongly to avoid several items on the same topic.", 0, 2),
        CommonParameters.CredibilityFloorSpec(0.4),
        CommonParameters.CredibilityWeightSpec(0.2),
    ]);

    public IReadOnlyList<RankedItem> Rank(RankingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var p = Schema.Resolve(request.Parameters);
        var topics = p.GetTextList(CommonParameters.Topics);
        var recencyWeight = p.GetNumber(RecencyWeight);
        var halfLife = p.GetNumber(HalfLifeDays);
        var balance = p.GetNumber(TopicBalance);
        var credWeight = p.GetNumber(CommonParameters.CredibilityWeight);
        var pool = RankingMath.Eligible(request, p.GetNumber(CommonParameters.CredibilityFloor))
            .Select(c => request.Catalog[c.ItemId])
            .Where(i => topics.Count == 0 || i.Topics.Any(topics.Contains))
            .Select(i =>
            {
                var recency = i.PublishedAt is { } at ? Math.Pow(0.5, Math.Max(0, (request.Now - at).TotalDays) / halfLife) : 0;
                var baseScore = request.Catalog.PopularityScore(i.Id) + recencyWeight * recency + credWeight * (i.Credibility ?? 0.5);
                return (item: i, recency, baseScore);
            })
            // Candidate order can depend on the model; sorting here keeps the result independent of it.
            .OrderByDescending(x => x.baseScore).ThenBy(x => RankingMath.TieBreak(request.Seed, x.item.Id)).ThenBy(x => x.item.Id)
            .ToList();

        var topicCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = new List<RankedItem>(Math.Min(request.K, pool.Count));
        var taken = new bool[pool.Count];
        while (result.Count < request.K && result.Count < pool.Count)
        {
            var best = -1;
            var bestScore = double.NegativeInfinity;
            var bestPenalty = 0.0;
            for (var i = 0; i < pool.Count; i++)
            {
                if (taken[i])
                {
                    continue;
                }
                var penalty = pool[i].item.Topics.Count == 0 ? 0 : balance * pool[i].item.Topics.Max(t => topicCounts.GetValueOrDefault(t)) / (result.Count + 1.0);
                var score = pool[i].baseScore - penalty;
                if (score > bestScore)
                {
                    best = i;
                    bestScore = score;
                    bestPenalty = penalty;
                }
            }
            taken[best] = true;
            var (item, recency, _) = pool[best];
            foreach (var t in item.Topics)
            {
                topicCounts[t] = topicCounts.GetValueOrDefault(t) + 1;
            }
            var components = new Dictionary<string, double>
            {
                ["popularity"] = request.Catalog.PopularityScore(item.Id),
                ["recency"] = recencyWeight * recency,
                ["credibility"] = credWeight * (item.Credibility ?? 0.5),
                ["topic_balance"] = -bestPenalty,
            };
            // What lifted it (many people liking it, being recent) is said by "mostly because", from its components.
            result.Add(new RankedItem(item.Id, bestScore, components, ["Chosen without using anything about you."]));
        }
        return result;
    }
}
