using Recommender.Core;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>A page of the catalog, or the problem with the page asked for (naming its field).</summary>
public sealed record CatalogPage(IReadOnlyList<CatalogItem> Items, ParameterError? Problem = null);

/// <summary>
/// Browsing the catalog read-only: a page of the items feeds can show (optionally of one topic), within the paging
/// bounds the REST API and the catalog page share, and how much there is.
/// </summary>
public sealed class CatalogBrowser(CatalogStore store)
{
    public const int MaxPageSize = 500;

    public async Task<CatalogPage> PageAsync(int offset, int limit, string? topic = null, CancellationToken ct = default)
    {
        if (offset < 0)
            return new([], new ParameterError("offset", "must be 0 or more"));
        if (limit is < 1 or > MaxPageSize)
            return new([], new ParameterError("limit", $"must be between 1 and {MaxPageSize}"));
        return new(await store.ListAsync(offset, limit, topic, ct));
    }

    /// <summary>How many items, topics, sources, users and events there are.</summary>
    public Task<CatalogCounts> CountAsync(CancellationToken ct = default) => store.CountAsync(ct);
}
