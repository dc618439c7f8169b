using Recommender.Core;
using Recommender.Core.Evaluation;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>What each objective did over a time window, measured on the lists it actually served.</summary>
/// <param name="ObjectiveId">The objective.</param>
/// <param name="Lists">Served lists measured (at most the sample size, newest first).</param>
/// <param name="People">Distinct people those lists went to.</param>
/// <param name="Metrics">The metrics of <c>recommender evaluate</c>; accuracy counts items the person then clicked, liked, completed, learned from or rated 7 or more.</param>
/// <param name="VerifiedShare">Share of served items whose signature was verified when served (docs/provenance.md); null when no list recorded provenance.</param>
public sealed record ObjectiveWindowReport(string ObjectiveId, long Lists, long People, ObjectiveMetrics Metrics, double? VerifiedShare = null);

/// <summary>One objective's metrics per time bucket.</summary>
/// <param name="ObjectiveId">The objective.</param>
/// <param name="Points">One per bucket; null where it served nothing.</param>
public sealed record ObjectiveTrend(string ObjectiveId, IReadOnlyList<ObjectiveMetrics?> Points);

/// <summary>The metrics of every objective that served in a window, per hour or day.</summary>
public sealed record ObjectiveTrends(TimeBuckets Buckets, IReadOnlyList<ObjectiveTrend> Objectives);

/// <summary>
/// Per-objective metrics over a window, computed from served lists and the events that followed them, with the same
/// definitions as offline evaluation (<see cref="ListMetrics"/>): over the whole window, or per hour or day for trends.
/// </summary>
public sealed class ObjectiveReport(ServedListStore served, EventStore events, ServingState state)
{
    /// <summary>Lists measured per objective at most, newest first, so a long window stays cheap.</summary>
    public const int SampleSize = 2000;

    /// <summary>Lists measured per objective and time bucket at most, newest first, so every bucket of a trend is measured.</summary>
    public const int TrendSampleSize = 200;

    private static readonly EventKind[] PositiveKinds = [EventKind.Click, EventKind.Like, EventKind.Complete, EventKind.Learned, EventKind.QuizCorrect];

    public async Task<IReadOnlyList<ObjectiveWindowReport>> MeasureAsync(DateTimeOffset from, DateTimeOffset to, int k = 10, CancellationToken ct = default)
    {
        var snapshot = state.Current;
        var metrics = await MetricsAsync(snapshot, ct);
        var reports = new List<ObjectiveWindowReport>();
        foreach (var objective in snapshot.Pipeline.Objectives.All)
        {
            var rows = await served.NewestOfObjectiveAsync(objective.Id, from, to, SampleSize, ct);
            if (rows.Count == 0)
                continue;
            var observations = await ObserveAsync(snapshot, rows, to, k, ct);
            reports.Add(new ObjectiveWindowReport(objective.Id, rows.Count, rows.Select(r => r.UserId).Distinct().Count(), metrics.Measure(objective.Id, observations, k),
                VerifiedShare(rows)));
        }
        return reports;
    }

    /// <summary>
    /// The same metrics per hour (windows up to two days) or day, for every objective that served in the window. Each
    /// bucket measures its own newest <see cref="TrendSampleSize"/> lists, so coverage is coverage within that bucket.
    /// </summary>
    public async Task<ObjectiveTrends> TrendsAsync(DateTimeOffset from, DateTimeOffset to, int k = 10, CancellationToken ct = default)
    {
        var buckets = TimeBuckets.ForTrends(from, to);
        var snapshot = state.Current;
        var metrics = await MetricsAsync(snapshot, ct);
        var trends = new List<ObjectiveTrend>();
        foreach (var objective in snapshot.Pipeline.Objectives.All)
        {
            var rows = await served.NewestPerBucketAsync(objective.Id, buckets.Width, TimeBuckets.Origin, buckets.Start, to, TrendSampleSize, ct);
            if (rows.Count == 0)
                continue;
            var observations = await ObserveAsync(snapshot, rows, to, k, ct);
            var points = new ObjectiveMetrics?[buckets.Count];
            foreach (var bucket in rows.Select((row, i) => (row, i)).GroupBy(p => buckets.IndexOf(new DateTimeOffset(p.row.CreatedAt, TimeSpan.Zero))).Where(g => g.Key >= 0))
                points[bucket.Key] = metrics.Measure(objective.Id, [.. bucket.Select(p => observations[p.i])], k);
            trends.Add(new ObjectiveTrend(objective.Id, points));
        }
        return new ObjectiveTrends(buckets, trends);
    }

    /// <summary>Verified items over items whose provenance the audit record kept (lists served before provenance existed are left out).</summary>
    private static double? VerifiedShare(IEnumerable<WindowedList> rows)
    {
        long recorded = 0, verified = 0;
        foreach (var row in rows)
        {
            foreach (var item in row.ReadItems())
            {
                if (item.Provenance is not { } state)
                    continue;
                recorded++;
                if (state == Core.ProvenanceStates.Verified)
                    verified++;
            }
        }
        return recorded == 0 ? null : (double)verified / recorded;
    }

    private async Task<ListMetrics> MetricsAsync(RankingSnapshot snapshot, CancellationToken ct)
    {
        var population = await events.CountPeopleAsync(ct);
        return new ListMetrics(snapshot.Pipeline.Model, snapshot.Pipeline.Catalog, (int)Math.Min(population, int.MaxValue));
    }

    /// <summary>The lists in the model's indices, each with what its person had consumed before it and engaged with after it (up to <paramref name="to"/>); in the order of <paramref name="rows"/>.</summary>
    private async Task<List<ListObservation>> ObserveAsync(RankingSnapshot snapshot, IReadOnlyList<WindowedList> rows, DateTimeOffset to, int k, CancellationToken ct)
    {
        var model = snapshot.Pipeline.Model;
        var users = rows.Select(r => r.UserId).Distinct().ToArray();
        var byPerson = (await events.OfPeopleBeforeAsync(users, to, ct)).ToLookup(e => e.UserId);
        var observations = new List<ListObservation>(rows.Count);
        foreach (var row in rows)
        {
            var items = row.ReadItems().Select(i => i.ItemId)
                .Select(id => model.TryGetItemIndex(id, out var index) ? index : -1).Where(i => i >= 0).Take(k).ToArray();
            var shownAt = new DateTimeOffset(row.CreatedAt, TimeSpan.Zero);
            var mine = byPerson[row.UserId];
            var history = mine.Where(e => e.OccurredAt < shownAt && e.Kind is not (EventKind.Impression or EventKind.NotInterested))
                .Select(e => model.TryGetItemIndex(e.ItemId, out var index) ? index : -1).Where(i => i >= 0).ToArray();
            var relevant = mine.Where(e => e.OccurredAt >= shownAt && (PositiveKinds.Contains(e.Kind) || (e.Kind == EventKind.Rating && e.Value >= ImplicitFeedback.PositiveRating)))
                .Select(e => model.TryGetItemIndex(e.ItemId, out var index) ? index : -1).Where(i => i >= 0).ToHashSet();
            observations.Add(new ListObservation(items, history, relevant));
        }
        return observations;
    }
}
