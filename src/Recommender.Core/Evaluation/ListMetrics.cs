using System.Numerics.Tensors;
using Recommender.Factorization;

namespace Recommender.Core.Evaluation;

/// <summary>One served list to measure, in the model's item indices.</summary>
/// <param name="Items">The list, best first.</param>
/// <param name="History">What the user had consumed, for calibration.</param>
/// <param name="Relevant">Items the user went on to like; null when unknown (accuracy metrics then count as 0).</param>
public sealed record ListObservation(IReadOnlyList<int> Items, IReadOnlyList<int> History, IReadOnlySet<int>? Relevant);

/// <summary>
/// Accuracy and beyond-accuracy measurements over a set of lists, the same for offline evaluation and for the
/// audit of lists actually served: NDCG and recall, ILD, coverage, novelty, popularity bias (ARP, APLT), exposure
/// Gini, calibration and low-credibility share.
/// </summary>
public sealed class ListMetrics
{
    private readonly IRelevanceModel _model;
    private readonly Catalog _catalog;
    private readonly double _lowCredibility;
    private readonly int[] _popularity;
    private readonly bool[] _longTail;
    private readonly int _population;
    private readonly bool _hasCredibility;

    /// <param name="model">Supplies item indices, factor vectors (for ILD) and interaction counts (popularity).</param>
    /// <param name="catalog">Topics and credibility.</param>
    /// <param name="population">Users behind the popularity counts, for novelty's −log2(share of users).</param>
    /// <param name="lowCredibility">Below this credibility an item counts as low-credibility.</param>
    public ListMetrics(IRelevanceModel model, Catalog catalog, int population, double lowCredibility = 0.4)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _catalog = catalog ?? throw new ArgumentNullException(nameof(catalog));
        _lowCredibility = lowCredibility;
        _population = Math.Max(1, population);
        _popularity = [.. Enumerable.Range(0, model.ItemCount).Select(model.ItemPopularity)];
        var head = _popularity.Select((n, i) => (n, i)).OrderByDescending(p => p.n).ThenBy(p => p.i)
            .Take((int)Math.Ceiling(model.ItemCount * 0.2)).Select(p => p.i).ToHashSet();
        _longTail = [.. Enumerable.Range(0, model.ItemCount).Select(i => !head.Contains(i))];
        _hasCredibility = catalog.Items.Any(i => i.Credibility is not null);
    }

    public ObjectiveMetrics Measure(string objective, IReadOnlyList<ListObservation> lists, int k, double medianMilliseconds = 0)
    {
        double ndcg = 0, recall = 0, ild = 0, novelty = 0, arp = 0, aplt = 0, kl = 0;
        int ildLists = 0, shown = 0, lowCredibility = 0, klLists = 0;
        var exposure = new double[_model.ItemCount];
        foreach (var observation in lists)
        {
            var list = observation.Items;
            if (observation.Relevant is { } relevant)
            {
                var ranked = list.ToArray();
                ndcg += RankingMetrics.NdcgAtK(ranked, relevant, k);
                recall += RankingMetrics.RecallAtK(ranked, relevant, k);
            }
            if (_model.Rank > 0 && list.Count > 1)
            {
                ild += IntraListDiversity(list);
                ildLists++;
            }
            for (var r = 0; r < list.Count; r++)
            {
                var item = list[r];
                exposure[item] += 1 / Math.Log2(r + 2);
                novelty += -Math.Log2(Math.Max(1, _popularity[item]) / (double)_population);
                arp += _popularity[item];
                aplt += _longTail[item] ? 1 : 0;
                if (_catalog.TryGet(_model.ItemIdAt(item), out var info) && info.Credibility < _lowCredibility)
                    lowCredibility++;
                shown++;
            }
            if (CalibrationKl(observation.History, list) is { } listKl)
            {
                kl += listKl;
                klLists++;
            }
        }
        var n = Math.Max(1, lists.Count);
        var items = Math.Max(1, shown);
        return new ObjectiveMetrics(
            objective, lists.Count, ndcg / n, recall / n, ild / Math.Max(1, ildLists),
            RankingMetrics.CatalogCoverage(lists.Select(l => l.Items), Math.Max(1, _model.ItemCount)),
            novelty / items, arp / items, aplt / items, OfflineEvaluator.Gini(exposure), kl / Math.Max(1, klLists),
            _hasCredibility ? (double)lowCredibility / items : null, medianMilliseconds);
    }

    private double IntraListDiversity(IReadOnlyList<int> list)
    {
        var total = 0.0;
        var pairs = 0;
        for (var a = 0; a < list.Count; a++)
        {
            var x = _model.ItemVector(list[a]).Span;
            for (var b = a + 1; b < list.Count; b++)
            {
                var y = _model.ItemVector(list[b]).Span;
                var cosine = TensorPrimitives.CosineSimilarity(x, y);
                total += 1 - (float.IsFinite(cosine) ? cosine : 0);
                pairs++;
            }
        }
        return total / pairs;
    }

    /// <summary>Calibration of the list against the history's topic mix, through the topic tree; null without history.</summary>
    private double? CalibrationKl(IReadOnlyList<int> history, IReadOnlyList<int> list) =>
        TopicMix.CalibrationKl(Mix(history), Mix(list));

    private TopicMix Mix(IReadOnlyList<int> items) =>
        TopicMix.Of(_catalog, items.Select(i => _catalog.TryGet(_model.ItemIdAt(i), out var info) ? info : null).OfType<ItemInfo>());
}
