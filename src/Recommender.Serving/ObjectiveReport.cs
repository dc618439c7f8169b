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
public sealed record ObjectiveWindowReport(string ObjectiveId, long Lists, long People, ObjectiveMetrics Metrics);

/// <summary>
/// Per-objective metrics over a window, computed from served lists and the events that followed them, with the same
/// definitions as offline evaluation (<see cref="ListMetrics"/>).
/// </summary>
public sealed class ObjectiveReport(NpgsqlDataSource dataSource, ServingState state)
{
    /// <summary>Lists measured per objective at most, newest first, so a long window stays cheap.</summary>
    public const int SampleSize = 2000;

    private static readonly string[] PositiveKinds = ["click", "like", "complete", "learned", "quiz_correct"];

    public async Task<IReadOnlyList<ObjectiveWindowReport>> MeasureAsync(DateTimeOffset from, DateTimeOffset to, int k = 10, CancellationToken ct = default)
    {
        var snapshot = state.Current;
        var model = snapshot.Pipeline.Model;
        var catalog = snapshot.Pipeline.Catalog;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var population = await conn.ExecuteScalarAsync<long>(new CommandDefinition("select count(distinct user_id) from events", cancellationToken: ct));
        var metrics = new ListMetrics(model, catalog, (int)Math.Min(population, int.MaxValue));
        var reports = new List<ObjectiveWindowReport>();
        foreach (var objective in snapshot.Pipeline.Objectives.All)
        {
            var rows = (await conn.QueryAsync<(long UserId, DateTime CreatedAt, string Items)>(new CommandDefinition("""
                select user_id, created_at, items::text from served_lists
                where objective_id = @id and created_at >= @from and created_at < @to
                order by created_at desc limit @SampleSize
                """, new { id = objective.Id, from = from.UtcDateTime, to = to.UtcDateTime, SampleSize }, cancellationToken: ct))).ToList();
            if (rows.Count == 0)
                continue;
            var users = rows.Select(r => r.UserId).Distinct().ToArray();
            // Each person's events in the window: history before a list, and what they engaged with after it.
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
            reports.Add(new ObjectiveWindowReport(objective.Id, rows.Count, users.Length, metrics.Measure(objective.Id, observations, k)));
        }
        return reports;
    }
}
