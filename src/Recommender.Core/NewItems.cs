namespace Recommender.Core;

/// <summary>
/// Catalog items a trained model has not learned, because they arrived after it was trained, each with the learned
/// items that stand in for it until the next training learns it. Without them a new item could not be served by any
/// goal that scores with the model until a retrain (every 6 hours by default), however well it fitted a reader's topics.
/// <para>The stand-ins ("peers") are up to <see cref="MaxPeers"/> learned items on the new item's most specific topic
/// that has any, spread evenly over that topic's popularity order, or spread over the whole model when none of its topics
/// has a learned item. A new item's score for a reader is the mean of its peers' scores and its factor vector their
/// mean: for a biased MF model, the score of an item with the peers' average bias and factors, an item "like the others
/// on its topic". The reason a card gives says so (<see cref="Reason"/>). Built once per pipeline.</para>
/// </summary>
public sealed class NewItems
{
    /// <summary>At most this many stand-ins per new item: enough for a stable mean, cheap to score per request.</summary>
    public const int MaxPeers = 32;

    private readonly Dictionary<long, Estimate> _estimates;
    private readonly Dictionary<string, List<long>> _byTopic = new(StringComparer.Ordinal);

    /// <summary>Stand-ins for one new item: model indices, their mean factor vector, and the topic they are on (null: the whole catalog).</summary>
    public sealed record Estimate(int[] Peers, float[] Vector, string? Topic);

    /// <summary>The catalog's items that <paramref name="model"/> has not learned, with their stand-ins.</summary>
    public NewItems(IRelevanceModel model, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(catalog);
        _estimates = [];
        if (model.ItemCount == 0)
        {
            return;
        }
        var byTopic = new Dictionary<string, Estimate?>(StringComparer.Ordinal);
        Estimate? whole = null;
        foreach (var item in catalog.Items)
        {
            if (model.TryGetItemIndex(item.Id, out _))
            {
                continue;
            }
            Estimate? estimate = null;
            // Most specific first: an item on k8s/networking is scored like other networking items, not like all of k8s.
            foreach (var topic in TopicMix.OwnTopics(catalog, item.Topics).Concat(item.Topics))
            {
                if (!byTopic.TryGetValue(topic, out estimate))
                {
                    var learned = new List<int>();
                    foreach (var id in catalog.ItemsInTopic(topic))
                    {
                        if (model.TryGetItemIndex(id, out var index))
                            learned.Add(index);
                    }
                    estimate = byTopic[topic] = learned.Count == 0 ? null : Build(model, learned, topic);
                }
                if (estimate is not null)
                    break;
            }
            _estimates[item.Id] = estimate ?? (whole ??= Build(model, [.. Enumerable.Range(0, model.ItemCount)], null));
            foreach (var topic in item.Topics)
            {
                if (!_byTopic.TryGetValue(topic, out var ids))
                    _byTopic[topic] = ids = [];
                ids.Add(item.Id);
            }
        }
    }

    /// <summary>How many catalog items the model has not learned.</summary>
    public int Count => _estimates.Count;

    public bool TryGet(long itemId, out Estimate estimate) => _estimates.TryGetValue(itemId, out estimate!);

    /// <summary>
    /// The new items on <paramref name="topic"/> (or below it), by id. A topic's own list is in popularity order, where a
    /// new item, which no one has read, comes last: in a large topic it would be past the part a feed takes.
    /// </summary>
    public IReadOnlyList<long> InTopic(string topic) => _byTopic.TryGetValue(topic, out var ids) ? ids : [];

    /// <summary>What a new item's card says about why its score is what it is.</summary>
    public static string Reason(Catalog catalog, Estimate estimate)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(estimate);
        return estimate.Topic is { } topic
            ? $"New: no one has read it yet, so it is scored like other items on {catalog.Label(topic)}."
            : "New: no one has read it yet, so it is scored like a typical item.";
    }

    // Evenly spaced through the list (popularity order for a topic), so the mean is that of the topic, not of its best.
    private static Estimate Build(IRelevanceModel model, List<int> learned, string? topic)
    {
        var count = Math.Min(MaxPeers, learned.Count);
        var peers = new int[count];
        for (var i = 0; i < count; i++)
            peers[i] = learned[(int)((long)i * learned.Count / count)];
        var vector = new float[model.Rank];
        foreach (var peer in peers)
        {
            var v = model.ItemVector(peer).Span;
            for (var d = 0; d < vector.Length && d < v.Length; d++)
                vector[d] += v[d] / count;
        }
        return new Estimate(peers, vector, topic);
    }
}
