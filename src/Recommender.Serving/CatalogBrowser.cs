using Recommender.Core;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>
/// Browsing the catalog read-only: a page of the items feeds can show (optionally of one topic), within the paging
/// bounds the REST API and the catalog page share, and how much there is.
/// </summary>
public sealed class CatalogBrowser(CatalogStore store)
{
    /// <summary>The catalog's paging bounds, shared by the REST API and the catalog page.</summary>
    public static readonly PageRange Page = new(DefaultLimit: 50, MaxLimit: 500, Offset: true);

    /// <summary>A page of items, or null with an error naming each field out of range added to <paramref name="errors"/>.</summary>
    public async Task<IReadOnlyList<CatalogItem>?> PageAsync(int offset, int limit, IDictionary<string, string[]> errors,
        string? topic = null, CancellationToken ct = default)
    {
        if (!Page.Check(errors, limit, offset))
            return null;
        var page = await store.ListAsync(offset, limit, topic, ct);
        // An empty page of a topic that does not exist is a mistyped filter, not an empty topic.
        if (page.Count == 0 && topic is not null && (await store.UnknownTopicsAsync([topic], ct)).Count > 0)
        {
            errors["topic"] = [UnknownTopic(topic)];
            return null;
        }
        return page;
    }

    /// <summary>Every topic with its parent and how many items it holds: what a topic picker offers.</summary>
    public Task<IReadOnlyList<CatalogTopic>> TopicsAsync(CancellationToken ct = default) => store.TopicsAsync(ct);

    /// <summary>
    /// The error for a topic name the catalog does not have, wherever one is given, with the one most likely meant
    /// among <paramref name="names"/>, if any.
    /// </summary>
    public static string UnknownTopic(string topic, IEnumerable<string>? names = null) =>
        names is not null && DidYouMean.Closest(names, topic) is { } meant
            ? $"'{topic}' is not a topic of the catalog; did you mean {meant}?"
            : $"'{topic}' is not a topic of the catalog; {WhereTopicsAreListed}";

    /// <summary>How <see cref="UnknownTopic"/> tells an API client where the topics are; a page says it in its own words.</summary>
    public const string WhereTopicsAreListed = "GET /api/catalog/topics lists them";

    /// <summary>
    /// Each topic of <paramref name="lists"/> the catalog does not have, as an error keyed by its list's field and its
    /// place in that list as sent (<c>topics[2]</c>, <c>parameters.topics[0]</c>), so a client can point at the very
    /// entry; empty when every topic is known. Topics are compared trimmed. The item PUT and every settings change
    /// check here, so they name a mistake alike. A topic in <paramref name="kept"/> passes though the catalog lacks it:
    /// a person's own topic that has since left the catalog does not block their other changes.
    /// </summary>
    public async Task<IReadOnlyList<ParameterError>> UnknownTopicErrorsAsync(IEnumerable<(string Field, IReadOnlyList<string> Topics)> lists,
        IReadOnlyCollection<string>? kept = null, CancellationToken ct = default)
    {
        var given = lists.Select(l => (l.Field, Topics: l.Topics.Select(t => t?.Trim() ?? "").ToList())).ToList();
        var passes = new HashSet<string>(kept ?? [], StringComparer.Ordinal);
        // Kept topics are not looked up: a save that brings no new topic asks the database nothing.
        var unknown = (await store.UnknownTopicsAsync(given.SelectMany(l => l.Topics).Where(t => !passes.Contains(t)), ct)).ToHashSet(StringComparer.Ordinal);
        if (unknown.Count == 0)
            return [];
        // Only for a mistake: the names a suggestion is chosen from.
        var names = (await store.TopicsAsync(ct)).Select(t => t.Name).ToList();
        return [.. given.SelectMany(l => l.Topics.Select((topic, i) => (Field: $"{l.Field}[{i}]", Topic: topic)))
            .Where(e => unknown.Contains(e.Topic))
            .Select(e => new ParameterError(e.Field, UnknownTopic(e.Topic, names)))];
    }

    /// <summary>How many items, topics, sources, users and events there are.</summary>
    public Task<CatalogCounts> CountAsync(CancellationToken ct = default) => store.CountAsync(ct);
}
