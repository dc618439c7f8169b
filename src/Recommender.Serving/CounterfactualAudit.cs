using Recommender.Core;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>
/// What to change in the clone: one stated attribute (<see cref="Attribute"/> = <see cref="Value"/>), or the topic
/// history (every consumed item on <see cref="FromTopic"/> swapped for an equally popular one on <see cref="ToTopic"/>).
/// </summary>
public sealed record CounterfactualChange(string? Attribute = null, string? Value = null, string? FromTopic = null, string? ToTopic = null);

/// <summary>Both lists, ranked from the same candidates with the same seed, and how far apart they are.</summary>
/// <param name="Original">The person's list, ranked as the clone's is (folded in from history).</param>
/// <param name="Counterfactual">The clone's list.</param>
/// <param name="Overlap">Items in both lists.</param>
/// <param name="Jaccard">|A ∩ B| / |A ∪ B|.</param>
/// <param name="RankBiasedOverlap">RBO with p = 0.9 (Webber et al. 2010): 1 identical, 0 disjoint, top ranks weigh most.</param>
/// <param name="Changes">What was changed, in words.</param>
/// <param name="Swap">For a topic swap, how much of the history it reached; null for an attribute change.</param>
public sealed record CounterfactualResult(ServedList Original, ServedList Counterfactual, int Overlap, double Jaccard, double RankBiasedOverlap, IReadOnlyList<string> Changes,
    TopicSwap? Swap = null);

/// <summary>
/// How a topic swap met the history: <see cref="OnFromTopic"/> distinct consumed items were on <see cref="From"/>, of
/// which <see cref="Swapped"/> were replaced (an item also on <see cref="To"/> stays, and <see cref="To"/> may run out of
/// unused items). With none on the topic, the two lists are ranked from the same history by construction.
/// </summary>
public sealed record TopicSwap(string From, string To, int OnFromTopic, int Swapped);

/// <summary>Why a counterfactual cannot start from an audit record; <see cref="None"/> when it can.</summary>
public enum RecordStartProblem
{
    None,

    /// <summary>No served list has the request id.</summary>
    NoSuchRecord,

    /// <summary>The list was served to someone other than the person the counterfactual is for.</summary>
    OtherPerson,

    /// <summary>The list was ranked for a goal this version no longer has, so it cannot be ranked again.</summary>
    GoalGone,
}

/// <summary>
/// The audit record a counterfactual replays (its goal, settings and seed), found by
/// <see cref="CounterfactualAudit.FindRecordStartAsync"/>; null when there is none. The web page and the REST API
/// both start from here, so they refuse the same records for the same reasons.
/// </summary>
public sealed record RecordStart(ServedListRow? Record, RecordStartProblem Problem)
{
    /// <summary>Whether the counterfactual of <paramref name="personId"/> can start from the record, and if not, why.</summary>
    public RecordStartProblem For(long personId) =>
        Record is null ? RecordStartProblem.NoSuchRecord : Record.UserId != personId ? RecordStartProblem.OtherPerson : Problem;
}

/// <summary>A topic and how many distinct items of a person's history are on it.</summary>
public sealed record TopicCount(string Topic, int Items);

/// <summary>
/// Counterfactual audit: clone a person, change one stated attribute or their topic history, rank both with the same
/// objective, settings, model and seed, and compare. Both are ranked as users the model has not trained on (folded in
/// from their history), so the history change reaches the scores; stated attributes are not inputs to any objective,
/// which this audit lets anyone verify.
/// </summary>
public sealed class CounterfactualAudit(ServingState state, FeedService feeds, EventStore events, LearningStateStore learning, AccountStore accounts,
    AuditQueries records)
{
    /// <summary>
    /// The attributes a person can state (kept in <c>users.attributes</c>, read by no objective): the only ones an
    /// attribute change may name, so a misspelt or made-up attribute is refused rather than reported as "not reaching
    /// the ranking".
    /// </summary>
    public static IReadOnlyList<string> StatedAttributes { get; } = ["age", "gender", "country", "language"];

    /// <summary>What is wrong with an attribute a change names, or null when it is one of <see cref="StatedAttributes"/>.</summary>
    public static string? AttributeProblem(string? attribute) =>
        attribute is not null && StatedAttributes.Contains(attribute, StringComparer.Ordinal) ? null
        : $"\u201c{attribute}\u201d is not an attribute people state; choose one of {string.Join(", ", StatedAttributes)}.";

    /// <summary>
    /// What is wrong with a topic a swap names, or null when the catalog being served has it: a topic it does not have
    /// is a mistake (misspelt, or from another catalog), not a swap that "replaced nothing". The topics checked are
    /// those the admin page offers, so a topic chosen there always passes.
    /// </summary>
    public string? TopicProblem(string topic)
    {
        var topics = state.Current.Pipeline.Catalog.Topics;
        return topics.Contains(topic, StringComparer.Ordinal) ? null : CatalogBrowser.UnknownTopic(topic, topics);
    }

    /// <summary>Ranks both with the person's goal and settings as they are now.</summary>
    /// <exception cref="ArgumentException">The change names an attribute that is not one of <see cref="StatedAttributes"/>.</exception>
    public Task<CounterfactualResult?> RunAsync(long userId, CounterfactualChange change, int k, int seed, CancellationToken ct = default) =>
        RunAsync(userId, change, k, seed, null, ct);

    /// <summary>
    /// Ranks both with the goal, settings and seed <paramref name="record"/> was ranked with, rather than the person's
    /// settings now: what that request would have given with the change. History, skills and model are as they are now.
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="RunAsync(long, CounterfactualChange, int, int, CancellationToken)"/>.</exception>
    public Task<CounterfactualResult?> RunFromRecordAsync(ServedListRow record, CounterfactualChange change, int k, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return RunAsync(record.UserId, change, k, record.Seed, (record.ObjectiveId, ObjectiveParameters.FromJson(record.ParametersJson)), ct);
    }

    /// <summary>
    /// The served list with <paramref name="requestId"/> as a start for <see cref="RunFromRecordAsync"/>, or why it
    /// cannot be one (<see cref="RecordStart.For"/> adds whether it was served to the person asked about).
    /// </summary>
    public async Task<RecordStart> FindRecordStartAsync(Guid requestId, CancellationToken ct = default) =>
        await records.RecordAsync(requestId, ct) is not { } record ? new RecordStart(null, RecordStartProblem.NoSuchRecord)
        : new RecordStart(record, state.Current.Pipeline.Objectives.TryGet(record.ObjectiveId, out _) ? RecordStartProblem.None : RecordStartProblem.GoalGone);

    private async Task<CounterfactualResult?> RunAsync(long userId, CounterfactualChange change, int k, int seed, (string ObjectiveId, ObjectiveParameters Parameters)? goal, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (change.Attribute is { Length: > 0 } named && AttributeProblem(named) is { } problem)
            throw new ArgumentException(problem, nameof(change));
        // Anyone the platform knows, with a sign-in of their own or only a platform's id.
        if (await accounts.GetAsync(userId, ct) is null)
            return null;
        var snapshot = state.Current;
        var (objectiveId, parameters) = goal ?? await feeds.ChosenObjectiveAsync(userId, ct);
        var history = await events.HistoryAsync(userId, 500, ct);
        var skills = await learning.SkillsAsync(userId, ct);
        var changes = new List<string>();
        var cloneHistory = history;
        TopicSwap? swap = null;
        if (change.Attribute is { Length: > 0 } attribute)
            changes.Add($"stated attribute '{attribute}' set to '{change.Value}'");
        if (change.FromTopic is { Length: > 0 } from && change.ToTopic is { Length: > 0 } to)
        {
            var catalog = snapshot.Pipeline.Catalog;
            (cloneHistory, swap) = SwapTopic(catalog, history, from, to);
            // In the words readers see (the swap itself names the ids).
            changes.Add(swap.OnFromTopic == 0
                ? $"nothing consumed on “{catalog.Label(from)}”, so nothing replaced by items on “{catalog.Label(to)}”"
                : $"{swap.Swapped} consumed {(swap.Swapped == 1 ? "item" : "items")} on “{catalog.Label(from)}” replaced by items on “{catalog.Label(to)}”");
        }
        var now = DateTimeOffset.UtcNow;
        // Same everything but the change; the attribute lives outside UserState because no objective may read it.
        var original = snapshot.Pipeline.Recommend(new RecommendationRequest(new UserState(null, history, skills), objectiveId, parameters, k, seed, now));
        var clone = snapshot.Pipeline.Recommend(new RecommendationRequest(new UserState(null, cloneHistory, skills), objectiveId, parameters, k, seed, now));
        var a = original.Items.Select(i => i.ItemId).ToList();
        var b = clone.Items.Select(i => i.ItemId).ToList();
        var overlap = a.Intersect(b).Count();
        var union = a.Union(b).Count();
        return new CounterfactualResult(original, clone, overlap, union == 0 ? 1 : (double)overlap / union, RankBiasedOverlap(a, b, 0.9), changes, swap);
    }

    /// <summary>The topics most of the person's history is on, most first: the topics a swap can reach.</summary>
    public async Task<IReadOnlyList<TopicCount>> HistoryTopicsAsync(long userId, int top, CancellationToken ct = default)
    {
        var catalog = state.Current.Pipeline.Catalog;
        var history = await events.HistoryAsync(userId, 500, ct);
        return [.. history.Select(h => h.ItemId).Distinct()
            .SelectMany(id => catalog.TryGet(id, out var item) ? item.Topics : Array.Empty<string>())
            .CountBy(topic => topic)
            .OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal)
            .Take(top)
            .Select(c => new TopicCount(c.Key, c.Value))];
    }

    /// <summary>Each consumed item on <paramref name="from"/> (and not <paramref name="to"/>) becomes the next most popular unused item on <paramref name="to"/>.</summary>
    private static (List<Interaction> History, TopicSwap Swap) SwapTopic(Catalog catalog, IReadOnlyList<Interaction> history, string from, string to)
    {
        var onFrom = history.Select(h => h.ItemId).Distinct().Count(id => catalog.TryGet(id, out var item) && item.Topics.Contains(from));
        var used = history.Select(h => h.ItemId).ToHashSet();
        using var replacements = catalog.ItemsInTopic(to).Where(id => !used.Contains(id) && !catalog[id].Topics.Contains(from)).GetEnumerator();
        var swapped = 0;
        var result = new List<Interaction>(history.Count);
        var mapping = new Dictionary<long, long>();
        foreach (var h in history)
        {
            var item = catalog.TryGet(h.ItemId, out var info) ? info : null;
            if (item is not null && item.Topics.Contains(from) && !item.Topics.Contains(to))
            {
                if (!mapping.TryGetValue(h.ItemId, out var replacement))
                {
                    if (!replacements.MoveNext())
                    {
                        result.Add(h);
                        continue;
                    }
                    replacement = mapping[h.ItemId] = replacements.Current;
                    swapped++;
                }
                result.Add(h with { ItemId = replacement });
            }
            else
            {
                result.Add(h);
            }
        }
        return (result, new TopicSwap(from, to, onFrom, swapped));
    }

    /// <summary>Rank-biased overlap, extrapolated for finite lists of equal depth (Webber, Moffat, Zobel 2010, eq. 32).</summary>
    public static double RankBiasedOverlap(IReadOnlyList<long> a, IReadOnlyList<long> b, double p)
    {
        var depth = Math.Min(a.Count, b.Count);
        if (depth == 0)
            return a.Count == b.Count ? 1 : 0;
        var seenA = new HashSet<long>();
        var seenB = new HashSet<long>();
        var overlap = 0;
        var sum = 0.0;
        for (var d = 1; d <= depth; d++)
        {
            var x = a[d - 1];
            var y = b[d - 1];
            if (x == y)
            {
                overlap++;
            }
            else
            {
                if (seenB.Contains(x))
                    overlap++;
                if (seenA.Contains(y))
                    overlap++;
            }
            seenA.Add(x);
            seenB.Add(y);
            sum += (double)overlap / d * Math.Pow(p, d);
        }
        return (double)overlap / depth * Math.Pow(p, depth) + (1 - p) / p * sum;
    }
}
