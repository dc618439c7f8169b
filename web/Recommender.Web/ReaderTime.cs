using System.Globalization;

namespace Recommender.Web;

/// <summary>
/// A time in words: "7 December 2026, 17:21 UTC", as a card gives its date, never an ISO timestamp ("2026-12-07 17:21",
/// which a phone's narrow column broke after "2026-12-"). The reader's pages and the admin pages (through
/// <see cref="AdminText.Exact(DateTime)"/>) both write times this way.
/// </summary>
public static class ReaderTime
{
    /// <summary>"7 December 2026": a day, as a card dates an item.</summary>
    public static string ToDay(DateTime date) => date.ToString("d MMMM yyyy", CultureInfo.InvariantCulture);

    /// <summary>"2026-12-07T17:21:59Z": the instant for a <c>&lt;time datetime&gt;</c>, to the second.</summary>
    public static string ToMachine(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>"7 December 2026, 17:21"; in UTC, which the page says once, beside it or in its column's header.</summary>
    public static string ToMinute(DateTime utc) => utc.ToString("d MMMM yyyy, HH:mm", CultureInfo.InvariantCulture);

    /// <summary>"7 December 2026, 17:21:59": lists served within one minute tell apart by their second.</summary>
    public static string ToSecond(DateTime utc) => utc.ToString("d MMMM yyyy, HH:mm:ss", CultureInfo.InvariantCulture);
}
