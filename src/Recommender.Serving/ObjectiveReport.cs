using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using Recommender.Core.Evaluation;

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
public sealed class ObjectiveReport(NpgsqlDataSource dataSource, ServingState state)
{
    /// <summary>Lists measured per objective at most, newest first, so a long window stays cheap.</summary>
    public const int SampleSize = 2000;

    /// <summary>Lists measured per objective and time bucket at most, newest first, so every bucket of a trend is measured.</summary>
    public const int TrendSampleSize = 200;

    private static readonly string[] PositiveKinds = ["click", "like", "complete", "learned", "quiz_correct"];

    public async Task<IReadOnlyList<ObjectiveWindowReport>> MeasureAsync(DateTimeOffset from, DateTimeOffset to, int k = 10, CancellationToken ct = default)
    {
        var snapshot = state.Current;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var metrics = await MetricsAsync(conn, snapshot, ct);
        var reports = new List<ObjectiveWindowReport>();
        foreach (var objective in snapshot.Pipeline.Objectives.All)
        {
            var rows = (await conn.QueryAsync<ServedRow>(new CommandDefinition("""
                select user_id, created_at, items::text from served_lists
                where objective_id = @id and created_at >= @from and created_at < @to
                order by created_at desc limit @SampleSize
                """, new { id = objective.Id, from = from.UtcDateTime, to = to.UtcDateTime, SampleSize }, cancellationToken: ct))).ToList();
            if (rows.Count == 0)
                continue;
            var observations = await ObserveAsync(conn, snapshot, rows, to, k, ct);
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
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var metrics = await MetricsAsync(conn, snapshot, ct);
        var trends = new List<ObjectiveTrend>();
        foreach (var objective in snapshot.Pipeline.Objectives.All)
        {
            var rows = (await conn.QueryAsync<ServedRow>(new CommandDefinition("""
                select user_id, created_at, items::text from (
                    select user_id, created_at, items,
                           row_number() over (partition by date_bin(@width, created_at, @origin) order by created_at desc) as nth
                    from served_lists
                    where objective_id = @id and created_at >= @from and created_at < @to) sampled
                where nth <= @TrendSampleSize
                """, new
            {
                id = objective.Id,
                width = buckets.Width,
                origin = TimeBuckets.Origin.UtcDateTime,
                from = buckets.Start.UtcDateTime,
                to = to.UtcDateTime,
                TrendSampleSize,
            }, cancellationToken: ct))).ToList();
            if (rows.Count == 0)
                continue;
            var observations = await ObserveAsync(conn, snapshot, rows, to, k, ct);
            var points = new ObjectiveMetrics?[buckets.Count];
            foreach (var bucket in rows.Select((row, i) => (row, i)).GroupBy(p => buckets.IndexOf(new DateTimeOffset(p.row.CreatedAt, TimeSpan.Zero))).Where(g => g.Key >= 0))
                points[bucket.Key] = metrics.Measure(objective.Id, [.. bucket.Select(p => observations[p.i])], k);
            trends.Add(new ObjectiveTrend(objective.Id, points));
        }
        return new ObjectiveTrends(buckets, trends);
    }

    private sealed record ServedRow(long UserId, DateTime CreatedAt, string Items);

    /// <summary>Verified items over items whose provenance the audit record kept (lists served before provenance existed are left out).</summary>
    private static double? VerifiedShare(IEnumerable<ServedRow> rows)
    {
        long recorded = 0, verified = 0;
        foreach (var row in rows)
        {
            foreach (var item in JsonNode.Parse(row.Items)!.AsArray())
            {
                if (item?["provenance"]?.GetValue<string>() is not { } state)
                    continue;
                recorded++;
                if (state == Core.ProvenanceStates.Verified)
                    verified++;
            }
        }
        return recorded == 0 ? null : (double)verified / recorded;
    }

    private static async Task<ListMetrics> MetricsAsync(NpgsqlConnection conn, RankingSnapshot snapshot, CancellationToken ct)
    {
        var population = await conn.ExecuteScalarAsync<long>(new CommandDefinition("select count(distinct user_id) from events", cancellationToken: ct));
        return new ListMetrics(snapshot.Pipeline.Model, snapshot.Pipeline.Catalog, (int)Math.Min(population, int.MaxValue));
    }

    /// <summary>The lists in the model's indices, each with what its person had consumed before it and engaged with after it (up to <paramref name="to"/>); in the order of <paramref name="rows"/>.</summary>
    private static async Task<List<ListObservation>> ObserveAsync(NpgsqlConnection conn, RankingSnapshot snapshot, IReadOnlyList<ServedRow> rows, DateTimeOffset to, int k, CancellationToken ct)
    {
        var model = snapshot.Pipeline.Model;
        var users = rows.Select(r => r.UserId).Distinct().ToArray();
        var events = (await conn.QueryAsync<(long UserId, long ItemId, string Kind, float? Value, DateTime At)>(new CommandDefinition("""
            select user_id, item_id, kind, value, occurred_at from events
            where user_id = any(@users) and occurred_at < @to
            order by occurred_at
            """, new { users, to = to.UtcDateTime }, cancellationToken: ct))).ToLookup(e => e.UserId);
        var observations = new List<ListObservation>(rows.Count);
        foreach (var row in rows)
        {
            var items = JsonNode.Parse(row.Items)!.AsArray().Select(i => i!["item_id"]!.GetValue<long>())
                .Select(id => model.TryGetItemIndex(id, out var index) ? index : -1).Where(i => i >= 0).Take(k).ToArray();
            var mine = events[row.UserId];
            var history = mine.Where(e => e.At < row.CreatedAt && e.Kind is not ("impression" or "not_interested"))
                .Select(e => model.TryGetItemIndex(e.ItemId, out var index) ? index : -1).Where(i => i >= 0).ToArray();
            var relevant = mine.Where(e => e.At >= row.CreatedAt && (PositiveKinds.Contains(e.Kind) || (e.Kind == "rating" && e.Value >= 7)))
                .Select(e => model.TryGetItemIndex(e.ItemId, out var index) ? index : -1).Where(i => i >= 0).ToHashSet();
            observations.Add(new ListObservation(items, history, relevant));
        }
        return observations;
    }
}
