using System.Text.Json.Nodes;
using Recommender.Core.Objectives;
using Recommender.Core.Ranking;

namespace Recommender.Core;

/// <summary>Pipeline settings; every one has a default documented here.</summary>
public sealed record PipelineOptions
{
    /// <summary>Model top-N candidates taken from the whole catalog. Default 500.</summary>
    public int PersonalCandidates { get; init; } = 500;

    /// <summary>Popular items added per chosen topic for objectives that ask for topic candidates. Default 100.</summary>
    public int TopicCandidates { get; init; } = 100;

    /// <summary>Recent and popular items (each) added for new users and no-profiling. Default 250.</summary>
    public int RecentPopularCandidates { get; init; } = 250;

    /// <summary>A user with fewer consumed items than this has their chosen topics used as initial signals. Default 5.</summary>
    public int InitialSignalsUntil { get; init; } = 5;

    /// <summary>Popular items that stand in for each chosen topic as an initial signal. Default 3.</summary>
    public int SignalsPerTopic { get; init; } = 3;

    /// <summary>Reasons kept per item: the interface shows one or two. Default 2.</summary>
    public int MaxReasons { get; init; } = 2;
}

/// <summary>A request for one list.</summary>
/// <param name="User">The user's state; the pipeline strips it for objectives that must not profile.</param>
/// <param name="ObjectiveId">The objective the user chose.</param>
/// <param name="Parameters">The user's settings for it.</param>
/// <param name="K">Items wanted.</param>
/// <param name="Seed">Tie-break seed; recorded so the list can be reproduced.</param>
/// <param name="Now">The serving time.</param>
/// <param name="NotInterested">Items the user dismissed; never shown again.</param>
/// <param name="InterestTopics">Topics the user said they care about: initial signals for a user with little history.</param>
public sealed record RecommendationRequest(
    UserState User,
    string ObjectiveId,
    ObjectiveParameters Parameters,
    int K,
    int Seed,
    DateTimeOffset Now,
    IReadOnlySet<long>? NotInterested = null,
    IReadOnlyList<string>? InterestTopics = null);

/// <summary>One served item as recorded for the audit log and shown to the user.</summary>
public sealed record ServedItem(int Rank, long ItemId, double Score, IReadOnlyDictionary<string, double> Components, IReadOnlyList<string> Reasons);

/// <summary>
/// Everything needed to audit and reproduce a served list: which objective (and version) with which settings
/// (canonical JSON and its SHA-256), which model version, how many candidates were considered, and the items.
/// </summary>
public sealed record ServedList(
    long? UserId,
    string ObjectiveId,
    string ObjectiveVersion,
    string ParametersJson,
    string ParameterHash,
    string ModelVersion,
    int Seed,
    DateTimeOffset ServedAt,
    int CandidatesConsidered,
    IReadOnlyList<ServedItem> Items)
{
    /// <summary>The record as JSON, e.g. for a JSONB audit column or an export.</summary>
    public JsonObject ToJson()
    {
        var items = new JsonArray();
        foreach (var i in Items)
        {
            var components = new JsonObject();
            foreach (var (name, value) in i.Components.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                components[name] = value;
            }
            items.Add(new JsonObject
            {
                ["rank"] = i.Rank,
                ["item_id"] = i.ItemId,
                ["score"] = i.Score,
                ["components"] = components,
                ["reasons"] = new JsonArray([.. i.Reasons.Select(r => (JsonNode?)r)]),
            });
        }
        return new JsonObject
        {
            ["user_id"] = UserId,
            ["objective_id"] = ObjectiveId,
            ["objective_version"] = ObjectiveVersion,
            ["parameters"] = JsonNode.Parse(ParametersJson),
            ["parameter_hash"] = ParameterHash,
            ["model_version"] = ModelVersion,
            ["seed"] = Seed,
            ["served_at"] = ServedAt,
            ["candidates_considered"] = CandidatesConsidered,
            ["items"] = items,
        };
    }
}

/// <summary>
/// The one recommendation path used by the service, the CLI's evaluation and the benchmarks:
/// candidates (model top-N minus exclusions, plus topic or recent/popular candidates) → objective → explanations →
/// a <see cref="ServedList"/> ready for the audit log. Deterministic given model version, settings and seed.
/// Holds only read-only state, so one instance serves concurrent requests.
/// </summary>
public sealed class RecommendationPipeline
{
    private readonly IRelevanceModel _model;
    private readonly IRelevanceModel _popularity;
    private readonly Catalog _catalog;
    private readonly ObjectiveRegistry _objectives;
    private readonly PipelineOptions _options;

    public RecommendationPipeline(IRelevanceModel model, Catalog catalog, ObjectiveRegistry objectives, PipelineOptions? options = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _catalog = catalog ?? throw new ArgumentNullException(nameof(catalog));
        _objectives = objectives ?? throw new ArgumentNullException(nameof(objectives));
        _options = options ?? new PipelineOptions();
        _popularity = model as PopularityModel ?? new PopularityModel(catalog);
    }

    public IRelevanceModel Model => _model;

    public Catalog Catalog => _catalog;

    public ObjectiveRegistry Objectives => _objectives;

    public PipelineOptions Options => _options;

    /// <summary>Builds one list. Unknown objective ids and invalid settings are the caller's to check first (see <see cref="IObjective.Validate"/>).</summary>
    public ServedList Recommend(RecommendationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var objective = _objectives[request.ObjectiveId];
        var parameters = objective.Schema.Resolve(request.Parameters);
        var sources = objective.Sources;
        var profiles = sources.HasFlag(CandidateSources.Personal);
        var user = profiles ? request.User : UserState.Anonymous;

        var exclusions = new HashSet<long>(RankingMath.Consumed(request.User));
        exclusions.UnionWith(request.User.History.Where(h => h.Kind == EventKind.NotInterested).Select(h => h.ItemId));
        if (request.NotInterested is not null)
        {
            exclusions.UnionWith(request.NotInterested);
        }

        var signals = profiles ? InitialSignals(user, request.InterestTopics, exclusions) : [];
        var (candidates, personalized, model) = BuildCandidates(user, sources, parameters, exclusions, signals);
        var rankingRequest = new RankingRequest(user, parameters, candidates, exclusions, _catalog, model, personalized, request.K, request.Seed, request.Now,
            personalized ? signals.Count : 0);
        var ranked = objective.Rank(rankingRequest);

        var items = ranked.Take(request.K).Select((r, i) => new ServedItem(i + 1, r.ItemId, r.Score, r.Components, Explain(r))).ToList();
        return new ServedList(
            request.User.UserId, objective.Id, objective.Version, parameters.ToCanonicalJson(), parameters.Hash(),
            model.Version, request.Seed, request.Now, candidates.Count, items);
    }

    /// <summary>Every shown item says why; an objective that forgot gets a neutral reason rather than none.</summary>
    private IReadOnlyList<string> Explain(RankedItem item)
    {
        var reasons = item.Reasons.Where(r => !string.IsNullOrWhiteSpace(r)).Take(_options.MaxReasons).ToList();
        return reasons.Count > 0 ? reasons : ["Matches the goal you chose."];
    }

    private (List<Candidate> candidates, bool personalized, IRelevanceModel model) BuildCandidates(
        UserState user, CandidateSources sources, ObjectiveParameters parameters, HashSet<long> exclusions, IReadOnlyList<long> signals)
    {
        var profiles = sources.HasFlag(CandidateSources.Personal);
        // No-profiling must not even be scored by a personal model, so it is scored by popularity alone.
        var model = profiles ? _model : _popularity;
        var scores = new float[model.ItemCount];
        var personalized = false;
        if (profiles && user.UserId is { } userId && model.TryGetUserIndex(userId, out var userIndex))
        {
            model.ScoreAll(userIndex, scores);
            personalized = true;
        }
        else if (profiles && model.Rank > 0 && FoldIn(user, model, signals) is { } folded)
        {
            model.ScoreAll(folded, scores);
            personalized = true;
        }
        else
        {
            // The popularity prior, in the model's item order so candidates keep the model's embeddings.
            scores = ScoresByModelIndex(model);
        }

        var chosen = new List<int>();
        var seen = new HashSet<int>();
        void Add(int index)
        {
            if (!exclusions.Contains(model.ItemIdAt(index)) && _catalog.Contains(model.ItemIdAt(index)) && seen.Add(index))
            {
                chosen.Add(index);
            }
        }

        if (profiles)
        {
            foreach (var index in TopIndices(scores, model, exclusions, _options.PersonalCandidates))
            {
                Add(index);
            }
        }
        if (sources.HasFlag(CandidateSources.Topics))
        {
            foreach (var topic in parameters.GetTextList(CommonParameters.Topics))
            {
                foreach (var id in _catalog.ItemsInTopic(topic).Where(id => !exclusions.Contains(id)).Take(_options.TopicCandidates))
                {
                    if (model.TryGetItemIndex(id, out var index))
                    {
                        Add(index);
                    }
                }
            }
        }
        if (sources.HasFlag(CandidateSources.RecentPopular) || !personalized)
        {
            foreach (var id in _catalog.MostPopular.Where(id => !exclusions.Contains(id)).Take(_options.RecentPopularCandidates)
                .Concat(_catalog.MostRecent.Where(id => !exclusions.Contains(id)).Take(_options.RecentPopularCandidates)))
            {
                if (model.TryGetItemIndex(id, out var index))
                {
                    Add(index);
                }
            }
        }
        var candidates = chosen.Select(i => new Candidate(model.ItemIdAt(i), scores[i], model.ItemVector(i))).ToList();
        return (candidates, personalized, model);
    }

    private float[] ScoresByModelIndex(IRelevanceModel model)
    {
        var scores = new float[model.ItemCount];
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = (float)Math.Log(1 + _catalog.Popularity(model.ItemIdAt(i)));
        }
        return scores;
    }

    /// <summary>
    /// A user the model has not trained on is folded in from what they consumed, plus <paramref name="signals"/>: items
    /// standing in for the topics they chose, which count only in the fold-in (they are neither history nor exclusions).
    /// </summary>
    private static float[]? FoldIn(UserState user, IRelevanceModel model, IReadOnlyList<long> signals)
    {
        var consumed = user.History
            .Where(h => h.Kind is not EventKind.Impression and not EventKind.NotInterested)
            .Select(h => (h.ItemId, (float)(h.Value ?? 1)))
            .Concat(signals.Select(id => (id, 1f)))
            .ToList();
        return consumed.Count == 0 ? null : model.FoldIn(consumed);
    }

    /// <summary>Until a user has <see cref="PipelineOptions.InitialSignalsUntil"/> consumed items, the most popular items of each topic they chose act as their taste.</summary>
    private List<long> InitialSignals(UserState user, IReadOnlyList<string>? topics, HashSet<long> exclusions)
    {
        if (topics is not { Count: > 0 } || RankingMath.Consumed(user).Take(_options.InitialSignalsUntil).Count() >= _options.InitialSignalsUntil)
        {
            return [];
        }
        return [.. topics.Distinct(StringComparer.Ordinal)
            .SelectMany(t => _catalog.ItemsInTopic(t).Where(id => !exclusions.Contains(id)).Take(_options.SignalsPerTopic))
            .Distinct()];
    }

    /// <summary>Indices of the <paramref name="n"/> best-scored non-excluded items, best first, ties by item id.</summary>
    internal static List<int> TopIndices(float[] scores, IRelevanceModel model, HashSet<long> exclusions, int n)
    {
        // Exclusions are few; map them to indices once instead of looking up every item's id (50k interface calls and
        // hash probes per request). Scores below the heap's minimum are rejected on one float compare.
        var excluded = new HashSet<int>();
        foreach (var id in exclusions)
        {
            if (model.TryGetItemIndex(id, out var index))
            {
                excluded.Add(index);
            }
        }
        var heap = new PriorityQueue<int, (float score, long negId)>(n + 1);
        var threshold = float.NegativeInfinity;
        for (var i = 0; i < scores.Length; i++)
        {
            var score = scores[i];
            if (heap.Count == n && score < threshold)
            {
                continue;
            }
            if (excluded.Count > 0 && excluded.Contains(i))
            {
                continue;
            }
            var key = (score, -model.ItemIdAt(i));
            if (heap.Count < n)
            {
                heap.Enqueue(i, key);
            }
            else if (heap.TryPeek(out _, out var min) && key.CompareTo(min) > 0)
            {
                heap.DequeueEnqueue(i, key);
            }
            else
            {
                continue;
            }
            if (heap.Count == n)
            {
                heap.TryPeek(out _, out var least);
                threshold = least.score;
            }
        }
        var result = new List<int>(heap.Count);
        while (heap.TryDequeue(out var index, out _))
        {
            result.Add(index);
        }
        result.Reverse();
        return result;
    }
}
