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
    public const string Variety = "variety";
    public const string LambdaFloor = "lambda_floor";

    /// <summary>How far the balance moves per try when a list is not yet varied enough.</summary>
    private const double LambdaStep = 0.1;

    public string Id => ObjectiveId;

    public string Version => "1.1.0";

    public string DisplayName => "Show me other perspectives";

    public string Description =>
        "Still things you may like, but each pick differs from the others, your usual topics widen a little, and where a subject has sides you see more than one.";

    public CandidateSources Sources => CandidateSources.Personal | CandidateSources.RecentPopular;

    public ParameterSchema Schema { get; } = new(
    [
        new ParameterSpec(Lambda, ParameterType.Number, 0.7,
            "Balance between relevance (1) and variety (0) that a list starts from.", 0, 1),
        new ParameterSpec(Variety, ParameterType.Number, 1.3,
            "How much more varied than your closest matches a list should be (1.3: 30% more); the balance moves towards variety, a tenth at a time, until it is.", 1, 2),
        new ParameterSpec(LambdaFloor, ParameterType.Number, 0.2,
            "The furthest towards variety the balance may move to get there.", 0, 1),
        new ParameterSpec(Breadth, ParameterType.Number, 0.3,
            "How far your topic mix is widened towards everything the catalog covers.", 0, 1),
        new ParameterSpec(CalibrationWeight, ParameterType.Number, 0.2,
            "How strongly to fill topics that are under-represented in your list.", 0, 2),
        new ParameterSpec(ViewpointWeight, ParameterType.Number, 0.1,
            "How strongly to balance items taking opposite sides.", 0, 2),
        new ParameterSpec(Redundancy, ParameterType.Text, "mean",
            "Compare each pick with its closest earlier pick (max) or with all of them on average (mean).", AllowedValues: ["max", "mean"]),
        new ParameterSpec(PoolSize, ParameterType.Integer, 500.0,
            "How many of your most relevant candidates the variety is chosen from.", 10, 2000),
        CommonParameters.PopularityWeightSpec(), CommonParameters.PriorShrinkageSpec(),
        CommonParameters.CredibilityFloorSpec(0.4),
        CommonParameters.FloorCountsVerificationSpec(), CommonParameters.OnlyVerifiedSourcesSpec(),
    ]);

    public IReadOnlyList<RankedItem> Rank(RankingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var p = Schema.Resolve(request.Parameters);
        // Relevance is the engagement objective's, so "variety" trades against the same notion of what the user likes.
        var eligible = RankingMath.Eligible(request, p.GetNumber(CommonParameters.CredibilityFloor), ProvenanceRule.From(p));
        var engagement = RankingMath.EngagementRelevance(request, eligible, p.GetNumber(CommonParameters.PopularityWeight), p.GetNumber(CommonParameters.PriorShrinkage));
        var pool = eligible.Select((c, i) => c with { Relevance = engagement[i] })
            .OrderByDescending(c => c.Relevance).ThenBy(c => RankingMath.TieBreak(request.Seed, c.ItemId)).ThenBy(c => c.ItemId)
            .Take((int)p.GetNumber(PoolSize)).ToList();
        var k = Math.Min(request.K, pool.Count);
        if (k <= 0)
        {
            return [];
        }

        var selection = new Selection(request, pool, p);
        // The pool is in relevance order, so its first k are the closest matches: the list variety is measured against.
        var closest = selection.Diversity(Enumerable.Range(0, k).ToList());
        var wanted = p.GetNumber(Variety) * closest;
        var lambda = p.GetNumber(Lambda);
        var floor = Math.Min(lambda, p.GetNumber(LambdaFloor));
        var first = selection.Select(k, lambda);
        if (lambda <= floor || selection.Diversity(first) >= wanted)
        {
            return selection.Ranked(first, lambda);
        }
        // Relevance is given up only for variety the pool can deliver. When even the floor falls short of the
        // target, the candidates are too alike (or already far apart): settle for half the extra variety if the
        // floor reaches that, else keep the first list rather than lose relevance for little.
        var atFloor = selection.Select(k, floor);
        var floorVariety = selection.Diversity(atFloor);
        if (floorVariety < wanted)
        {
            wanted = (closest + wanted) / 2;
            if (floorVariety < wanted)
            {
                return selection.Ranked(first, lambda);
            }
        }
        for (var next = Math.Round(lambda - LambdaStep, 6); next > floor; next = Math.Round(next - LambdaStep, 6))
        {
            var picks = selection.Select(k, next);
            if (selection.Diversity(picks) >= wanted)
            {
                return selection.Ranked(picks, next);
            }
        }
        return selection.Ranked(atFloor, floor);
    }

    /// <summary>One chosen pool entry with the parts of its marginal score when it was chosen.</summary>
    private readonly record struct Pick(int Entry, double Score, double Redundancy, double Calibration, double Viewpoint);

    /// <summary>
    /// One request's pool, prepared once, from which lists are chosen at a given balance. Topics become indices and
    /// each picked item's similarities to the pool are computed once, since every try at a new balance reuses them.
    /// </summary>
    private sealed class Selection
    {
        private readonly RankingRequest _request;
        private readonly List<Candidate> _pool;
        private readonly ItemInfo[] _items;
        private readonly double[] _relevance;
        private readonly float[] _norms;
        private readonly bool _useEmbeddings;
        private readonly bool _useMean;
        private readonly double _calibrationWeight;
        private readonly double _viewpointWeight;
        private readonly Dictionary<string, double> _historyMix;
        private readonly int[][] _topics;
        private readonly double[] _target;
        private readonly int _catalogTopicCount;
        private readonly double[]?[] _similarityRows;

        public Selection(RankingRequest request, List<Candidate> pool, ObjectiveParameters p)
        {
            _request = request;
            _pool = pool;
            _items = pool.Select(c => request.Catalog[c.ItemId]).ToArray();
            _relevance = RankingMath.NormalizedRelevance(pool);
            _useEmbeddings = pool[0].Embedding.Length > 0;
            _norms = pool.Select(c => _useEmbeddings ? System.Numerics.Tensors.TensorPrimitives.Norm(c.Embedding.Span) : 0f).ToArray();
            _useMean = p.GetText(Redundancy) == "mean";
            _calibrationWeight = p.GetNumber(CalibrationWeight);
            _viewpointWeight = p.GetNumber(ViewpointWeight);
            _historyMix = HistoryTopicMix(request);
            var target = TargetMix(request.Catalog, _historyMix, p.GetNumber(Breadth));
            _catalogTopicCount = target.Count;
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            _topics = _items.Select(item => item.Topics.Select(t => index.TryGetValue(t, out var n) ? n : index[t] = index.Count).ToArray()).ToArray();
            _target = new double[index.Count];
            foreach (var (topic, n) in index)
            {
                _target[n] = target.GetValueOrDefault(topic);
            }
            _similarityRows = new double[]?[pool.Count];
        }

        /// <summary>Similarities of one pool entry to every other: item embeddings where the model has them, else shared topics.</summary>
        private double[] SimilarityRow(int a)
        {
            if (_similarityRows[a] is { } cached)
            {
                return cached;
            }
            var row = new double[_pool.Count];
            for (var b = 0; b < row.Length; b++)
            {
                row[b] = _useEmbeddings
                    ? Similarity(_pool[a].Embedding.Span, _norms[a], _pool[b].Embedding.Span, _norms[b])
                    : RankingMath.TopicOverlap(_request.Catalog, _items[a].Topics, _items[b].Topics);
            }
            return _similarityRows[a] = row;
        }

        /// <summary>Intra-list diversity: 1 − mean pairwise similarity of the given pool entries.</summary>
        public double Diversity(IReadOnlyList<int> entries)
        {
            var total = 0.0;
            var pairs = 0;
            for (var a = 0; a < entries.Count; a++)
            {
                var row = SimilarityRow(entries[a]);
                for (var b = a + 1; b < entries.Count; b++)
                {
                    total += row[entries[b]];
                    pairs++;
                }
            }
            return pairs == 0 ? 0 : 1 - total / pairs;
        }

        public double Diversity(IReadOnlyList<Pick> picks) => Diversity(picks.Select(x => x.Entry).ToList());

        /// <summary>How much of the target mix this entry fills that the list so far leaves empty (0..1).</summary>
        private double CalibrationGain(int entry, double[] selected, double mass)
        {
            var topics = _topics[entry];
            if (topics.Length == 0)
            {
                return 0;
            }
            var gain = 0.0;
            foreach (var t in topics)
            {
                var share = mass == 0 ? 0 : selected[t] / mass;
                gain += Math.Max(0, _target[t] - share);
            }
            return Math.Min(1, gain / topics.Length * Math.Max(1, _catalogTopicCount));
        }

        /// <summary>Greedy maximal marginal relevance at balance <paramref name="lambda"/>, with calibration and viewpoint terms.</summary>
        public List<Pick> Select(int k, double lambda)
        {
            var maxSimilarity = new double[_pool.Count];
            var sumSimilarity = new double[_pool.Count];
            var taken = new bool[_pool.Count];
            var selectedTopics = new double[_target.Length];
            var selectedTopicMass = 0.0;
            var stanceSum = 0.0;
            var picks = new List<Pick>(k);
            for (var step = 0; step < k; step++)
            {
                var best = -1;
                var bestScore = double.NegativeInfinity;
                var bestParts = (redundancy: 0.0, calibration: 0.0, viewpoint: 0.0);
                for (var i = 0; i < _pool.Count; i++)
                {
                    if (taken[i])
                    {
                        continue;
                    }
                    var redundancy = step == 0 ? 0 : _useMean ? sumSimilarity[i] / step : maxSimilarity[i];
                    var calibration = CalibrationGain(i, selectedTopics, selectedTopicMass);
                    // Only a list already leaning one way gains or loses: taking a side in a balanced list is not penalised.
                    var viewpoint = _items[i].Stance is { } s && stanceSum != 0 ? Math.Abs(stanceSum) - Math.Abs(stanceSum + s) : 0;
                    var score = lambda * _relevance[i] - (1 - lambda) * redundancy + _calibrationWeight * calibration + _viewpointWeight * viewpoint;
                    if (best < 0 || score > bestScore || (score == bestScore && Before(_request.Seed, _pool[i].ItemId, _pool[best].ItemId)))
                    {
                        best = i;
                        bestScore = score;
                        bestParts = (redundancy, calibration, viewpoint);
                    }
                }
                taken[best] = true;
                picks.Add(new Pick(best, bestScore, bestParts.redundancy, bestParts.calibration, bestParts.viewpoint));
                foreach (var t in _topics[best])
                {
                    selectedTopics[t] += 1.0 / _topics[best].Length;
                }
                selectedTopicMass += _topics[best].Length > 0 ? 1 : 0;
                stanceSum += _items[best].Stance ?? 0;
                var row = SimilarityRow(best);
                for (var i = 0; i < _pool.Count; i++)
                {
                    maxSimilarity[i] = step == 0 ? row[i] : Math.Max(maxSimilarity[i], row[i]);
                    sumSimilarity[i] += row[i];
                }
            }
            return picks;
        }

        /// <summary>The list served: each pick with its score, the named parts of that score and why it is shown.</summary>
        public List<RankedItem> Ranked(List<Pick> picks, double lambda) =>
        [
            .. picks.Select(x => new RankedItem(_items[x.Entry].Id, x.Score, new Dictionary<string, double>
            {
                ["relevance"] = lambda * _relevance[x.Entry],
                ["redundancy"] = -(1 - lambda) * x.Redundancy,
                ["calibration"] = _calibrationWeight * x.Calibration,
                ["viewpoint"] = _viewpointWeight * x.Viewpoint,
            }, Reasons(_items[x.Entry], _historyMix, x.Viewpoint))),
        ];
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
