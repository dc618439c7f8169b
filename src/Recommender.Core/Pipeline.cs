using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
/// <param name="ReaderTopics">Topics the user said they care about, whatever their history: a feature of the re-ranker.</param>
public sealed record RecommendationRequest(
    UserState User,
    string ObjectiveId,
    ObjectiveParameters Parameters,
    int K,
    int Seed,
    DateTimeOffset Now,
    IReadOnlySet<long>? NotInterested = null,
    IReadOnlyList<string>? InterestTopics = null,
    IReadOnlyList<string>? ReaderTopics = null);

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
    private readonly float[] _modelPrior;
    private readonly float[] _popularityPrior;
    private readonly Reranker? _reranker;
    private readonly NewItems? _newItems;

    /// <summary>A pipeline over <paramref name="model"/>; personal feeds are rescored by <paramref name="reranker"/> when one is given.</summary>
    public RecommendationPipeline(IRelevanceModel model, Catalog catalog, ObjectiveRegistry objectives, PipelineOptions? options = null, Reranker? reranker = null)
    {
        _reranker = reranker;
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _catalog = catalog ?? throw new ArgumentNullException(nameof(catalog));
        _objectives = objectives ?? throw new ArgumentNullException(nameof(objectives));
        _options = options ?? new PipelineOptions();
        _popularity = model as PopularityModel ?? new PopularityModel(catalog);
        _modelPrior = PriorScores(_model);
        _popularityPrior = ReferenceEquals(_popularity, _model) ? _modelPrior : PriorScores(_popularity);
        // Popularity is computed over the catalog itself, so it knows every item; a trained model lacks what came after it.
        _newItems = ReferenceEquals(_popularity, _model) ? null : new NewItems(_model, _catalog);
    }

    public IRelevanceModel Model => _model;

    /// <summary>Catalog items the model has not learned (they arrived after it was trained), served through <see cref="NewItems"/>.</summary>
    public int NewItemCount => _newItems?.Count ?? 0;

    public Catalog Catalog => _catalog;

    public ObjectiveRegistry Objectives => _objectives;

    public PipelineOptions Options => _options;

    /// <summary>The learned second stage personal feeds are rescored with; null when none is active.</summary>
    public Reranker? Reranker => _reranker;

    /// <summary>Builds one list. Unknown objective ids and invalid settings are the caller's to check first (see <see cref="IObjective.Validate"/>).</summary>
    public ServedList Recommend(RecommendationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var objective = _objectives[request.ObjectiveId];
        var parameters = objective.Schema.Resolve(request.Parameters);
        var sources = objective.Sources;
        var profiles = sources.HasFlag(CandidateSources.Personal);
        var user = profiles ? request.User : UserState.Anonymous;

        var exclusions = RankingMath.NeverAgain(request.User);
        if (request.NotInterested is not null)
        {
            exclusions.UnionWith(request.NotInterested);
        }

        var signals = profiles ? InitialSignals(user, request.InterestTopics, exclusions) : [];
        var (candidates, personalized, model) = BuildCandidates(user, sources, parameters, exclusions, signals);
        // Only a personal MF score is what the re-ranker learned to refine; popularity-scored lists stay as they are.
        var reranker = personalized && ReferenceEquals(model, _model) ? _reranker : null;
        if (reranker is not null)
        {
            candidates = reranker.Rescore(candidates, _catalog, new HashSet<string>(request.ReaderTopics ?? [], StringComparer.Ordinal),
                ReaderLevel.Of(_catalog, RankingMath.Consumed(user)), request.Now);
        }
        var rankingRequest = new RankingRequest(user, parameters, candidates, exclusions, _catalog, model, personalized, request.K, request.Seed, request.Now,
            personalized ? signals.Count : 0);
        var ranked = objective.Rank(rankingRequest);

        var chosenTopics = parameters.GetTextList(CommonParameters.Topics);
        // Read once per list: it looks through the reader's history.
        var taste = rankingRequest.Taste;
        // Read through the reader's history only for a list whose reasons can name the level (learning's): a feed's hot path.
        var shown = ranked.Take(request.K).ToList();
        var newIds = candidates.Any(c => c.IsNew) ? candidates.Where(c => c.IsNew).Select(c => c.ItemId).ToHashSet() : null;
        IReadOnlySet<string> known = shown.Any(r => r.Components.ContainsKey(WhyThis.LevelFit)) ? KnownTopics(user) : NoTopics;
        var items = shown
            .Select((r, i) => new ServedItem(i + 1, r.ItemId, r.Score, r.Components, Explain(r, chosenTopics, taste, known, request.Now, newIds),
                _catalog.TryGet(r.ItemId, out var info) ? info.Provenance?.State ?? ProvenanceStates.Unsigned : null)).ToList();
        return new ServedList(
            request.User.UserId, objective.Id, objective.Version, parameters.ToCanonicalJson(), parameters.Hash(),
            model.Version, request.Seed, request.Now, candidates.Count, items)
        {
            RerankerVersion = reranker?.Name,
        };
    }

    /// <summary>
    /// Every shown item says why: the objective's own reasons (a neutral one if it gave none), then the components that
    /// lifted it most, claimed only where the item's data holds them. Recorded as they are shown.
    /// </summary>
    private IReadOnlyList<string> Explain(RankedItem item, IReadOnlyList<string> chosenTopics, Taste taste, IReadOnlySet<string> known, DateTimeOffset now,
        HashSet<long>? newIds)
    {
        var reasons = item.Reasons.Concat(item.ListReasons).Where(r => !string.IsNullOrWhiteSpace(r)).Take(_options.MaxReasons).ToList();
        // A new item's score is its topic's, which the card says whatever the goal.
        NewItems.Estimate? estimate = null;
        var isNew = newIds is not null && newIds.Contains(item.ItemId) && _newItems!.TryGet(item.ItemId, out estimate);
        if (estimate is not null)
        {
            reasons.Add(NewItems.Reason(_catalog, estimate));
        }
        if (reasons.Count == 0)
        {
            reasons.Add("Matches the goal you chose.");
        }
        if (_catalog.TryGet(item.ItemId, out var info) && WhyThis.MainFactors(item.Components, info, _catalog, chosenTopics, taste, _objectives, now, known, isNew) is { } factors)
        {
            reasons.Add(factors);
        }
        if (info is not null && WhyThis.Signed(info) is { } signed)
        {
            reasons.Add(signed);
        }
        return reasons;
    }

    private static readonly IReadOnlySet<string> NoTopics = new HashSet<string>();

    /// <summary>The topics the reader has shown us something about: those of what they consumed, and those their skill state holds.</summary>
    private HashSet<string> KnownTopics(UserState user)
    {
        var known = user.Skills.Keys.ToHashSet(StringComparer.Ordinal);
        foreach (var id in RankingMath.Consumed(user))
        {
            if (_catalog.TryGet(id, out var seen))
                known.UnionWith(seen.Topics);
        }
        return known;
    }

    private (List<Candidate> candidates, bool personalized, IRelevanceModel model) BuildCandidates(
        UserState user, CandidateSources sources, ObjectiveParameters parameters, HashSet<long> exclusions, IReadOnlyList<long> signals)
    {
        var profiles = sources.HasFlag(CandidateSources.Personal);
        // No-profiling must not even be scored by a personal model, so it is scored by popularity alone.
        var model = profiles ? _model : _popularity;
        // The popularity prior in the model's item order, computed once per pipeline: what users the model does not know get.
        var scores = profiles ? _modelPrior : _popularityPrior;
        float[]? rented = null;
        var personalized = false;
        var userIndex = -1;
        float[]? folded = null;
        IReadOnlyList<(int Index, float Score)>? best = null;
        if (profiles && user.UserId is { } userId && model.TryGetUserIndex(userId, out userIndex))
        {
            personalized = true;
            best = model.TryBest(userIndex, _options.PersonalCandidates, ExcludedIndices(model, exclusions));
            if (best is null)
            {
                // A whole-catalog score array per request is large (200 KB at 50,000 items); pooling it keeps feeds off the large-object heap.
                rented = ArrayPool<float>.Shared.Rent(model.ItemCount);
                model.ScoreAll(userIndex, rented.AsSpan(0, model.ItemCount));
                scores = rented;
            }
        }
        else if (profiles && model.Rank > 0 && FoldIn(user, model, signals) is { } vector)
        {
            personalized = true;
            folded = vector;
            best = model.TryBest(folded, _options.PersonalCandidates, ExcludedIndices(model, exclusions));
            if (best is null)
            {
                rented = ArrayPool<float>.Shared.Rent(model.ItemCount);
                model.ScoreAll(folded, rented.AsSpan(0, model.ItemCount));
                scores = rented;
            }
        }
        // With the model's own best list, other candidates (topics, popular, recent) are scored one by one.
        var bestScores = best?.ToDictionary(b => b.Index, b => b.Score);
        float ScoreOf(int index) =>
            bestScores is null ? scores[index]
            : bestScores.TryGetValue(index, out var score) ? score
            : folded is not null ? model.Score(folded, index) : model.Score(userIndex, index);

        try
        {
            var chosen = new List<int>(_options.PersonalCandidates + 2 * _options.RecentPopularCandidates);
            var seen = new HashSet<int>();
            // Items the model has not learned yet come in through the topic and recent lists, after the learned ones.
            var newItems = ReferenceEquals(model, _model) ? _newItems : null;
            List<(long Id, NewItems.Estimate Estimate)>? fresh = null;
            HashSet<long>? freshIds = null;
            if (profiles)
            {
                foreach (var index in best?.Select(b => b.Index) ?? TopIndices(scores.AsSpan(0, model.ItemCount), model, exclusions, _options.PersonalCandidates))
                {
                    AddCandidate(index);
                }
            }
            if (sources.HasFlag(CandidateSources.Topics))
            {
                foreach (var topic in parameters.GetTextList(CommonParameters.Topics))
                {
                    AddCandidates(_catalog.ItemsInTopic(topic), _options.TopicCandidates);
                    if (newItems is not null)
                    {
                        AddCandidates(newItems.InTopic(topic), _options.TopicCandidates);
                    }
                }
            }
            if (sources.HasFlag(CandidateSources.RecentPopular) || !personalized)
            {
                AddCandidates(_catalog.MostPopular, _options.RecentPopularCandidates);
                AddCandidates(_catalog.MostRecent, _options.RecentPopularCandidates);
            }
            var candidates = new List<Candidate>(chosen.Count);
            foreach (var i in chosen)
            {
                candidates.Add(new Candidate(model.ItemIdAt(i), ScoreOf(i), model.ItemVector(i)));
            }
            if (fresh is not null)
            {
                // Items on one topic share their stand-ins, so each set is scored once per list.
                var means = new Dictionary<int[], double>(ReferenceEqualityComparer.Instance);
                foreach (var (id, estimate) in fresh)
                {
                    if (!means.TryGetValue(estimate.Peers, out var relevance))
                    {
                        relevance = means[estimate.Peers] = estimate.Peers.Average(p => (double)ScoreOf(p));
                    }
                    // Unpersonalised, relevance is the popularity prior, which for a new item is its own (next to none).
                    candidates.Add(new Candidate(id, personalized ? relevance : Math.Log(1 + _catalog.Popularity(id)), estimate.Vector) { IsNew = true });
                }
            }
            return (candidates, personalized, model);

            void AddCandidate(int index)
            {
                if (!exclusions.Contains(model.ItemIdAt(index)) && _catalog.Contains(model.ItemIdAt(index)) && seen.Add(index))
                {
                    chosen.Add(index);
                }
            }

            // The first `take` ids not excluded, in the list's order.
            void AddCandidates(IReadOnlyList<long> ids, int take)
            {
                for (var i = 0; i < ids.Count && take > 0; i++)
                {
                    if (exclusions.Contains(ids[i]))
                    {
                        continue;
                    }
                    if (model.TryGetItemIndex(ids[i], out var index))
                    {
                        AddCandidate(index);
                        take--;
                    }
                    else if (newItems is not null && newItems.TryGet(ids[i], out var estimate))
                    {
                        fresh ??= [];
                        freshIds ??= [];
                        if (freshIds.Add(ids[i]))
                        {
                            fresh.Add((ids[i], estimate));
                        }
                        take--;
                    }
                }
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }
    }

    private float[] PriorScores(IRelevanceModel model)
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
            // A rating's value is a preference, read as the model was trained (a rating, or a positive or none); another
            // kind's value is a score or a duration, so it counts by its implicit weight.
            .Select(h => (h.ItemId, Value: h.Kind == EventKind.Rating ? model.FoldInRating((float)(h.Value ?? 1)) : ImplicitFeedback.Weight(h.Kind) ?? 1f))
            .Where(h => h.Value is not null)
            .Select(h => (h.ItemId, h.Value!.Value))
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
    internal static List<int> TopIndices(ReadOnlySpan<float> scores, IRelevanceModel model, IReadOnlySet<long> exclusions, int n)
    {
        if (n <= 0 || scores.IsEmpty)
        {
            return [];
        }
        var excluded = ExcludedIndices(model, exclusions);
        // A threshold estimated from a sample keeps about twice the wanted items for the exact sort; too few, and
        // the threshold is lowered and the pass repeated. Every item at or above the threshold is kept, so the result
        // is the exact top n, only cheaper than a heap over the whole catalog.
        var picked = new List<int>(4 * (n + excluded.Length));
        for (var target = 2L * (n + excluded.Length); ; target *= 4)
        {
            var threshold = target >= scores.Length ? float.NegativeInfinity : EstimateThreshold(scores, (int)target);
            picked.Clear();
            CollectAtLeast(scores, threshold, picked);
            if (excluded.Length > 0)
            {
                picked.RemoveAll(i => Array.BinarySearch(excluded, i) >= 0);
            }
            if (picked.Count >= n || float.IsNegativeInfinity(threshold))
            {
                break;
            }
        }
        var keys = new (float Score, long Id)[picked.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = (scores[picked[i]], model.ItemIdAt(picked[i]));
        }
        var order = picked.ToArray();
        Array.Sort(keys, order, BestFirst.Instance);
        return [.. order.Take(n)];
    }

    /// <summary>The model's indices of the excluded items, sorted: exclusions are few, so they are mapped once instead of looking up every item's id.</summary>
    private static int[] ExcludedIndices(IRelevanceModel model, IReadOnlySet<long> exclusions)
    {
        var excluded = new List<int>(exclusions.Count);
        foreach (var id in exclusions)
        {
            if (model.TryGetItemIndex(id, out var index))
            {
                excluded.Add(index);
            }
        }
        excluded.Sort();
        return [.. excluded];
    }

    /// <summary>A score that about <paramref name="target"/> of the items reach, from an evenly strided sample.</summary>
    private static float EstimateThreshold(ReadOnlySpan<float> scores, int target)
    {
        var size = Math.Min(scores.Length, 512);
        var step = scores.Length / size;
        var sample = new float[size];
        for (var i = 0; i < size; i++)
        {
            sample[i] = scores[i * step];
        }
        Array.Sort(sample);
        // The sample's (target / count) upper quantile, rounded towards more items.
        var rank = (int)Math.Min(size - 1, (long)target * size / scores.Length + 1);
        return sample[size - 1 - rank];
    }

    private static void CollectAtLeast(ReadOnlySpan<float> scores, float threshold, List<int> picked)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var t = Vector256.Create(threshold);
            ref var s = ref MemoryMarshal.GetReference(scores);
            for (; i + Vector256<float>.Count <= scores.Length; i += Vector256<float>.Count)
            {
                var mask = Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref s, (nuint)i), t).ExtractMostSignificantBits();
                while (mask != 0)
                {
                    picked.Add(i + BitOperations.TrailingZeroCount(mask));
                    mask &= mask - 1;
                }
            }
        }
        for (; i < scores.Length; i++)
        {
            if (scores[i] >= threshold)
            {
                picked.Add(i);
            }
        }
    }

    private sealed class BestFirst : IComparer<(float Score, long Id)>
    {
        public static readonly BestFirst Instance = new();

        public int Compare((float Score, long Id) x, (float Score, long Id) y)
        {
            var byScore = y.Score.CompareTo(x.Score);
            return byScore != 0 ? byScore : x.Id.CompareTo(y.Id);
        }
    }
}
