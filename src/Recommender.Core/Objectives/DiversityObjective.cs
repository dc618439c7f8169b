using Recommender.Core.Ranking;

namespace Recommender.Core.Objectives;

/// <summary>
/// "Balance my worldview with other ideas": maximal marginal relevance over item embeddings, a topic mix widened
/// from the user's history towards the whole catalog, more than one voice (an author already in the list counts
/// against a second pick of theirs), and balance between stances where items carry one.
/// </summary>
public sealed class DiversityObjective : IObjective
{
    public const string ObjectiveId = "diversity";
    public const string Lambda = "lambda";
    public const string Breadth = "breadth";
    public const string CalibrationWeight = "calibration_weight";
    public const string ViewpointWeight = "viewpoint_weight";
    public const string AuthorWeight = "author_weight";
    public const string PoolSize = "pool_size";
    public const string Redundancy = "redundancy";
    public const string Variety = "variety";
    public const string LambdaFloor = "lambda_floor";

    /// <summary>How far the balance moves per try when a list is not yet varied enough.</summary>
    private const double LambdaStep = 0.1;

    public string Id => ObjectiveId;

    public string Version => "1.4.0";

    public string DisplayName => "Show me other perspectives";

    public string Description =>
        "Still things you may like, but each pick differs from the others, your usual topics widen a little, you hear from more authors, and where a subject has sides you see more than one.";

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
        new ParameterSpec(AuthorWeight, ParameterType.Number, 0.2,
            "How strongly a second pick by an author already in the list counts against it.", 0, 2),
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
        var ordered = eligible.Select((c, i) => (Candidate: c with { Relevance = engagement[i].Total }, engagement[i].PopularityShare))
            .OrderByDescending(c => c.Candidate.Relevance).ThenBy(c => RankingMath.TieBreak(request.Seed, c.Candidate.ItemId)).ThenBy(c => c.Candidate.ItemId)
            .Take((int)p.GetNumber(PoolSize)).ToList();
        var pool = ordered.Select(c => c.Candidate).ToList();
        var k = Math.Min(request.K, pool.Count);
        if (k <= 0)
        {
            return [];
        }

        var selection = new Selection(request, pool, [.. ordered.Select(c => c.PopularityShare)], p);
        var lambda = Balance(selection, Math.Min(VarietyWithin, pool.Count), p);
        // Greedy picks depend only on the picks above them, so at one balance a longer list (the next page) starts with the same items.
        return selection.Ranked(selection.Select(k, lambda), lambda);
    }

    /// <summary>
    /// The places over which a list's variety is measured and the balance chosen: the first page of a feed. Fixed
    /// rather than the list's length, so every page of a feed continues the one ranking.
    /// </summary>
    public const int VarietyWithin = 10;

    /// <summary>The balance between relevance and variety: the starting one, moved towards variety until the first <paramref name="window"/> picks are varied enough.</summary>
    private static double Balance(Selection selection, int window, ObjectiveParameters p)
    {
        // The pool is in relevance order, so its first entries are the closest matches: the list variety is measured against.
        var closest = selection.Diversity(Enumerable.Range(0, window).ToList());
        var wanted = p.GetNumber(Variety) * closest;
        var lambda = p.GetNumber(Lambda);
        var floor = Math.Min(lambda, p.GetNumber(LambdaFloor));
        if (lambda <= floor || selection.Diversity(selection.Select(window, lambda)) >= wanted)
        {
            return lambda;
        }
        // Relevance is given up only for variety the pool can deliver. When even the floor falls short of the
        // target, the candidates are too alike (or already far apart): settle for half the extra variety if the
        // floor reaches that, else keep the starting balance rather than lose relevance for little.
        var floorVariety = selection.Diversity(selection.Select(window, floor));
        if (floorVariety < wanted)
        {
            wanted = (closest + wanted) / 2;
            if (floorVariety < wanted)
            {
                return lambda;
            }
        }
        for (var next = Math.Round(lambda - LambdaStep, 6); next > floor; next = Math.Round(next - LambdaStep, 6))
        {
            if (selection.Diversity(selection.Select(window, next)) >= wanted)
            {
                return next;
            }
        }
        return floor;
    }

    /// <summary>One chosen pool entry with the parts of its marginal score when it was chosen.</summary>
    private readonly record struct Pick(int Entry, double Score, double Redundancy, double Calibration, double Viewpoint, double Repeat, string? ViewpointTopic);

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
        private readonly double[] _popularityShare;
        private readonly float[] _norms;
        private readonly bool _useEmbeddings;
        private readonly bool _useMean;
        private readonly double _calibrationWeight;
        private readonly double _viewpointWeight;
        private readonly double _authorWeight;
        private readonly int[] _authors;
        private readonly int _authorCount;
        private readonly TopicMix _history;
        private readonly MixLevel _topicLevel;
        private readonly MixLevel _subjectLevel;
        private readonly double[]?[] _similarityRows;

        public Selection(RankingRequest request, List<Candidate> pool, double[] popularityShare, ObjectiveParameters p)
        {
            _request = request;
            _pool = pool;
            _popularityShare = popularityShare;
            _items = pool.Select(c => request.Catalog[c.ItemId]).ToArray();
            _relevance = RankingMath.NormalizedRelevance(pool);
            _useEmbeddings = pool[0].Embedding.Length > 0;
            _norms = pool.Select(c => _useEmbeddings ? System.Numerics.Tensors.TensorPrimitives.Norm(c.Embedding.Span) : 0f).ToArray();
            _useMean = p.GetText(Redundancy) == "mean";
            _calibrationWeight = p.GetNumber(CalibrationWeight);
            _viewpointWeight = p.GetNumber(ViewpointWeight);
            _authorWeight = p.GetNumber(AuthorWeight);
            // The source is who wrote the item (for Q&A, the answer's author); an item without one repeats nobody.
            var authors = new Dictionary<string, int>(StringComparer.Ordinal);
            _authors = _items.Select(item => item.Source is { } s ? authors.TryGetValue(s, out var n) ? n : authors[s] = authors.Count : -1).ToArray();
            _authorCount = authors.Count;
            var catalog = request.Catalog;
            _history = TopicMix.Of(catalog, RankingMath.Consumed(request.User).Select(id => catalog.TryGet(id, out var item) ? item : null).OfType<ItemInfo>());
            var breadth = p.GetNumber(Breadth);
            // Calibrated at both levels of the topic tree, so breadth reaches other subjects, not only more tags of one.
            _topicLevel = new MixLevel(_items.Select(i => TopicMix.OwnTopics(catalog, i.Topics)), _history.Topics, catalog.LeafTopics, breadth);
            _subjectLevel = new MixLevel(_items.Select(i => TopicMix.SubjectsOf(catalog, i.Topics)), _history.Subjects, catalog.Subjects, breadth);
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


        /// <summary>Greedy maximal marginal relevance at balance <paramref name="lambda"/>, with calibration and viewpoint terms.</summary>
        public List<Pick> Select(int k, double lambda)
        {
            var maxSimilarity = new double[_pool.Count];
            var sumSimilarity = new double[_pool.Count];
            var taken = new bool[_pool.Count];
            var selectedTopics = _topicLevel.NewTally();
            var selectedSubjects = _subjectLevel.NewTally();
            var selectedTopicMass = 0.0;
            // A stance is a side in the debate on a topic, so sides are balanced per topic: an item for one thing does not
            // "answer" an item against something else.
            var stanceByTopic = new Dictionary<string, double>(StringComparer.Ordinal);
            var authorPicks = new int[_authorCount];
            var picks = new List<Pick>(k);
            for (var step = 0; step < k; step++)
            {
                var best = -1;
                var bestScore = double.NegativeInfinity;
                var bestParts = (redundancy: 0.0, calibration: 0.0, viewpoint: 0.0, repeat: 0.0, debate: (string?)null);
                for (var i = 0; i < _pool.Count; i++)
                {
                    if (taken[i])
                    {
                        continue;
                    }
                    var redundancy = step == 0 ? 0 : _useMean ? sumSimilarity[i] / step : maxSimilarity[i];
                    var calibration = (_topicLevel.Gain(i, selectedTopics, selectedTopicMass) + _subjectLevel.Gain(i, selectedSubjects, selectedTopicMass)) / 2;
                    // Only a list already leaning one way on a topic gains or loses: taking a side in a balanced list is not penalised.
                    var (viewpoint, debate) = Viewpoint(_items[i], stanceByTopic);
                    var repeat = _authors[i] >= 0 && authorPicks[_authors[i]] > 0 ? 1.0 : 0.0;
                    var score = lambda * _relevance[i] - (1 - lambda) * redundancy + _calibrationWeight * calibration + _viewpointWeight * viewpoint - _authorWeight * repeat;
                    if (best < 0 || score > bestScore || (score == bestScore && Before(_request.Seed, _pool[i].ItemId, _pool[best].ItemId)))
                    {
                        best = i;
                        bestScore = score;
                        bestParts = (redundancy, calibration, viewpoint, repeat, debate);
                    }
                }
                taken[best] = true;
                picks.Add(new Pick(best, bestScore, bestParts.redundancy, bestParts.calibration, bestParts.viewpoint, bestParts.repeat, bestParts.debate));
                if (_authors[best] >= 0)
                {
                    authorPicks[_authors[best]]++;
                }
                _topicLevel.Add(best, selectedTopics);
                _subjectLevel.Add(best, selectedSubjects);
                selectedTopicMass += _topicLevel.HasTopics(best) ? 1 : 0;
                if (_items[best].Stance is { } stance)
                {
                    foreach (var topic in _items[best].Topics)
                        stanceByTopic[topic] = stanceByTopic.GetValueOrDefault(topic) + stance;
                }
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
        public List<RankedItem> Ranked(List<Pick> picks, double lambda)
        {
            var catalog = _request.Catalog;
            var listed = new HashSet<string>(StringComparer.Ordinal);
            var ranked = new List<RankedItem>(picks.Count);
            foreach (var x in picks)
            {
                var item = _items[x.Entry];
                var subjects = TopicMix.SubjectsOf(catalog, item.Topics);
                var own = TopicMix.OwnTopics(catalog, item.Topics);
                // What a reader can check on the cards above: the first pick on a subject (or, within familiar subjects, a topic).
                var firstOn = listed.Count == 0 || x.Calibration <= 0 ? null
                    : subjects.FirstOrDefault(t => !listed.Contains(t)) ?? own.FirstOrDefault(t => !listed.Contains(t));
                listed.UnionWith(subjects);
                listed.UnionWith(own);
                var (reasons, aboutTheList) = Reasons(catalog, subjects, own, _history, _popularityShare[x.Entry], firstOn, x.Viewpoint, x.ViewpointTopic);
                ranked.Add(new RankedItem(item.Id, x.Score, new Dictionary<string, double>
                {
                    // Relevance in engagement's two parts, each its share of the item's place (taste, and that many liked it).
                    ["relevance"] = lambda * _relevance[x.Entry] * (1 - _popularityShare[x.Entry]),
                    ["popularity"] = lambda * _relevance[x.Entry] * _popularityShare[x.Entry],
                    ["redundancy"] = -(1 - lambda) * x.Redundancy,
                    ["calibration"] = _calibrationWeight * x.Calibration,
                    ["viewpoint"] = _viewpointWeight * x.Viewpoint,
                    ["author_repeat"] = -_authorWeight * x.Repeat,
                }, reasons)
                { ListReasons = aboutTheList });
            }
            return ranked;
        }

        /// <summary>
        /// How far the item brings the list's leaning on one of its topics back towards balance (negative: further from
        /// it), on the topic where that is largest, and which topic that is; 0 and null when no topic of it leans yet.
        /// </summary>
        private static (double Viewpoint, string? Topic) Viewpoint(ItemInfo item, Dictionary<string, double> stanceByTopic)
        {
            if (item.Stance is not { } s)
                return (0, null);
            (double, string?) best = (0, null);
            var any = false;
            foreach (var topic in item.Topics)
            {
                if (stanceByTopic.GetValueOrDefault(topic) is var sum && sum == 0)
                    continue;
                var gain = Math.Abs(sum) - Math.Abs(sum + s);
                if (!any || gain > best.Item1)
                    best = (gain, topic);
                any = true;
            }
            return best;
        }
    }

    /// <summary>
    /// One level of the topic tree in a pool (topics, or subjects): each entry's topics as indices, and the mix a list
    /// aims for, the reader's history widened towards every topic of the catalog at this level by the breadth.
    /// </summary>
    private sealed class MixLevel
    {
        private readonly int[][] _entries;
        private readonly double[] _target;
        private readonly int _catalogCount;

        public MixLevel(IEnumerable<IReadOnlyList<string>> entryTopics, IReadOnlyDictionary<string, double> history, IReadOnlyList<string> catalogTopics, double breadth)
        {
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            _entries = [.. entryTopics.Select(topics => topics.Select(t => index.TryGetValue(t, out var n) ? n : index[t] = index.Count).ToArray())];
            _catalogCount = catalogTopics.Count;
            var uniform = _catalogCount == 0 ? 0 : 1.0 / _catalogCount;
            var historyWeight = history.Count == 0 ? 0 : 1 - breadth;
            _target = new double[index.Count];
            foreach (var (topic, n) in index)
            {
                _target[n] = historyWeight * history.GetValueOrDefault(topic) + (1 - historyWeight) * uniform;
            }
        }

        public double[] NewTally() => new double[_target.Length];

        public bool HasTopics(int entry) => _entries[entry].Length > 0;

        /// <summary>How much of the target mix this entry fills that the list so far leaves empty (0..1).</summary>
        public double Gain(int entry, double[] tally, double mass)
        {
            var topics = _entries[entry];
            if (topics.Length == 0)
            {
                return 0;
            }
            var gain = 0.0;
            foreach (var t in topics)
            {
                var share = mass == 0 ? 0 : tally[t] / mass;
                gain += Math.Max(0, _target[t] - share);
            }
            return Math.Min(1, gain / topics.Length * Math.Max(1, _catalogCount));
        }

        public void Add(int entry, double[] tally)
        {
            foreach (var t in _entries[entry])
            {
                tally[t] += 1.0 / _entries[entry].Length;
            }
        }
    }

    private static bool Before(int seed, long a, long b)
    {
        var ta = RankingMath.TieBreak(seed, a);
        var tb = RankingMath.TieBreak(seed, b);
        return ta < tb || (ta == tb && a < b);
    }

    private static double Similarity(ReadOnlySpan<float> a, float normA, ReadOnlySpan<float> b, float normB) =>
        normA == 0 || normB == 0 ? 0 : System.Numerics.Tensors.TensorPrimitives.Dot(a, b) / (normA * normB);

    /// <summary>
    /// The item's first reason: a subject or topic the reader rarely reads, else one no pick above it was on (which the
    /// reader can see for themselves), else that it is unlike the other picks; then another side of a debate. All but
    /// the first are about the item's place in this list.
    /// </summary>
    private static (IReadOnlyList<string> Reasons, IReadOnlyList<string> AboutTheList) Reasons(Catalog catalog, IReadOnlyList<string> subjects,
        IReadOnlyList<string> own, TopicMix history, double popularityShare, string? firstOn, double viewpoint, string? debate)
    {
        // A subject the reader rarely visits says more than one of its tags; then a rare topic within a familiar one.
        var fresh = history.IsEmpty ? null
            : subjects.FirstOrDefault(t => history.Subjects.GetValueOrDefault(t) < 0.02)
              ?? own.FirstOrDefault(t => history.Topics.GetValueOrDefault(t) < 0.02);
        var aboutTheList = new List<string>(2);
        if (fresh is null)
        {
            aboutTheList.Add(firstOn is not null ? $"Brings {catalog.Label(firstOn)} into the list: the first pick on it."
                // Mostly the popularity prior (a newcomer's list) is not "relevant to you"; "mostly because" says many like it.
                : popularityShare > 0.5 ? "Unlike the other picks in this list."
                : "Relevant to you, and unlike the other picks in this list.");
        }
        if (viewpoint > 0 && debate is not null)
        {
            aboutTheList.Add($"Offers another side of the debate on {catalog.Label(debate)} in your list.");
        }
        return (fresh is null ? [] : [$"Widens your mix: you rarely read about {catalog.Label(fresh)}."], aboutTheList);
    }
}
