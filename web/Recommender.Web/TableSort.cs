namespace Recommender.Web;

/// <summary>
/// A table's sort order, carried in the address (<c>?sort=rmse&amp;dir=desc</c>) so that sorting works without script
/// and numbers sort as numbers: each column sorts by its value, not by the text in the cell.
/// </summary>
public sealed record TableSort(string Column, bool Descending)
{
    /// <summary>The order asked for in the address, or <paramref name="fallback"/> when it names no known column.</summary>
    public static TableSort Parse(string? sort, string? dir, IEnumerable<string> columns, TableSort fallback) =>
        sort is not null && columns.Contains(sort, StringComparer.Ordinal)
            ? new TableSort(sort, dir == "desc")
            : fallback;

    /// <summary>
    /// The rows ordered by the column's key; rows without a value (shown as "—") come last either way.
    /// A key is a number, a time or text, compared as such.
    /// </summary>
    public IReadOnlyList<T> Apply<T>(IEnumerable<T> rows, IReadOnlyDictionary<string, Func<T, IComparable?>> keys)
    {
        if (!keys.TryGetValue(Column, out var key))
            return [.. rows];
        var list = rows.Select(r => (Row: r, Key: key(r))).ToList();
        var known = list.Where(r => r.Key is not null);
        var ordered = Descending ? known.OrderByDescending(r => r.Key) : known.OrderBy(r => r.Key);
        return [.. ordered.Concat(list.Where(r => r.Key is null)).Select(r => r.Row)];
    }

    /// <summary>The order a click on <paramref name="column"/>'s header gives: the other direction when it is already sorted by it.</summary>
    public (string Column, string Dir) Next(string column, bool descendingFirst) =>
        column == Column ? (column, Descending ? "asc" : "desc") : (column, descendingFirst ? "desc" : "asc");

    /// <summary>The header's <c>aria-sort</c>: only the sorted column has one.</summary>
    public string? AriaSort(string column) => column == Column ? (Descending ? "descending" : "ascending") : null;
}
