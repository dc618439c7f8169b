using System.Runtime.CompilerServices;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>
/// Reading the audit log of served lists, scoped by who asks: a person sees only their own lists, an admin anyone's,
/// with the people they were shown to. The REST API and the pages read the log through here, so both scope it alike.
/// </summary>
public sealed class AuditQueries(ServedListStore served, AccountStore accounts)
{
    /// <summary>How many lists have been served and recorded.</summary>
    public Task<long> CountAsync(CancellationToken ct = default) => served.CountAsync(ct);

    /// <summary>An admin's search over everyone's lists, newest first.</summary>
    public Task<IReadOnlyList<ServedListRow>> SearchAsync(ServedListFilter filter, CancellationToken ct = default) =>
        served.QueryAsync(filter, ct);

    /// <summary>
    /// An admin's search read on past its first page, newest first, up to <paramref name="limit"/> lists in all: the
    /// search above asked again for the lists older than the last, so a download holds every list a filter matches (to
    /// the limit) without holding them all at once.
    /// </summary>
    public async IAsyncEnumerable<ServedListRow> SearchAllAsync(ServedListFilter filter, int limit, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var (read, before) = (0, filter.BeforeId);
        while (read < limit)
        {
            var size = Math.Min(SearchPage, limit - read);
            var page = await served.QueryAsync(filter with { Limit = size, BeforeId = before }, ct);
            foreach (var row in page)
                yield return row;
            read += page.Count;
            if (page.Count < size)
                yield break;
            before = page[^1].Id;
        }
    }

    /// <summary>Lists read per query by <see cref="SearchAllAsync"/>.</summary>
    private const int SearchPage = 500;

    /// <summary>Any one list, by the request id its feed answered with (an admin's look-up).</summary>
    public Task<ServedListRow?> RecordAsync(Guid requestId, CancellationToken ct = default) => served.GetAsync(requestId, null, ct);

    /// <summary>The people these lists were shown to, by id; someone whose account was deleted is absent.</summary>
    public Task<IReadOnlyDictionary<long, Account>> PeopleShownAsync(IEnumerable<ServedListRow> lists, CancellationToken ct = default) =>
        accounts.GetManyAsync([.. lists.Select(r => r.UserId).Distinct()], ct);

    /// <summary>A person's own lists, newest first; <paramref name="before"/> (a list's id) pages on to older ones.</summary>
    public Task<IReadOnlyList<ServedListRow>> OfPersonAsync(long userId, int limit, long? before = null, CancellationToken ct = default) =>
        served.QueryAsync(new ServedListFilter(UserId: userId, Limit: limit, BeforeId: before), ct);

    /// <summary>One of a person's own lists; another person's request id finds nothing.</summary>
    public Task<ServedListRow?> OwnRecordAsync(long userId, Guid requestId, CancellationToken ct = default) =>
        served.GetAsync(requestId, userId, ct);
}
