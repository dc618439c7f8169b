using Recommender.Core.Ranking;

namespace Recommender.Core.Objectives;

/// <summary>
/// Advanced setting: a user-weighted mix of the built-in objectives. Each ranks the candidates on its own; an item's
/// blended score is the weighted sum of its rank positions (a Borda count), so no objective's score scale dominates.
/// </summary>
public sealed class BlendObjective : IObjective
{
    public const string ObjectiveId = "blend";

    /// <summary>Each part with the parameter that weighs it, declared as such in the schema.</summary>
    private readonly IReadOnlyList<(IObjective Part, string Weight)> _parts;

    public BlendObjective()
        : this([new EngagementObjective(), new LearningObjective(), new DiversityObjective(), new NoProfilingObjective()])
    {
    }

    public BlendObjective(IReadOnlyList<IObjective> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var weights = parts.Select(o => new ParameterSpec(o.Id + "_weight", ParameterType.Number,
            o.Id == EngagementObjective.ObjectiveId ? 0.5 : o.Id == NoProfilingObjective.ObjectiveId ? 0.0 : 0.25,
            $"Weight of \u201c{o.DisplayName}\u201d in the mix.", 0, 1, Weighs: o.Id)).ToList();
        _parts = [.. parts.Zip(weights, (o, w) => (o, w.Name))];
        Schema = new ParameterSchema(
        [
            .. weights,
            CommonParameters.TopicsSpec(),
            CommonParameters.CredibilityFloorSpec(0.4),
        ]);
    }

    public string Id => ObjectiveId;

    public string Version => "1.3.0";

    public string DisplayName => "My own mix";

    public string Description =>
        "Combine the other goals with weights you choose, for example mostly what you enjoy with some learning mixed in.";

    public CandidateSources Sources => CandidateSources.Personal | CandidateSources.Topics | CandidateSources.RecentPopular;

    public ParameterSchema Schema { get; }

    /// <summary>The schema's checks, and a mix that would show nothing (every weight 0) is refused rather than saved.</summary>
    public IReadOnlyList<ParameterError> Validate(ObjectiveParameters parameters)
    {
        var errors = Schema.Validate(parameters);
        if (errors.Count > 0)
        {
            return errors;
        }
        var resolved = Schema.Resolve(parameters);
        return _parts.Any(part => resolved.GetNumber(part.Weight) > 0)
            ? []
            : [new ParameterError(WeightsField, "Give at least one goal a weight above 0: a mix of nothing would show you nothing.")];
    }

    /// <summary>How deep each goal ranks for the mix; a mix is at most as long as the goals' lists together.</summary>
    public const int Depth = 50;

    /// <summary>The field named by the error for a mix whose weights are all 0.</summary>
    public const string WeightsField = "weights";

    public IReadOnlyList<RankedItem> Rank(RankingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var p = Schema.Resolve(request.Parameters);
        // One depth whatever the list's length: shares are places out of it, so the next page continues the same ranking.
        var depth = Math.Min(request.Candidates.Count, Depth);
        var totals = new Dictionary<long, (double score, Dictionary<string, double> parts, IReadOnlyList<string> reasons, double bestShare)>();
        foreach (var (part, weightName) in _parts)
        {
            var weight = p.GetNumber(weightName);
            if (weight <= 0)
            {
                continue;
            }
            var shared = ObjectiveParameters.Empty;
            foreach (var name in new[] { CommonParameters.Topics, CommonParameters.CredibilityFloor })
            {
                if (part.Schema.TryGet(name, out _))
                {
                    shared = shared.WithValue(name, p.Values[name]);
                }
            }
            var ranked = part.Rank(request with { Parameters = shared, K = depth });
            for (var r = 0; r < ranked.Count; r++)
            {
                var share = weight * (1 - (double)r / depth);
                var entry = totals.TryGetValue(ranked[r].ItemId, out var e) ? e : (0, new Dictionary<string, double>(), [], double.MinValue);
                entry.parts[part.Id] = share;
                entry.score += share;
                if (share > entry.bestShare)
                {
                    // A part's reasons about its own list would describe a list the reader is not shown.
                    entry.reasons = ranked[r].Reasons.Count > 0 ? ranked[r].Reasons
                        : [$"\u201c{part.DisplayName}\u201d, part of your mix, ranks it high."];
                    entry.bestShare = share;
                }
                totals[ranked[r].ItemId] = entry;
            }
        }
        var items = totals.Select(t => new RankedItem(t.Key, t.Value.score, t.Value.parts, t.Value.reasons));
        return RankingMath.TakeTop(items, request.K, request.Seed);
    }
}
