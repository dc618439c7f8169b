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
        string? topic = null, CancellationToken ct = default) =>
        Page.Check(errors, limit, offset) ? await store.ListAsync(offset, limit, topic, ct) : null;

    /// <summary>How many items, topics, sources, users and events there are.</summary>
    public Task<CatalogCounts> CountAsync(CancellationToken ct = default) => store.CountAsync(ct);
}
