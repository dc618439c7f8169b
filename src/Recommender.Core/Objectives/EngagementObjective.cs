using Recommender.Core.Ranking;

namespace Recommender.Core.Objectives;

/// <summary>Classic "more of what you like": the model's predicted relevance, or popularity for users it does not know.</summary>
public sealed class EngagementObjective : IObjective
{
    public const string ObjectiveId = "engagement";

    public string Id => ObjectiveId;

    public string Version => "1.0.0";

    public string DisplayName => "More of what I enjoy";

    public string Description =>
        "Shows what you are most likely to enjoy, based on what you and people with similar tastes liked. New here? You get what many people like.";

    public CandidateSources Sources => CandidateSources.Personal | CandidateSources.RecentPopular;

    public ParameterSchema Schema { get; } = new([CommonParameters.PopularityWeightSpec(), CommonParameters.PriorShrinkageSpec(), CommonParameters.CredibilityFloorSpec(0)]);

    public IReadOnlyList<RankedItem> Rank(RankingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var p = Schema.Resolve(request.Parameters);
        var eligible = RankingMath.Eligible(request, p.GetNumber(CommonParameters.CredibilityFloor));
        var relevance = RankingMath.EngagementRelevance(request, eligible, p.GetNumber(CommonParameters.PopularityWeight), p.GetNumber(CommonParameters.PriorShrinkage));
        var scored = eligible.Select((c, i) => new RankedItem(c.ItemId, relevance[i], new Dictionary<string, double> { ["relevance"] = relevance[i] }, []));
        var top = RankingMath.TakeTop(scored, request.K, request.Seed);
        var history = HistoryVectors(request);
        return [.. top.Select(r => r with { Reasons = [Reason(request, r.ItemId, history)] })];
    }

    private static List<(ItemInfo item, ReadOnlyMemory<float> vector)> HistoryVectors(RankingRequest request)
    {
        var list = new List<(ItemInfo, ReadOnlyMemory<float>)>();
        if (!request.Personalized || request.Model.Rank == 0)
        {
            return list;
        }
        // The latest 50 liked items are enough to name a "because you liked" neighbour.
        foreach (var id in RankingMath.Consumed(request.User).Reverse().Take(50))
        {
            if (request.Catalog.TryGet(id, out var item) && request.Model.TryGetItemIndex(id, out var index))
            {
                list.Add((item, request.Model.ItemVector(index)));
            }
        }
        return list;
    }

    private static string Reason(RankingRequest request, long itemId, List<(ItemInfo item, ReadOnlyMemory<float> vector)> history)
    {
        if (!request.Personalized)
        {
            return "Many people enjoyed this.";
        }
        if (history.Count > 0 && request.Model.TryGetItemIndex(itemId, out var index))
        {
            var vector = request.Model.ItemVector(index);
            var best = history.MaxBy(h => RankingMath.Cosine(vector.Span, h.vector.Span));
            return $"Because you liked \"{best.item.Title}\".";
        }
        return "People with tastes like yours enjoyed this.";
    }
}
