namespace Recommender.Serving;

/// <summary>
/// The ranges numbers and dates must fall in where they enter (query strings, bodies, forms), one definition for the
/// REST service and the web app. A value outside is a 400 naming its field, never arithmetic that overflows or a
/// date that cannot be moved by a day.
/// </summary>
public static class InputRanges
{
    /// <summary>The earliest instant accepted anywhere (1900-01-01 UTC): older than any catalog item, far from <see cref="DateTimeOffset.MinValue"/>.</summary>
    public static DateTimeOffset EarliestInstant { get; } = new(1900, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The latest instant accepted anywhere (2200-01-01 UTC), far from <see cref="DateTimeOffset.MaxValue"/>.</summary>
    public static DateTimeOffset LatestInstant { get; } = new(2200, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Why <paramref name="value"/> is refused, or null when it is absent or in range.</summary>
    public static string? InstantProblem(DateTimeOffset? value) =>
        value is { } v && (v < EarliestInstant || v > LatestInstant)
            ? $"must be between {EarliestInstant:yyyy-MM-dd} and {LatestInstant:yyyy-MM-dd}"
            : null;

    /// <summary>Adds an error for each named instant out of range; true when all are in range.</summary>
    public static bool CheckInstants(IDictionary<string, string[]> errors, params (string Field, DateTimeOffset? Value)[] instants)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var ok = true;
        foreach (var (field, value) in instants)
        {
            if (InstantProblem(value) is { } problem)
            {
                errors[field] = [problem];
                ok = false;
            }
        }
        return ok;
    }
}
