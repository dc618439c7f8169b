using System.Globalization;

namespace Recommender.Web;

/// <summary>
/// A time as a reader reads it on their own pages: "7 December 2026, 17:21 UTC", as a card gives its date, never an ISO
/// timestamp ("2026-12-07 17:21", which a phone's narrow column broke after "2026-12-"). The admin pages keep theirs exact.
/// </summary>
public static class ReaderTime
{
    /// <summary>"7 December 2026, 17:21"; in UTC, which the page says once, beside it or in its column's header.</summary>
    public static string ToMinute(DateTime utc) => utc.ToString("d MMMM yyyy, HH:mm", CultureInfo.InvariantCulture);

    /// <summary>"7 December 2026, 17:21:59": lists served within one minute tell apart by their second.</summary>
    public static string ToSecond(DateTime utc) => utc.ToString("d MMMM yyyy, HH:mm:ss", CultureInfo.InvariantCulture);
}
