namespace Recommender.Core.Ranking;

/// <summary>
/// The level a reader reads at, from what they consumed: the mean level (1–5) of those items, per topic and overall.
/// A re-ranker learns from its gap to a candidate's level how far above or below a reader's reading people still engage;
/// the reader's history is what both serving and training have at the moment a list is served.
/// </summary>
public sealed class ReaderLevel
{
    /// <summary>The gap when the candidate has no level or the reader has read nothing with one; outside every real gap (−4…4).</summary>
    public const float Unknown = -9;

    public static ReaderLevel None { get; } = new(new Dictionary<string, (double, int)>(StringComparer.Ordinal), 0, 0);

    private readonly Dictionary<string, (double Sum, int Count)> _byTopic;
    private readonly double _sum;
    private readonly int _count;

    private ReaderLevel(Dictionary<string, (double Sum, int Count)> byTopic, double sum, int count)
    {
        _byTopic = byTopic;
        _sum = sum;
        _count = count;
    }

    /// <summary>From the items the reader consumed; items without a level, or missing from the catalog, are left out.</summary>
    public static ReaderLevel Of(Catalog catalog, IEnumerable<long> consumed)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(consumed);
        var byTopic = new Dictionary<string, (double Sum, int Count)>(StringComparer.Ordinal);
        double sum = 0;
        var count = 0;
        foreach (var id in consumed)
        {
            if (!catalog.TryGet(id, out var item) || item.Level is not { } level)
                continue;
            sum += level;
            count++;
            foreach (var topic in item.Topics)
            {
                var (s, n) = byTopic.GetValueOrDefault(topic);
                byTopic[topic] = (s + level, n + 1);
            }
        }
        return count == 0 ? None : new ReaderLevel(byTopic, sum, count);
    }

    /// <summary>
    /// The candidate's level minus the level the reader reads at in its topics (pooled over the topics they read), or
    /// overall when they read none of its topics; <see cref="Unknown"/> when either side has no level.
    /// </summary>
    public float GapTo(ItemInfo item)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (item.Level is not { } level || _count == 0)
            return Unknown;
        double sum = 0;
        var count = 0;
        foreach (var topic in item.Topics)
        {
            if (_byTopic.TryGetValue(topic, out var read))
            {
                sum += read.Sum;
                count += read.Count;
            }
        }
        return (float)(level - (count > 0 ? sum / count : _sum / _count));
    }
}
