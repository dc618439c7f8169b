using System.Globalization;

namespace Recommender.Web;

/// <summary>
/// The audit explorer's From and To as people type them, read as UTC, for the page and for the download of what it
/// lists, so both read a filter alike. Year first: a date, or a date and time, as a date box sends it
/// (2026-12-01T18:30) or a person types it (2026-12-01 18:30). Nothing else: "7/12/2026" was read as 12 July, whoever
/// meant 7 December. To includes what it names: the whole day, or the whole minute (CatalogRules.EndOf, as the CLI reads it).
/// </summary>
public static class AuditWindow
{
    private static readonly string[] Formats = ["yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm:ss"];

    /// <summary>
    /// The window <paramref name="from"/> and <paramref name="to"/> name, as [From, To); a problem per field ("from",
    /// "to") for a time that cannot be read, saying what to type with examples this reads (GOV.UK's "Enter … as a date,
    /// for example …"), as a browser without a date picker leaves it to the person; and for a from after the to.
    /// </summary>
    public static (DateTimeOffset? From, DateTimeOffset? To, IReadOnlyList<(string Field, string Problem)> Problems) Read(string? from, string? to)
    {
        var problems = new List<(string Field, string Problem)>();
        var start = Time(from, "from", problems);
        var end = Time(to, "to", problems) is { } at ? Recommender.Data.Import.CatalogRules.EndOf(to!, at) : (DateTimeOffset?)null;
        if (start > end)
            problems.Add(("from", "Enter a from date that is the same as or before the to date."));
        return (start, end, problems);
    }

    private static DateTimeOffset? Time(string? text, string field, List<(string Field, string Problem)> problems)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        if (DateTimeOffset.TryParseExact(text.Trim(), Formats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
            return value;
        problems.Add((field, $"Enter the {field} date as a date, for example {ExampleDay}, or as a date and time in UTC, for example {ExampleDay} 18:30."));
        return null;
    }

    /// <summary>The first of next month, as a date near the ones people filter by, in the form the filter reads.</summary>
    private static string ExampleDay => new DateTime(DateTime.UtcNow.Year, DateTime.UtcNow.Month, 1).AddMonths(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
