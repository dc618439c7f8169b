namespace Recommender.Core;

/// <summary>
/// The in-memory catalog the ranking reads: items by id with metadata and topics, and interaction counts as popularity.
/// Built once from records (the service loads them from the database) and then only read, so it is safe to share.
/// </summary>
public sealed class Catalog
{
    private readonly Dictionary<long, ItemInfo> _items;
    private readonly Dictionary<string, long> _byExternalId;
    private readonly Dictionary<long, int> _popularity;
    private readonly Dictionary<long, double> _popularityScore;
    private readonly Dictionary<string, long[]> _byTopic;
    private readonly IReadOnlyDictionary<long, ItemDifficulty> _difficulty;
    private readonly IReadOnlyDictionary<string, string> _parents;
    private readonly IReadOnlyDictionary<string, string> _titles;

    /// <param name="items">Every item that may be recommended.</param>
    /// <param name="popularity">Interactions per item id; items not listed count as zero.</param>
    /// <param name="difficulty">Item difficulty on the Elo scale estimated from learners' evidence, with the answers behind it; overrides the level.</param>
    /// <param name="topicParents">The topic tree: each sub-topic's parent; a topic not listed is a subject of its own.</param>
    /// <param name="skill">The fitted skill model (<c>skill rebuild</c>'s priors) that predicts a learner's success; default <see cref="SkillModel.Default"/>.</param>
    /// <param name="topicTitles">The titles people read for topics whose names are identifiers; see <see cref="Label"/>.</param>
    public Catalog(IEnumerable<ItemInfo> items, IReadOnlyDictionary<long, int>? popularity = null, IReadOnlyDictionary<long, ItemDifficulty>? difficulty = null,
        IReadOnlyDictionary<string, string>? topicParents = null, SkillModel? skill = null, IReadOnlyDictionary<string, string>? topicTitles = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        _titles = topicTitles ?? new Dictionary<string, string>();
        Skill = skill ?? SkillModel.Default;
        _parents = topicParents ?? new Dictionary<string, string>();
        _difficulty = difficulty ?? new Dictionary<long, ItemDifficulty>();
        _items = items.Select(WithAncestors).ToDictionary(i => i.Id);
        _byExternalId = new Dictionary<string, long>(_items.Count, StringComparer.Ordinal);
        foreach (var item in _items.Values)
            _byExternalId.TryAdd(item.ExternalId, item.Id);
        _popularity = _items.Keys.ToDictionary(id => id, id => popularity is not null && popularity.TryGetValue(id, out var n) ? n : 0);
        TotalInteractions = _popularity.Values.Sum(n => (long)n);
        MaxPopularity = _popularity.Count == 0 ? 0 : _popularity.Values.Max();
        // Every ranking reads it for hundreds of candidates; two logarithms each add up.
        _popularityScore = _popularity.ToDictionary(p => p.Key, p => MaxPopularity == 0 ? 0 : Math.Log(1 + p.Value) / Math.Log(1 + MaxPopularity));

        // Ties broken by id so every list built from the catalog is deterministic.
        Items = [.. _items.Values.OrderBy(i => i.Id)];
        MostPopular = [.. Items.OrderByDescending(i => _popularity[i.Id]).ThenBy(i => i.Id).Select(i => i.Id)];
        MostRecent = [.. Items.Where(i => i.PublishedAt is not null)
            .OrderByDescending(i => i.PublishedAt).ThenBy(i => i.Id).Select(i => i.Id)];
        _byTopic = Items.SelectMany(i => i.Topics.Select(t => (topic: t, id: i.Id)))
            .GroupBy(p => p.topic, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(p => p.id).OrderByDescending(id => _popularity[id]).ThenBy(id => id).ToArray(), StringComparer.Ordinal);
        Topics = [.. _byTopic.Keys.Order(StringComparer.Ordinal)];
        var parents = _parents.Values.ToHashSet(StringComparer.Ordinal);
        LeafTopics = [.. Topics.Where(t => !parents.Contains(t))];
        Subjects = [.. Topics.Select(SubjectOf).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// The item with the topics above its own added, outermost first: an item on <c>k8s/networking</c> is on <c>k8s</c>
    /// too, so a reader who chooses <c>k8s</c> is offered it, and its card names the subject, as a Stack Exchange item
    /// carries its site. Items that already carry them are unchanged.
    /// </summary>
    private ItemInfo WithAncestors(ItemInfo item)
    {
        if (_parents.Count == 0)
            return item;
        List<(string Topic, int Depth)>? above = null;
        foreach (var topic in item.Topics)
        {
            var chain = new List<string>();
            // Bounded walk: the import refuses loops, but a catalog built in memory is not checked.
            for (var (p, depth) = (ParentOf(topic), 0); p is not null && depth < 64; p = ParentOf(p), depth++)
                chain.Add(p);
            for (var n = 0; n < chain.Count; n++)
            {
                if (!item.Topics.Contains(chain[n]) && above?.Exists(a => a.Topic == chain[n]) != true)
                    (above ??= []).Add((chain[n], chain.Count - n));
            }
        }
        return above is null ? item : item with { Topics = [.. above.OrderBy(a => a.Depth).Select(a => a.Topic), .. item.Topics] };
    }

    public int Count => _items.Count;

    /// <summary>Items ordered by id.</summary>
    public IReadOnlyList<ItemInfo> Items { get; }

    /// <summary>Every topic in the catalog, sorted.</summary>
    public IReadOnlyList<string> Topics { get; }

    /// <summary>Topics that are no other topic's parent: the level a <see cref="TopicMix"/> counts topics at (every topic without a tree).</summary>
    public IReadOnlyList<string> LeafTopics { get; }

    /// <summary>The subjects at the roots of the topics' trees, sorted (every topic without a tree).</summary>
    public IReadOnlyList<string> Subjects { get; }

    /// <summary>Item ids by interaction count, most popular first.</summary>
    public IReadOnlyList<long> MostPopular { get; }

    /// <summary>Item ids that have a publication date, newest first.</summary>
    public IReadOnlyList<long> MostRecent { get; }

    public long TotalInteractions { get; }

    public int MaxPopularity { get; }

    public ItemInfo this[long id] => _items[id];

    public bool TryGet(long id, out ItemInfo item) => _items.TryGetValue(id, out item!);

    public bool Contains(long id) => _items.ContainsKey(id);

    /// <summary>The internal id of the item a platform names <paramref name="externalId"/>, as of this catalog's load.</summary>
    public bool TryGetId(string externalId, out long id) => _byExternalId.TryGetValue(externalId, out id);

    public int Popularity(long id) => _popularity.TryGetValue(id, out var n) ? n : 0;

    /// <summary>log(1 + count) / log(1 + max count), in 0..1: a popularity prior that does not let blockbusters swamp everything.</summary>
    public double PopularityScore(long id) => _popularityScore.TryGetValue(id, out var score) ? score : 0;

    /// <summary>Ids of the items carrying <paramref name="topic"/>, most popular first.</summary>
    public IReadOnlyList<long> ItemsInTopic(string topic) => _byTopic.TryGetValue(topic, out var ids) ? ids : [];

    /// <summary>Each sub-topic's parent topic.</summary>
    public IReadOnlyDictionary<string, string> TopicParents => _parents;

    /// <summary>The topic's parent, or null for a subject.</summary>
    public string? ParentOf(string topic) => _parents.TryGetValue(topic, out var p) ? p : null;

    /// <summary>
    /// The name a person reads: the topic's title where it has one (<c>Quantum Computing</c> for <c>quantumcomputing</c>),
    /// else a sub-topic without its parent's name in front (<c>qubit</c> for <c>quantumcomputing/qubit</c> under
    /// <c>quantumcomputing</c>), any other topic as it is named.
    /// </summary>
    public string Label(string topic) =>
        _titles.TryGetValue(topic, out var title) ? title
        : ParentOf(topic) is { } parent && topic.Length > parent.Length + 1 && topic.StartsWith(parent + "/", StringComparison.Ordinal)
            ? topic[(parent.Length + 1)..]
            : topic;

    /// <summary>The subject at the root of the topic's tree (the topic itself when it has no parent).</summary>
    public string SubjectOf(string topic)
    {
        // Bounded walk: the import refuses loops, but a catalog built in memory is not checked.
        for (var depth = 0; depth < 64 && _parents.TryGetValue(topic, out var parent); depth++)
            topic = parent;
        return topic;
    }

    /// <summary>
    /// Steps between two topics through their nearest common ancestor: 0 the same topic, 1 a topic and its parent, 2 two
    /// sub-topics of one subject or two subjects, 4 sub-topics of different subjects (joined above every subject).
    /// </summary>
    public int TopicDistance(string a, string b)
    {
        if (string.Equals(a, b, StringComparison.Ordinal))
            return 0;
        var up = new Dictionary<string, int>(StringComparer.Ordinal);
        var steps = 0;
        for (var t = a; t is not null && steps < 64; t = ParentOf(t), steps++)
            up.TryAdd(t, steps);
        steps = 0;
        for (var t = b; t is not null && steps < 64; t = ParentOf(t), steps++)
        {
            if (up.TryGetValue(t, out var fromA))
                return fromA + steps;
        }
        // Through a common root above every subject: one step up from each side's subject.
        return up.Values.Max() + 1 + steps;
    }

    /// <summary>
    /// The skill model the learning state was fitted with: it predicts success for ranking exactly as
    /// <c>evaluate skill</c> measures it. Built once with the catalog, so serving only evaluates it.
    /// </summary>
    public SkillModel Skill { get; }

    /// <summary>Difficulty on the Elo scale: estimated from evidence when there is some, else the fitted difficulty of the item's level.</summary>
    public double Difficulty(long id) => DifficultyOf(id, TryGet(id, out var item) ? item.Level : null).Rating;

    private ItemDifficulty DifficultyOf(long id, int? level) =>
        _difficulty.TryGetValue(id, out var d) ? d : new ItemDifficulty(Skill.Priors.Difficulty(level), 0);

    /// <summary>
    /// The learner's predicted success on the item under <see cref="Skill"/>, exactly as <c>evaluate skill</c> measures
    /// it: their mean skill over <paramref name="topics"/> (the item's topics when empty; a topic not yet practised
    /// starts from the fitted start plus the learner's general ability) against the item's difficulty, allowing
    /// for how little is known yet of either.
    /// </summary>
    public double PredictSuccess(IReadOnlyDictionary<string, TopicSkill> skills, long itemId, IReadOnlyCollection<string> topics)
    {
        ArgumentNullException.ThrowIfNull(skills);
        ArgumentNullException.ThrowIfNull(topics);
        var level = TryGet(itemId, out var item) ? item.Level : null;
        if (topics.Count == 0 && item is not null)
            topics = item.Topics;
        return Skill.PredictSuccess(skills, topics, level, DifficultyOf(itemId, level));
    }
}
