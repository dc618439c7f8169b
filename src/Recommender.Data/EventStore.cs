using System.Globalization;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using Recommender.Core;

namespace Recommender.Data;

/// <summary>One event to record. <see cref="IdempotencyKey"/> is the client's: sending the same key twice records it once.</summary>
public sealed record NewEvent(long UserId, long ItemId, EventKind Kind, float? Value, DateTimeOffset OccurredAt, string IdempotencyKey);

/// <summary>
/// What a batch did: new events recorded, and repeats of keys already stored. <see cref="Conflicts"/> are the positions
/// of events whose key is stored (or sent earlier in the batch) for a different event; then nothing was recorded.
/// </summary>
public sealed record AppendResult(int Recorded, int Duplicates)
{
    public IReadOnlyList<int> Conflicts { get; init; } = [];
}

/// <summary>Distinct topics of what one person consumed in one time bucket (its start) under one goal.</summary>
/// <param name="UserId">Whose.</param>
/// <param name="Bucket">The bucket's start.</param>
/// <param name="TopicIds">The distinct topics.</param>
/// <param name="ObjectiveId">The goal of the latest list served to them at or before each of these consumptions; null for those before their first list.</param>
public sealed record ConsumedTopics(long UserId, DateTime Bucket, int[] TopicIds, string? ObjectiveId = null);

/// <summary>Every rating event as parallel columns (time in Unix seconds), as training reads them.</summary>
public sealed record RatingColumns(long[] Users, long[] Items, float[] Values, long[] Times);

/// <summary>One item consumed by a reader at a moment (UTC ticks).</summary>
public readonly record struct Consumption(long ItemId, long Ticks);

/// <summary>Consumptions in time order: the times of each item's, and each reader's items, keyed by database id.</summary>
public sealed record Consumptions(IReadOnlyDictionary<long, long[]> TimesByItem, IReadOnlyDictionary<long, Consumption[]> ByReader);

/// <summary>Interactions: idempotent batch appends, per-user history, and the bulk reads that training and outcome checks make.</summary>
public sealed class EventStore(NpgsqlDataSource dataSource)
{
    /// <summary>The most events one call accepts (the API's batch limit).</summary>
    public const int MaxBatch = 1000;

    /// <summary>Positions in <paramref name="events"/> whose item does not exist, so the caller can name them in its error.</summary>
    public async Task<IReadOnlyList<int>> FindUnknownItemsAsync(IReadOnlyList<NewEvent> events, CancellationToken ct = default)
    {
        var ids = events.Select(e => e.ItemId).Distinct().ToArray();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var known = (await conn.QueryAsync<long>(new CommandDefinition("select id from items where id = any(@ids)", new { ids }, cancellationToken: ct))).ToHashSet();
        return [.. events.Select((e, i) => (e, i)).Where(p => !known.Contains(p.e.ItemId)).Select(p => p.i)];
    }

    /// <summary>
    /// Records the batch in one transaction; returns only after it is committed. Keys already stored for a user are
    /// skipped, so a client that retries after a timeout cannot double-count. A key stored for a different event (another
    /// item, kind or value; the time is not compared, since a retry without one is stamped anew) is a client's bug that
    /// would lose the event: the batch is then not recorded and the result names it. Items must exist (see <see cref="FindUnknownItemsAsync"/>).
    /// </summary>
    public async Task<AppendResult> AppendAsync(IReadOnlyList<NewEvent> events, CancellationToken ct = default)
    {
        if (events.Count == 0)
            return new AppendResult(0, 0);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var recorded = await AppendAsync(conn, tx, events, ct);
        if (recorded.Count < events.Count && await ConflictsAsync(conn, tx, events, recorded, ct) is { Count: > 0 } conflicts)
            return new AppendResult(0, 0) { Conflicts = conflicts };
        // Learning skill moves only on events seen for the first time, so a retried batch cannot count twice.
        await LearningStateStore.ApplyEvidenceAsync(conn, tx, recorded, ct);
        await tx.CommitAsync(ct);
        return new AppendResult(recorded.Count, events.Count - recorded.Count);
    }

    /// <summary>
    /// Takes back one event the person recorded themselves (the feedback undo), found by its idempotency key; false when
    /// there is none. An answer, too easy or too hard taken back no longer counts in their skill: it is replayed from
    /// the events left (<see cref="LearningStateStore.ReplayLearnerAsync"/>).
    /// </summary>
    public async Task<bool> RetractAsync(long userId, string idempotencyKey, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var kind = await conn.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "delete from events where user_id = @userId and idempotency_key = @idempotencyKey returning kind", new { userId, idempotencyKey }, tx, cancellationToken: ct));
        if (kind is null)
            return false;
        if (EventKinds.TryParse(kind, out var retracted) && retracted.IsLearningEvidence())
            await LearningStateStore.ReplayLearnerAsync(conn, tx, userId, ct);
        await tx.CommitAsync(ct);
        return true;
    }

    /// <summary>
    /// Which of <paramref name="idempotencyKeys"/> the person has an event under now: what a page says they told us is
    /// read from here, not from its address, so a retracted click or a made-up link shows as not recorded.
    /// </summary>
    public async Task<IReadOnlySet<string>> StoredKeysAsync(long userId, IReadOnlyCollection<string> idempotencyKeys, CancellationToken ct = default)
    {
        if (idempotencyKeys.Count == 0)
            return new HashSet<string>(StringComparer.Ordinal);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var stored = await conn.QueryAsync<string>(new CommandDefinition(
            "select idempotency_key from events where user_id = @userId and idempotency_key = any(@keys)",
            new { userId, keys = idempotencyKeys.ToArray() }, cancellationToken: ct));
        return stored.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The insert inside a caller's transaction; returns the events that were new (not repeats of stored keys).</summary>
    public static async Task<IReadOnlyList<NewEvent>> AppendAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<NewEvent> events, CancellationToken ct)
    {
        // Sorted so concurrent batches touching the same users take index locks in the same order.
        var rows = events.OrderBy(e => e.UserId).ThenBy(e => e.IdempotencyKey, StringComparer.Ordinal).ToArray();
        var inserted = await conn.QueryAsync<(long UserId, string Key)>(new CommandDefinition("""
            insert into events (user_id, item_id, kind, value, occurred_at, idempotency_key)
            select * from unnest(@users, @items, @kinds, @values, @times, @keys)
            on conflict (user_id, idempotency_key) do nothing
            returning user_id, idempotency_key
            """, new
        {
            users = rows.Select(e => e.UserId).ToArray(),
            items = rows.Select(e => e.ItemId).ToArray(),
            kinds = rows.Select(e => e.Kind.ToName()).ToArray(),
            values = rows.Select(e => e.Value).ToArray(),
            times = rows.Select(e => e.OccurredAt.UtcDateTime).ToArray(),
            keys = rows.Select(e => e.IdempotencyKey).ToArray(),
        }, tx, cancellationToken: ct));
        var fresh = inserted.ToHashSet();
        // A batch may repeat a key itself; only its first occurrence counts.
        return [.. events.Where(e => fresh.Remove((e.UserId, e.IdempotencyKey)))];
    }

    /// <summary>Positions of the events not recorded whose key holds a different event (the one stored, or recorded earlier in this batch).</summary>
    private static async Task<List<int>> ConflictsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<NewEvent> events, IReadOnlyList<NewEvent> recorded, CancellationToken ct)
    {
        var fresh = recorded.ToHashSet(ReferenceEqualityComparer.Instance);
        var repeats = events.Select((e, i) => (e, i)).Where(p => !fresh.Contains(p.e)).ToList();
        var stored = (await conn.QueryAsync<(long UserId, string Key, long ItemId, string Kind, float? Value)>(new CommandDefinition("""
            select e.user_id, e.idempotency_key, e.item_id, e.kind, e.value
            from events e join (select distinct * from unnest(@users, @keys) as k(user_id, idempotency_key)) k using (user_id, idempotency_key)
            """, new { users = repeats.Select(p => p.e.UserId).ToArray(), keys = repeats.Select(p => p.e.IdempotencyKey).ToArray() }, tx, cancellationToken: ct)))
            .ToDictionary(r => (r.UserId, r.Key));
        return [.. repeats.Where(p => stored.TryGetValue((p.e.UserId, p.e.IdempotencyKey), out var s)
            && (s.ItemId != p.e.ItemId || s.Kind != p.e.Kind.ToName() || s.Value != p.e.Value)).Select(p => p.i)];
    }

    /// <summary>A user's most recent <paramref name="limit"/> events, returned oldest first (the order the ranking expects).</summary>
    public async Task<IReadOnlyList<Interaction>> HistoryAsync(long userId, int limit, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<HistoryRow>(new CommandDefinition(
            string.Format(CultureInfo.InvariantCulture, HistorySql, "@userId"), new { userId, limit }, cancellationToken: ct));
        return ToHistory(userId, rows);
    }

    /// <summary>Every event of these people before <paramref name="before"/>, oldest first: what an audit of their lists reads.</summary>
    public async Task<IReadOnlyList<Interaction>> OfPeopleBeforeAsync(IReadOnlyCollection<long> userIds, DateTimeOffset before, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(long UserId, long ItemId, string Kind, float? Value, DateTime At)>(new CommandDefinition("""
            select user_id, item_id, kind, value, occurred_at from events
            where user_id = any(@users) and occurred_at < @before
            order by occurred_at
            """, new { users = userIds.ToArray(), before = before.UtcDateTime }, cancellationToken: ct));
        var events = new List<Interaction>();
        foreach (var r in rows)
        {
            if (EventKinds.TryParse(r.Kind, out var kind))
                events.Add(new Interaction(r.UserId, r.ItemId, kind, r.Value, new DateTimeOffset(r.At, TimeSpan.Zero)));
        }
        return events;
    }

    /// <summary>How many people have any event: the population behind popularity counts.</summary>
    public async Task<long> CountPeopleAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition("select count(distinct user_id) from events", cancellationToken: ct));
    }

    /// <summary>The newest <c>@limit</c> events of the user whose id is the SQL expression <c>{0}</c>.</summary>
    internal const string HistorySql = """
        select item_id, kind, value, occurred_at from events
        where user_id = {0} order by occurred_at desc, id desc limit @limit
        """;

    internal static List<Interaction> ToHistory(long userId, IEnumerable<HistoryRow> newestFirst)
    {
        var history = new List<Interaction>();
        foreach (var r in newestFirst.Reverse())
        {
            if (EventKinds.TryParse(r.Kind, out var kind))
                history.Add(new Interaction(userId, r.ItemId, kind, r.Value, new DateTimeOffset(r.OccurredAt, TimeSpan.Zero)));
        }
        return history;
    }

    internal sealed record HistoryRow(long ItemId, string Kind, float? Value, DateTime OccurredAt);

    /// <summary>What is not consuming an item: having it shown, and saying "not interested".</summary>
    private static readonly string[] NotConsumed = [EventKind.Impression.ToName(), EventKind.NotInterested.ToName()];

    /// <summary>
    /// Distinct topics of what each person consumed (anything but <see cref="NotConsumed"/>) per time bucket of
    /// <paramref name="width"/> aligned on <paramref name="origin"/>, in [<paramref name="from"/>, <paramref name="to"/>),
    /// split by the goal of the latest list served to them at or before each consumption (null before their first list).
    /// </summary>
    public async Task<IReadOnlyList<ConsumedTopics>> TopicsConsumedAsync(TimeSpan width, DateTimeOffset origin, DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        // One index probe (served_lists_user_time) per consumption finds the list it followed.
        var rows = await conn.QueryAsync<(long UserId, DateTime Bucket, string? ObjectiveId, int[] Topics)>(new CommandDefinition("""
            select e.user_id, date_bin(@width, e.occurred_at, @origin), served.objective_id, array_agg(distinct it.topic_id)
            from events e
            left join lateral (
                select s.objective_id from served_lists s
                where s.user_id = e.user_id and s.created_at <= e.occurred_at
                order by s.created_at desc limit 1) served on true
            join item_topics it on it.item_id = e.item_id
            where e.occurred_at >= @from and e.occurred_at < @to and e.kind <> all(@NotConsumed)
            group by 1, 2, 3
            """, new { width, origin = origin.UtcDateTime, from = from.UtcDateTime, to = to.UtcDateTime, NotConsumed }, cancellationToken: ct));
        return [.. rows.Select(r => new ConsumedTopics(r.UserId, r.Bucket, r.Topics, r.ObjectiveId))];
    }

    /// <summary>
    /// Every consumption (anything but <see cref="NotConsumed"/>) in time order, by item and by reader: what the catalog's
    /// popularity counts and what a reader had read, each as of any moment.
    /// </summary>
    public async Task<Consumptions> ConsumptionsAsync(CancellationToken ct = default)
    {
        var byItem = new Dictionary<long, List<long>>();
        var byReader = new Dictionary<long, List<Consumption>>();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        // The kind names come from code, not input; COPY takes no parameters.
        await using (var reader = await conn.BeginBinaryExportAsync($"""
            copy (select user_id, item_id, occurred_at from events where kind not in ({string.Join(", ", NotConsumed.Select(k => $"'{k}'"))})
                  order by occurred_at) to stdout (format binary)
            """, ct))
        {
            while (await reader.StartRowAsync(ct) != -1)
            {
                var user = await reader.ReadAsync<long>(NpgsqlDbType.Bigint, ct);
                var item = await reader.ReadAsync<long>(NpgsqlDbType.Bigint, ct);
                var at = (await reader.ReadAsync<DateTime>(NpgsqlDbType.TimestampTz, ct)).Ticks;
                (byItem.TryGetValue(item, out var times) ? times : byItem[item] = []).Add(at);
                (byReader.TryGetValue(user, out var read) ? read : byReader[user] = []).Add(new Consumption(item, at));
            }
        }
        return new Consumptions(byItem.ToDictionary(p => p.Key, p => p.Value.ToArray()), byReader.ToDictionary(p => p.Key, p => p.Value.ToArray()));
    }

    /// <summary>Every rating event with a value, read with binary COPY.</summary>
    public async Task<RatingColumns> ReadRatingsAsync(CancellationToken ct = default)
    {
        var users = new List<long>();
        var items = new List<long>();
        var values = new List<float>();
        var times = new List<long>();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var reader = await conn.BeginBinaryExportAsync("""
            copy (select user_id, item_id, value, extract(epoch from occurred_at)::bigint
                  from events where kind = 'rating' and value is not null) to stdout (format binary)
            """, ct);
        while (await reader.StartRowAsync(ct) != -1)
        {
            users.Add(await reader.ReadAsync<long>(NpgsqlDbType.Bigint, ct));
            items.Add(await reader.ReadAsync<long>(NpgsqlDbType.Bigint, ct));
            values.Add(await reader.ReadAsync<float>(NpgsqlDbType.Real, ct));
            times.Add(await reader.ReadAsync<long>(NpgsqlDbType.Bigint, ct));
        }
        return new RatingColumns([.. users], [.. items], [.. values], [.. times]);
    }

    /// <summary>Every event of the given kinds (time in Unix seconds), read with binary COPY: activity as implicit feedback.</summary>
    public async Task<List<(long UserId, long ItemId, EventKind Kind, long UnixSeconds)>> ReadActivityAsync(IEnumerable<EventKind> kinds, CancellationToken ct = default)
    {
        var rows = new List<(long, long, EventKind, long)>();
        // The kind names come from the enum, not input; COPY takes no parameters.
        var names = string.Join(", ", kinds.Select(k => $"'{k.ToName()}'"));
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var reader = await conn.BeginBinaryExportAsync($"""
            copy (select user_id, item_id, kind, extract(epoch from occurred_at)::bigint
                  from events where kind in ({names})) to stdout (format binary)
            """, ct);
        while (await reader.StartRowAsync(ct) != -1)
        {
            var user = await reader.ReadAsync<long>(NpgsqlDbType.Bigint, ct);
            var item = await reader.ReadAsync<long>(NpgsqlDbType.Bigint, ct);
            var kind = await reader.ReadAsync<string>(NpgsqlDbType.Text, ct);
            var at = await reader.ReadAsync<long>(NpgsqlDbType.Bigint, ct);
            if (EventKinds.TryParse(kind, out var k))
                rows.Add((user, item, k, at));
        }
        return rows;
    }
}
