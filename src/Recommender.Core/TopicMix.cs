namespace Recommender.Core;

/// <summary>
/// The share of each topic in a set of items, read through the topic tree at two levels: the topics themselves and the
/// subjects they belong to. An item with n topics gives 1/n to each; a subject an item carries beside its own
/// sub-topics (a Stack Exchange question is tagged with its site and its tags) counts at the subject level only, so a
/// site does not crowd out its tags. On a catalog without a tree both levels are the same mix.
/// </summary>
/// <param name="Topics">Share of each topic.</param>
/// <param name="Subjects">Share of each subject.</param>
public sealed record TopicMix(IReadOnlyDictionary<string, double> Topics, IReadOnlyDictionary<string, double> Subjects)
{
    /// <summary>Smoothing of the list's mix in <see cref="CalibrationKl"/> (Steck 2018).</summary>
    public const double Smoothing = 0.01;

    public static TopicMix Empty { get; } = new(new Dictionary<string, double>(), new Dictionary<string, double>());

    public bool IsEmpty => Topics.Count == 0;

    /// <summary>The mix of the given items; items without topics are left out.</summary>
    public static TopicMix Of(Catalog catalog, IEnumerable<ItemInfo> items)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(items);
        var topics = new Dictionary<string, double>(StringComparer.Ordinal);
        var subjects = new Dictionary<string, double>(StringComparer.Ordinal);
        var total = 0;
        foreach (var item in items)
        {
            var own = OwnTopics(catalog, item.Topics);
            if (own.Count == 0)
                continue;
            foreach (var t in own)
                topics[t] = topics.GetValueOrDefault(t) + 1.0 / own.Count;
            var itemSubjects = SubjectsOf(catalog, item.Topics);
            foreach (var s in itemSubjects)
                subjects[s] = subjects.GetValueOrDefault(s) + 1.0 / itemSubjects.Count;
            total++;
        }
        return total == 0 ? Empty : new(Normalized(topics, total), Normalized(subjects, total));
    }

    /// <summary>
    /// An item's topics without those that are ancestors of another of its topics: the level a mix of topics counts it
    /// at. A catalog without a tree keeps every topic.
    /// </summary>
    public static IReadOnlyList<string> OwnTopics(Catalog catalog, IReadOnlyList<string> topics)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(topics);
        if (catalog.TopicParents.Count == 0 || topics.Count < 2)
            return topics;
        var ancestors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in topics)
        {
            for (var (p, depth) = (catalog.ParentOf(t), 0); p is not null && depth < 64; p = catalog.ParentOf(p), depth++)
                ancestors.Add(p);
        }
        return ancestors.Count == 0 ? topics : [.. topics.Where(t => !ancestors.Contains(t))];
    }

    /// <summary>The distinct subjects of an item's topics.</summary>
    public static IReadOnlyList<string> SubjectsOf(Catalog catalog, IReadOnlyList<string> topics)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(topics);
        return catalog.TopicParents.Count == 0 ? topics : [.. topics.Select(catalog.SubjectOf).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Calibration (Steck 2018): KL divergence from the <paramref name="history"/> mix to the <paramref name="list"/>'s,
    /// the list smoothed towards the history by <see cref="Smoothing"/>; with a tree, the mean over the topic and the
    /// subject level. Null without history or list.
    /// </summary>
    public static double? CalibrationKl(TopicMix history, TopicMix list)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(list);
        if (history.IsEmpty || list.IsEmpty)
            return null;
        return (Kl(history.Topics, list.Topics) + Kl(history.Subjects, list.Subjects)) / 2;
    }

    private static double Kl(IReadOnlyDictionary<string, double> p, IReadOnlyDictionary<string, double> q)
    {
        var kl = 0.0;
        foreach (var (topic, pt) in p)
        {
            var qt = (1 - Smoothing) * q.GetValueOrDefault(topic) + Smoothing * pt;
            kl += pt * Math.Log(pt / qt);
        }
        return kl;
    }

    private static Dictionary<string, double> Normalized(Dictionary<string, double> mix, int total)
    {
        foreach (var t in mix.Keys.ToList())
            mix[t] /= total;
        return mix;
    }
}
