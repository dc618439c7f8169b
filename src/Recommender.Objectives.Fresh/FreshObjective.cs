using Recommender.Core;
using Recommender.Core.Ranking;

namespace Recommender.Objectives.Fresh;

/// <summary>Sample plug-in: things you may like, with newer items first. Items without a date count as old.</summary>
public sealed class FreshObjective : IObjective
{
    public string Id => "fresh";

    public string Version => "1.1.0";

    public string DisplayName => "What's new";

    public string Description => "Shows recent items first, still picked for your tastes.";

    // The most recent items too, not only the reader's model top-N: an item published since the model was trained is
    // in no one's top-N, and it is what this goal is for.
    public CandidateSources Sources => CandidateSources.Personal | CandidateSources.RecentPopular;

    public ParameterSchema Schema { get; } = new(
    [
        new ParameterSpec("half_life_days", ParameterType.Number, 14.0, "After this many days an item counts as half as fresh.", 1, 365),
        new ParameterSpec("freshness_weight", ParameterType.Number, 0.6, "How much newness counts against your tastes (0..1).", 0, 1),
        new ParameterSpec("credibility_floor", ParameterType.Number, 0.0, "Never show items from sources rated below this credibility.", 0, 1),
    ]);

    public IReadOnlyList<RankedItem> Rank(RankingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var p = Schema.Resolve(request.Parameters);
        var halfLife = p.GetNumber("half_life_days");
        var weight = p.GetNumber("freshness_weight");
        var eligible = RankingMath.Eligible(request, p.GetNumber("credibility_floor"));
        var relevance = RankingMath.NormalizedRelevance(eligible);
        var scored = eligible.Select((c, i) =>
        {
            var published = request.Catalog[c.ItemId].PublishedAt;
            var freshness = published is { } at ? Math.Pow(0.5, Math.Max(0, (request.Now - at).TotalDays) / halfLife) : 0;
            var components = new Dictionary<string, double> { ["freshness"] = weight * freshness, ["relevance"] = (1 - weight) * relevance[i] };
            string reason = freshness >= 0.5 ? "New this week or so, and close to your tastes." : "Close to your tastes.";
            return new RankedItem(c.ItemId, components.Values.Sum(), components, [reason]);
        });
        return RankingMath.TakeTop(scored, request.K, request.Seed);
    }
}
