namespace Recommender.Serving;

/// <summary>
/// Equal, whole time buckets covering a window, in UTC: hours and days start on the hour and at midnight, weeks on
/// Mondays. The first bucket starts at or before the window, so every bucket is a whole hour, day or week.
/// </summary>
/// <param name="Start">Where the first bucket starts.</param>
/// <param name="Width">An hour, a day or a week.</param>
/// <param name="Count">How many buckets, at least one.</param>
public sealed record TimeBuckets(DateTimeOffset Start, TimeSpan Width, int Count)
{
    public static TimeSpan Hour { get; } = TimeSpan.FromHours(1);

    public static TimeSpan Day { get; } = TimeSpan.FromDays(1);

    public static TimeSpan Week { get; } = TimeSpan.FromDays(7);

    /// <summary>A Monday midnight UTC that every bucket boundary is a whole number of widths away from.</summary>
    public static DateTimeOffset Origin { get; } = new(2000, 1, 3, 0, 0, 0, TimeSpan.Zero);

    public DateTimeOffset End => Start + Width * Count;

    /// <summary>Where bucket <paramref name="index"/> starts.</summary>
    public DateTimeOffset this[int index] => Start + Width * index;

    /// <summary>Buckets of <paramref name="width"/> from the one holding <paramref name="from"/> to the one holding the instant before <paramref name="to"/>.</summary>
    public static TimeBuckets Covering(DateTimeOffset from, DateTimeOffset to, TimeSpan width)
    {
        if (width <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(width), "A bucket needs a positive width.");
        if (to <= from)
            throw new ArgumentException("The window must end after it starts.", nameof(to));
        var start = Floor(from, width);
        return new TimeBuckets(start, width, Math.Max(1, (int)Math.Ceiling((to - start) / width)));
    }

    /// <summary>For metrics over time: hours for windows up to two days, days beyond.</summary>
    public static TimeBuckets ForTrends(DateTimeOffset from, DateTimeOffset to) =>
        Covering(from, to, to - from <= TimeSpan.FromDays(2) ? Hour : Day);

    /// <summary>For breadth of consumption, which needs time to show: weeks from four weeks up, days below.</summary>
    public static TimeBuckets ForBreadth(DateTimeOffset from, DateTimeOffset to) =>
        Covering(from, to, to - from >= TimeSpan.FromDays(28) ? Week : Day);

    /// <summary>
    /// The last bucket when it is still in progress at <paramref name="to"/> and is not the only one, else -1: a week with
    /// one day in it would read as a fall in anything counted per week, so a chart leaves it out until it ends.
    /// </summary>
    public int InProgressAt(DateTimeOffset to) => Count > 1 && End > to ? Count - 1 : -1;

    /// <summary>The bucket holding <paramref name="at"/>, or -1 outside them.</summary>
    public int IndexOf(DateTimeOffset at) => at < Start || at >= End ? -1 : (int)((at - Start) / Width);

    private static DateTimeOffset Floor(DateTimeOffset at, TimeSpan width) =>
        Origin + width * Math.Floor((at.ToUniversalTime() - Origin) / width);
}
