using Recommender.Core.Ranking;

namespace Recommender.Core.Objectives;

/// <summary>
/// "Balance my worldview with other ideas": maximal marginal relevance over item embeddings, a topic mix widened
/// from the user's history towards the whole catalog, and balance between stances where items carry one.
/// </summary>
public sealed class DiversityObjective : IObjective
{
    public const string ObjectiveId = "diversity";
    public const string Lambda = "lambda";
    public const string Breadth = "breadth";
    public const string CalibrationWeight = "calibration_weight";
    public const string ViewpointWeight = "viewpoint_weight";
    public const string PoolSize = "pool_size";
    public const string Redundancy = "redundancy";

    public string Id => ObjectiveId;

    public string Version => "1.0.0";

    public string DisplayName => "Show me other perspectives";

    public string Description =>
        "Still things you may like, but each pick differs from the others, your usual topics widen a little, and where a subject has sides you see more than one.";

    public CandidateSources Sources => CandidateSources.Personal | CandidateSources.RecentPopular;

    public ParameterSchema Schema { get; } = new(
    [
        new ParameterSpec(Lambda, ParameterType.Number, 0.7,
            "Balance between relevance (1) and variety (0).", 0, 1),
        new ParameterSpec(Breadth, ParameterType.Number, 0.3,
            "How far your topic mix is widened towards everything the catalog covers.", 0, 1),
        new ParameterSpec(CalibrationWeight, ParameterType.Number, 0.2,
            "How strongly to fill topics that are under-represented in your list.", 0, 2),
        new ParameterSpec(ViewpointWeight, ParameterType.Number, 0.1,
            "How strongly to balance items taking opposite sides.", 0, 2),
        new ParameterSpec(Redundancy, ParameterType.Text, "max",
            "Compare each pick with its closest earlier pick (max) or with all of them on average (mean).", AllowedValues: ["max", "mean"]),
        new ParameterSpec(PoolSize, ParameterType.Integer, 100.0,
            "How many of your most relevant candidates the variety is chosen from.", 10, 2000),
        CommonParameters.PopularityWeightSpec(), CommonParameters.PriorShrinkageSpec(),
        CommonParameters.CredibilityFloorSpec(0.4),
    ]);

    public IReadOnlyList<RankedItem> Rank(RankingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var p = Schema.Resolve(request.Parameters);
        var lambda = p.GetNumber(Lambda);
        var calibrationWeight = p.GetNumber(CalibrationWeight);
        var viewpointWeight = p.GetNumber(ViewpointWeight);
        // Relevance is the engagement objective's, so "variety" trades against the same notion of what the user likes.
        var eligible = RankingMath.Eligible(request, p.GetNumber(CommonParameters.CredibilityFloor));
        var engagement = RankingMath.EngagementRelevance(request, eligible, p.GetNumber(CommonParameters.PopularityWeight), p.GetNumber(CommonParameters.PriorShrinkage));
        var pool = eligible.Select((c, i) => c with { Relevance = engagement[i] })
            .OrderByDescending(c => c.Relevance).ThenBy(c => RankingMath.TieBreak(request.Seed, c.ItemId)).ThenBy(c => c.ItemId)
            .Take((int)p.GetNumber(PoolSize)).ToList();
        var k = Math.Min(request.K, pool.Count);
        if (k <= 0)
        {
            return [];
        }

        var relevance = RankingMath.NormalizedRelevance(pool);
        var items = pool.Select(c => request.Catalog[c.ItemId]).ToArray();
        var historyMix = HistoryTopicMix(request);
        var target = TargetMix(request.Catalog, historyMix, p.GetNumber(Breadth));
        var useEmbeddings = pool[0].Embedding.Length > 0;
        var norms = pool.Select(c => useEmbeddings ? System.Numerics.Tensors.TensorPrimitives.Norm(c.Embedding.Span) : 0f).ToArray();

        var useMean = p.GetText(Redundancy) == "mean";
        var maxSimilarity = new double[pool.Count];
        var sumSimilarity = new double[pool.Count];
        var taken = new bool[pool.Count];
        var selectedTopics = new Dictionary<string, double>(StringComparer.Ordinal);
        var selectedTopicMass = 0.0;
        var stanceSum = 0.0;
        var result = new List<RankedItem>(k);
        for (var step = 0; step < k; step++)
        {
            var best = -1;
            var bestScore = double.NegativeInfinity;
            var bestParts = (redundancy: 0.0, calibration: 0.0, viewpoint: 0.0);
            for (var i = 0; i < pool.Count; i++)
            {
                if (taken[i])
                {
                    continue;
                }
                var redundancy = step == 0 ? 0 : useMean ? sumSimilarity[i] / step : maxSimilarity[i];
                var calibration = CalibrationGain(items[i], target, selectedTopics, selectedTopicMass);
                // Only a list already leaning one way gains or loses: taking a side in a balanced list is not penalised.
                var viewpoint = items[i].Stance is { } s && stanceSum != 0 ? Math.Abs(stanceSum) - Math.Abs(stanceSum + s) : 0;
                var score = lambda * relevance[i] - (1 - lambda) * redundancy + calibrationWeight * calibration + viewpointWeight * viewpoint;
                if (best < 0 || score > bestScore || (score == bestScore && Before(request.Seed, pool[i].ItemId, pool[best].ItemId)))
                {
                    best = i;
                    bestScore = score;
                    bestParts = (redundancy, calibration, viewpoint);
                }
            }
            taken[best] = true;
            var chosen = items[best];
            foreach (var t in chosen.Topics)
            {
                selectedTopics[t] = selectedTopics.GetValueOrDefault(t) + 1.0 / chosen.Topics.Count;
            }
            selectedTopicMass += chosen.Topics.Count > 0 ? 1 : 0;
            stanceSum += chosen.Stance ?? 0;
            for (var i = 0; i < pool.Count; i++)
            {
                if (!taken[i])
                {
                    var sim = useEmbeddings
                        ? Similarity(pool[i].Embedding.Span, norms[i], pool[best].Embedding.Span, norms[best])
                        : RankingMath.TopicOverlap(items[i].Topics, chosen.Topics);
                    maxSimilarity[i] = step == 0 ? sim : Math.Max(maxSimilarity[i], sim);
                    sumSimilarity[i] += sim;
                }
            }
            var components = new Dictionary<string, double>
            {
                ["relevance"] = lambda * relevance[best],
                ["redundancy"] = -(1 - lambda) * bestParts.redundancy,
                ["calibration"] = calibrationWeight * bestParts.calibration,
                ["viewpoint"] = viewpointWeight * bestParts.viewpoint,
            };
            result.Add(new RankedItem(chosen.Id, bestScore, components, Reasons(chosen, historyMix, bestParts.viewpoint)));
        }
        return result;
    }

    private static bool Before(int seed, long a, long b)
    {
        var ta = RankingMath.TieBreak(seed, a);
        var tb = RankingMath.TieBreak(seed, b);
        return ta < tb || (ta == tb && a < b);
    }

    private static double Similarity(ReadOnlySpan<float> a, float normA, ReadOnlySpan<float> b, float normB) =>
        normA == 0 || normB == 0 ? 0 : System.Numerics.Tensors.TensorPrimitives.Dot(a, b) / (normA * normB);

    /// <summary>Share of each topic in what the user consumed; an item with n topics gives 1/n to each.</summary>
    private static Dictionary<string, double> HistoryTopicMix(RankingRequest request)
    {
        var mix = new Dictionary<string, double>(StringComparer.Ordinal);
        var total = 0.0;
        foreach (var id in RankingMath.Consumed(request.User))
        {
            if (request.Catalog.TryGet(id, out var item) && item.Topics.Count > 0)
            {
                foreach (var t in item.Topics)
                {
                    mix[t] = mix.GetValueOrDefault(t) + 1.0 / item.Topics.Count;
                }
                total++;
            }
        }
        foreach (var t in mix.Keys.ToList())
        {
            mix[t] /= total;
        }
        return mix;
    }

    /// <summary>The history mix moved towards a uniform mix over all catalog topics by <paramref name="breadth"/>.</summary>
    private static Dictionary<string, double> TargetMix(Catalog catalog, Dictionary<string, double> history, double breadth)
    {
        var uniform = catalog.Topics.Count == 0 ? 0 : 1.0 / catalog.Topics.Count;
        var historyWeight = history.Count == 0 ? 0 : 1 - breadth;
        var uniformWeight = 1 - historyWeight;
        return catalog.Topics.ToDictionary(t => t, t => historyWeight * history.GetValueOrDefault(t) + uniformWeight * uniform, StringComparer.Ordinal);
    }

    /// <summary>How much of the target mix this item fills that the list so far leaves empty (0..1).</summary>
    private static double CalibrationGain(ItemInfo item, Dictionary<string, double> target, Dictionary<string, double> selected, double mass)
    {
        if (item.Topics.Count == 0)
        {
            return 0;
        }
        var gain = 0.0;
        foreach (var t in item.Topics)
        {
            var share = mass == 0 ? 0 : selected.GetValueOrDefault(t) / mass;
            gain += Math.Max(0, target.GetValueOrDefault(t) - share);
        }
        return Math.Min(1, gain / item.Topics.Count * Math.Max(1, target.Count));
    }

    private static IReadOnlyList<string> Reasons(ItemInfo item, Dictionary<string, double> history, double viewpoint)
    {
        var reasons = new List<string>(2);
        var fresh = item.Topics.FirstOrDefault(t => history.Count > 0 && history.GetValueOrDefault(t) < 0.02);
        reasons.Add(fresh is not null
            ? $"Widens your mix: you rarely read about {fresh}."
            : "Relevant to you, and unlike the other picks in this list.");
        if (viewpoint > 0)
        {
            reasons.Add("Offers another side of a debate in your list.");
        }
        return reasons;
    }
}
