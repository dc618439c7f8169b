using Recommender.Data.Import;

namespace Recommender.Serving;

/// <summary>
/// The ranges numbers and dates must fall in where they enter (query strings, bodies, forms), one definition for the
/// REST service and the web app. A value outside is a 400 naming its field, never arithmetic that overflows or a
/// date that cannot be moved by a day.
/// </summary>
public static class InputRanges
{
    /// <summary>Adds an error for each named instant out of the range the catalog accepts (<see cref="CatalogRules.InstantProblem"/>); true when all are in range.</summary>
    public static bool CheckInstants(IDictionary<string, string[]> errors, params (string Field, DateTimeOffset? Value)[] instants)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var ok = true;
        foreach (var (field, value) in instants)
        {
            if (CatalogRules.InstantProblem(value) is { } problem)
            {
                errors[field] = [problem];
                ok = false;
            }
        }
        return ok;
    }

    /// <summary>Why a page size is refused, or null when it is between 1 and <paramref name="max"/>.</summary>
    public static string? LimitProblem(int limit, int max) => limit < 1 || limit > max ? $"must be between 1 and {max}" : null;

    /// <summary>Why a page's start is refused, or null when it is 0 or more.</summary>
    public static string? OffsetProblem(int offset) => offset < 0 ? "must be 0 or more" : null;

    /// <summary>Why a "before this id" cursor is refused, or null when it is absent or an id (1 or more).</summary>
    public static string? BeforeProblem(long? before) => before < 1 ? "must be an id, 1 or more" : null;
}

/// <summary>
/// How one list endpoint pages: its page size (1 to <see cref="MaxLimit"/>, <see cref="DefaultLimit"/> when absent),
/// and whether it takes an offset or a before-id cursor. The endpoint checks and documents itself from the same values,
/// so a range cannot be refused in one place and described differently in another.
/// </summary>
public sealed record PageRange(int DefaultLimit, int MaxLimit, bool Offset = false, bool Before = false)
{
    /// <summary>Adds an error naming each field out of range (limit, offset, before); true when all are in range.</summary>
    public bool Check(IDictionary<string, string[]> errors, int limit, int offset = 0, long? before = null)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var ok = true;
        foreach (var (field, problem) in new[]
        {
            ("limit", InputRanges.LimitProblem(limit, MaxLimit)),
            ("offset", Offset ? InputRanges.OffsetProblem(offset) : null),
            ("before", Before ? InputRanges.BeforeProblem(before) : null),
        })
        {
            if (problem is not null)
            {
                errors[field] = [problem];
                ok = false;
            }
        }
        return ok;
    }

    /// <summary>The ranges in words, for an endpoint's description.</summary>
    public string Description =>
        $"limit 1 to {MaxLimit} (default {DefaultLimit})" + (Offset ? "; offset from 0 (default 0)" : "") +
        (Before ? "; before: the id of the last record seen, for the next page" : "") + ". Out of range is a 400 naming the field.";
}
