using System.Numerics.Tensors;

namespace Recommender.Core.Ranking;

/// <summary>Small shared pieces every objective needs: eligibility, seeded tie-breaks, similarity, normalisation.</summary>
public static class RankingMath
{
    /// <summary>
    /// Candidates an objective may return: not excluded, not duplicated, known to the catalog, and at or above the
    /// credibility floor. Items with unknown credibility pass: a floor filters known-bad sources, it does not punish missing data.
    /// </summary>
    public static List<Candidate> Eligible(RankingRequest request, double credibilityFloor) => Eligible(request, credibilityFloor, ProvenanceRule.None);

    /// <summary>
    /// As <see cref="Eligible(RankingRequest, double)"/>, with the reader's provenance settings: only verified items, or
    /// a floor that counts verification (see <see cref="ProvenanceRule"/>).
    /// </summary>
    public static List<Candidate> Eligible(RankingRequest request, double credibilityFloor, ProvenanceRule rule)
    {
        ArgumentNullException.ThrowIfNull(request);
        var seen = new HashSet<long>();
        var eligible = new List<Candidate>(request.Candidates.Count);
        foreach (var c in request.Candidates)
        {
            if (request.Exclusions.Contains(c.ItemId) || !request.Catalog.TryGet(c.ItemId, out var item) || !seen.Add(c.ItemId))
            {
                continue;
            }
            if (rule.OnlyVerified && !item.IsVerified)
            {
                continue;
            }
            if (rule.FloorCredibility(item) is { } credibility && credibility < credibilityFloor)
            {
                continue;
            }
            eligible.Add(c);
        }
        return eligible;
    }

    /// <summary>A deterministic pseudo-random key per (seed, item), so ties do not depend on candidate order.</summary>
    public static ulong TieBreak(int seed, long itemId)
    {
        var z = unchecked((ulong)itemId * 0x9E3779B97F4A7C15UL + (ulong)(uint)seed * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>
    /// The <paramref name="k"/> best items, best first: by score, then a tie-break seeded per request (so equal scores
    /// do not always favour the same items), then id. The one ordering every objective's list is cut by.
    /// </summary>
    public static List<RankedItem> TakeTop(IEnumerable<RankedItem> items, int k, int seed)
    {
        IReadOnlyList<RankedItem> list = items as IReadOnlyList<RankedItem> ?? [.. items];
        return [.. Top(list.Count, i => list[i].Score, i => list[i].ItemId, k, seed).Select(i => list[i])];
    }

    /// <summary>
    /// Indices into <paramref name="candidates"/> of the <paramref name="k"/> best <paramref name="scores"/>, in the order
    /// <see cref="TakeTop"/> gives, without building the items that lose.
    /// </summary>
    public static int[] TopIndices(IReadOnlyList<Candidate> candidates, IReadOnlyList<double> scores, int k, int seed)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(scores);
        return Top(candidates.Count, i => scores[i], i => candidates[i].ItemId, k, seed);
    }

    private static int[] Top(int count, Func<int, double> score, Func<int, long> id, int k, int seed)
    {
        var order = new int[count];
        var keys = new (double Score, ulong TieBreak, long Id)[count];
        for (var i = 0; i < count; i++)
        {
            order[i] = i;
            // A score that is not a number sorts last, as it would below every number.
            var value = score(i);
            keys[i] = (double.IsNaN(value) ? double.PositiveInfinity : -value, TieBreak(seed, id(i)), id(i));
        }
        Array.Sort(keys, order);
        return order[..Math.Clamp(k, 0, count)];
    }

    /// <summary>The vector scaled to unit length, or null when it is empty or zero.</summary>
    public static float[]? Direction(ReadOnlySpan<float> vector)
    {
        var norm = vector.IsEmpty ? 0 : TensorPrimitives.Norm(vector);
        if (norm == 0 || float.IsNaN(norm))
        {
            return null;
        }
        var direction = new float[vector.Length];
        TensorPrimitives.Divide(vector, norm, direction);
        return direction;
    }

    /// <summary>Cosine similarity; 0 when either vector is empty or zero.</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.IsEmpty || a.Length != b.Length)
        {
            return 0;
        }
        var na = TensorPrimitives.Norm(a);
        var nb = TensorPrimitives.Norm(b);
        return na == 0 || nb == 0 ? 0 : TensorPrimitives.Dot(a, b) / (na * nb);
    }

    /// <summary>Jaccard overlap of two topic sets: the similarity used when the model has no embeddings.</summary>
    public static double TopicOverlap(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        if (a.Count == 0 || b.Count == 0)
        {
            return 0;
        }
        var shared = a.Count(b.Contains);
        return (double)shared / (a.Count + b.Count - shared);
    }

    /// <summary>
    /// Topic overlap that reads the topic tree: the mean of the overlap of the topics and the overlap of their subjects,
    /// so two items on different sub-topics of one subject are half alike and items in different subjects not at all.
    /// On a catalog without a tree it equals <see cref="TopicOverlap(IReadOnlyList{string}, IReadOnlyList{string})"/>.
    /// </summary>
    public static double TopicOverlap(Catalog catalog, IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        if (catalog.TopicParents.Count == 0)
        {
            return TopicOverlap(a, b);
        }
        return (TopicOverlap(a, b) + TopicOverlap([.. a.Select(catalog.SubjectOf).Distinct()], [.. b.Select(catalog.SubjectOf).Distinct()])) / 2;
    }

    /// <summary>Min-max scales relevance to 0..1 over the candidates so weights mean the same for every model.</summary>
    public static double[] NormalizedRelevance(IReadOnlyList<Candidate> candidates)
    {
        var scores = new double[candidates.Count];
        if (scores.Length == 0)
        {
            return scores;
        }
        var min = candidates.Min(c => c.Relevance);
        var max = candidates.Max(c => c.Relevance);
        var span = max - min;
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = span <= 0 ? 1 : (candidates[i].Relevance - min) / span;
        }
        return scores;
    }

    /// <summary>Items never shown to the user again: those they consumed and those they marked "not interested".</summary>
    public static HashSet<long> NeverAgain(UserState user)
    {
        var items = new HashSet<long>(Consumed(user));
        items.UnionWith(user.History.Where(h => h.Kind == EventKind.NotInterested).Select(h => h.ItemId));
        return items;
    }

    /// <summary>Items the user consumed (any interaction except impressions and "not interested"), oldest first.</summary>
    public static IEnumerable<long> Consumed(UserState user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.History.Where(h => h.Kind is not EventKind.Impression and not EventKind.NotInterested).Select(h => h.ItemId).Distinct();
    }

    /// <summary>
    /// Items the user enjoyed, newest first, with the verb that says what they did ("liked", "learned from", "finished", "rated",
    /// "read"): the ones a
    /// "because you …" may name. An item the user turned down (marked too hard, too easy or not interested, answered
    /// wrongly, or rated below <see cref="ImplicitFeedback.PositiveRating"/>) is not among them.
    /// </summary>
    public static IEnumerable<(long ItemId, string Verb)> Enjoyed(UserState user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var spoiled = TurnedDown(user);
        var seen = new HashSet<long>();
        for (var i = user.History.Count - 1; i >= 0; i--)
        {
            var h = user.History[i];
            var verb = h.Kind switch
            {
                EventKind.Like => "liked",
                EventKind.Learned => "learned from",
                EventKind.Complete => "finished",
                EventKind.Rating when h.Value >= ImplicitFeedback.PositiveRating => "rated",
                EventKind.View or EventKind.Click or EventKind.QuizCorrect => "read",
                _ => null,
            };
            if (verb is not null && !spoiled.Contains(h.ItemId) && seen.Add(h.ItemId))
            {
                yield return (h.ItemId, verb);
            }
        }
    }

    /// <summary>
    /// Whether the user showed a liking for anything: a rating of <see cref="ImplicitFeedback.PositiveRating"/> or more, or
    /// an event that counts as a preference (<see cref="ImplicitFeedback.Weight"/>), on an item they did not turn down. Only then may a reason say an item matches what they enjoyed.
    /// </summary>
    public static bool HasEnjoyed(UserState user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var spoiled = TurnedDown(user);
        return user.History.Any(h => (h.Kind == EventKind.Rating ? h.Value >= ImplicitFeedback.PositiveRating : ImplicitFeedback.Weight(h.Kind) is not null)
            && !spoiled.Contains(h.ItemId));
    }

    /// <summary>Items the user turned down: marked not interested, too hard or too easy, answered wrongly, or rated below <see cref="ImplicitFeedback.PositiveRating"/>.</summary>
    private static HashSet<long> TurnedDown(UserState user) =>
        [.. user.History.Where(h => h.Kind is EventKind.NotInterested or EventKind.TooHard or EventKind.TooEasy or EventKind.QuizWrong
            || (h.Kind == EventKind.Rating && !(h.Value >= ImplicitFeedback.PositiveRating))).Select(h => h.ItemId)];

    /// <summary>
    /// Engagement relevance, in its two parts: the model score scaled to 0..1 over the candidates, and a popularity prior
    /// (the catalog's log-popularity, 0..1, weighted). One-class factor models carry no item bias, and a user vector
    /// fitted on a handful of interactions is mostly noise, so the prior's weight shrinks with evidence:
    /// <c>w · (1 + s / (1 + n))</c> for a user with n consumed items plus initial signals (s = <paramref name="shrinkage"/>).
    /// Unpersonalised requests use the prior alone, at weight 1. The parts are kept apart so that a list says how much
    /// of an item's place is the reader's taste and how much is that many people liked it.
    /// </summary>
    public static EngagementScore[] EngagementRelevance(RankingRequest request, IReadOnlyList<Candidate> candidates, double popularityWeight, double shrinkage = 0)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(candidates);
        var model = NormalizedRelevance(candidates);
        // Topics the user chose count as evidence too: they shaped the personal score.
        var weight = popularityWeight * (1 + shrinkage / (1 + Consumed(request.User).Count() + request.InitialSignals));
        var scores = new EngagementScore[candidates.Count];
        for (var i = 0; i < scores.Length; i++)
        {
            var prior = request.Catalog.PopularityScore(candidates[i].ItemId);
            scores[i] = request.Personalized ? new EngagementScore(model[i], weight * prior) : new EngagementScore(0, prior);
        }
        return scores;
    }
}

/// <summary>An item's engagement relevance: the model's part (the reader's taste) and the popularity prior's part.</summary>
public readonly record struct EngagementScore(double Model, double Popularity)
{
    public double Total => Model + Popularity;

    /// <summary>The popularity prior's share of <see cref="Total"/>, 0 when the total is 0.</summary>
    public double PopularityShare => Total > 0 ? Popularity / Total : 0;
}
