using Dapper;
using Npgsql;
using NpgsqlTypes;
using Recommender.Core;

namespace Recommender.Data;

/// <summary>One served list on its way to the audit log.</summary>
/// <param name="RequestId">The id the feed response carried.</param>
/// <param name="UserId">Our id of the person; 0 while only <paramref name="ExternalUserId"/> is known.</param>
/// <param name="List">What was served.</param>
/// <param name="ExternalUserId">The platform's id of the person, for a list served while the database could not map it to ours.</param>
public sealed record AuditRecord(Guid RequestId, long UserId, ServedList List, string? ExternalUserId = null);

/// <summary>A stored served list, as audit queries return it; <see cref="ReadItems"/> gives its items with rank, score, components and reasons.</summary>
public sealed record ServedListRow(
    long Id,
    Guid RequestId,
    long UserId,
    string ObjectiveId,
    string ObjectiveVersion,
    string ParametersHash,
    string ParametersJson,
    int Seed,
    string ModelVersion,
    int CandidatesConsidered,
    string ItemsJson,
    DateTime CreatedAt,
    string? RerankerVersion = null)
{
    /// <summary>The items as they were served (see <see cref="AuditRecordJson"/>).</summary>
    public IReadOnlyList<ServedItem> ReadItems() => AuditRecordJson.ReadItems(ItemsJson);
}

/// <summary>A served list as a research export reads it: whose, under which goal, when, and its items.</summary>
public sealed record WindowedList(long UserId, string ObjectiveId, DateTime CreatedAt, string ItemsJson)
{
    /// <summary>The items as they were served (see <see cref="AuditRecordJson"/>).</summary>
    public IReadOnlyList<ServedItem> ReadItems() => AuditRecordJson.ReadItems(ItemsJson);
}

/// <summary>A list served with another goal or other settings than the list before it: from <see cref="At"/> until the next change, the person's lists were ranked with these.</summary>
public sealed record ServedGoal(long UserId, DateTime At, string ObjectiveId, string ParametersJson);

/// <summary>One item of a served list and the strongest gain that followed it (0 when nothing did).</summary>
public sealed record ServedItemOutcome(long ListId, long UserId, DateTime CreatedAt, long ItemId, int Rank, int Gain);

/// <summary>Filter for audit queries; every part is optional. Times are inclusive-exclusive.</summary>
public sealed record ServedListFilter(long? UserId = null, string? ObjectiveId = null, DateTimeOffset? From = null, DateTimeOffset? To = null, int Limit = 50, long? BeforeId = null);

/// <summary>The audit log of every list served: written in batches with binary COPY, read by people (their own) and auditors.</summary>
public sealed class ServedListStore(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Stores the records. Safe to repeat: a record whose request id is already stored for its person is skipped, and
    /// so is one whose person has since been deleted (their data goes with them).
    /// </summary>
    public async Task WriteAsync(IReadOnlyList<AuditRecord> records, CancellationToken ct = default)
    {
        if (records.Count == 0)
            return;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            // The common case, straight in: one COPY, all or nothing.
            await CopyAsync(conn, "served_lists", records, ct);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.ForeignKeyViolation)
        {
            // A replay after a crash repeats records already stored, or names someone deleted meanwhile: through a
            // staging table, keeping only what is new and whose person exists.
            await using var tx = await conn.BeginTransactionAsync(ct);
            await conn.ExecuteAsync(new CommandDefinition(
                $"create temp table if not exists incoming_served_lists on commit delete rows as select {Columns} from served_lists with no data",
                transaction: tx, cancellationToken: ct));
            await CopyAsync(conn, "incoming_served_lists", records, ct);
            await conn.ExecuteAsync(new CommandDefinition($"""
                insert into served_lists ({Columns})
                select {Columns} from incoming_served_lists i
                where exists (select from users u where u.id = i.user_id)
                on conflict (user_id, request_id) do nothing
                """, transaction: tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
        }
    }

    private const string Columns = """
        user_id, request_id, objective_id, objective_version, parameters_hash, parameters, seed, model_version,
        candidates_considered, items, created_at, reranker_version
        """;

    private static async Task CopyAsync(NpgsqlConnection conn, string table, IReadOnlyList<AuditRecord> records, CancellationToken ct)
    {
        await using var writer = await conn.BeginBinaryImportAsync($"copy {table} ({Columns}) from stdin (format binary)", ct);
        foreach (var r in records)
        {
            var list = r.List;
            await writer.StartRowAsync(ct);
            await writer.WriteAsync(r.UserId, NpgsqlDbType.Bigint, ct);
            await writer.WriteAsync(r.RequestId, NpgsqlDbType.Uuid, ct);
            await writer.WriteAsync(list.ObjectiveId, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(list.ObjectiveVersion, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(list.ParameterHash, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(list.ParametersJson, NpgsqlDbType.Jsonb, ct);
            await writer.WriteAsync(list.Seed, NpgsqlDbType.Integer, ct);
            await writer.WriteAsync(list.ModelVersion, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(list.CandidatesConsidered, NpgsqlDbType.Integer, ct);
            await writer.WriteAsync(AuditRecordJson.WriteItems(list.Items), NpgsqlDbType.Json, ct);
            await writer.WriteAsync(list.ServedAt.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
            if (list.RerankerVersion is { } reranker)
                await writer.WriteAsync(reranker, NpgsqlDbType.Text, ct);
            else
                await writer.WriteNullAsync(ct);
        }
        await writer.CompleteAsync(ct);
    }

    /// <summary>Newest first; page with <see cref="ServedListFilter.BeforeId"/>.</summary>
    public async Task<IReadOnlyList<ServedListRow>> QueryAsync(ServedListFilter filter, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<ServedListRow>(new CommandDefinition("""
            select id, request_id, user_id, objective_id, objective_version, parameters_hash, parameters::text as parameters_json, seed,
                   model_version, candidates_considered, items::text as items_json, created_at, reranker_version
            from served_lists
            where (@UserId::bigint is null or user_id = @UserId)
              and (@ObjectiveId::text is null or objective_id = @ObjectiveId)
              and (@From::timestamptz is null or created_at >= @From)
              and (@To::timestamptz is null or created_at < @To)
              and (@BeforeId::bigint is null or id < @BeforeId)
            order by id desc
            limit @Limit
            """, new { filter.UserId, filter.ObjectiveId, From = filter.From?.UtcDateTime, To = filter.To?.UtcDateTime, filter.BeforeId, filter.Limit },
            cancellationToken: ct));
        return rows.AsList();
    }

    public async Task<ServedListRow?> GetAsync(Guid requestId, long? userId = null, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<ServedListRow>(new CommandDefinition("""
            select id, request_id, user_id, objective_id, objective_version, parameters_hash, parameters::text as parameters_json, seed,
                   model_version, candidates_considered, items::text as items_json, created_at, reranker_version
            from served_lists where request_id = @requestId and (@userId::bigint is null or user_id = @userId)
            """, new { requestId, userId }, cancellationToken: ct));
    }

    /// <summary>
    /// The goal and settings each of <paramref name="userIds"/> was served with before <paramref name="before"/>, as
    /// changes by person and in time: the lists whose goal or settings differ from that person's list before. The goal
    /// in force at any moment is the latest change at or before it. One query however many people; a person who never
    /// changed settings returns one row.
    /// </summary>
    public async Task<IReadOnlyList<ServedGoal>> GoalChangesAsync(IReadOnlyCollection<long> userIds, DateTimeOffset before, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return [.. await conn.QueryAsync<ServedGoal>(new CommandDefinition("""
            select user_id, created_at as at, objective_id, parameters::text as parameters_json from (
                select id, user_id, created_at, objective_id, parameters,
                       lag(objective_id) over w as previous_objective, lag(parameters) over w as previous_parameters
                from served_lists where user_id = any(@ids) and created_at < @before
                window w as (partition by user_id order by created_at, id)) lists
            where previous_objective is distinct from objective_id or previous_parameters is distinct from parameters
            order by user_id, created_at, id
            """, new { ids = userIds.ToArray(), before = before.UtcDateTime }, cancellationToken: ct))];
    }

    /// <summary>Every list served in [<paramref name="from"/>, <paramref name="to"/>), by person and then in order served: what a research export releases.</summary>
    public async Task<IReadOnlyList<WindowedList>> InWindowAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return [.. await conn.QueryAsync<WindowedList>(new CommandDefinition("""
            select user_id, objective_id, created_at, items::text as items_json from served_lists
            where created_at >= @from and created_at < @to order by user_id, id
            """, new { from = from.UtcDateTime, to = to.UtcDateTime }, commandTimeout: 0, cancellationToken: ct))];
    }

    /// <summary>The newest <paramref name="limit"/> lists one objective served in [<paramref name="from"/>, <paramref name="to"/>), newest first.</summary>
    public async Task<IReadOnlyList<WindowedList>> NewestOfObjectiveAsync(string objectiveId, DateTimeOffset from, DateTimeOffset to, int limit, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return [.. await conn.QueryAsync<WindowedList>(new CommandDefinition("""
            select user_id, objective_id, created_at, items::text as items_json from served_lists
            where objective_id = @objectiveId and created_at >= @from and created_at < @to
            order by created_at desc limit @limit
            """, new { objectiveId, from = from.UtcDateTime, to = to.UtcDateTime, limit }, cancellationToken: ct))];
    }

    /// <summary>
    /// The newest <paramref name="perBucket"/> lists one objective served in each time bucket of <paramref name="width"/>
    /// (aligned on <paramref name="origin"/>) in [<paramref name="from"/>, <paramref name="to"/>).
    /// </summary>
    public async Task<IReadOnlyList<WindowedList>> NewestPerBucketAsync(string objectiveId, TimeSpan width, DateTimeOffset origin, DateTimeOffset from, DateTimeOffset to,
        int perBucket, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return [.. await conn.QueryAsync<WindowedList>(new CommandDefinition("""
            select user_id, objective_id, created_at, items::text as items_json from (
                select user_id, objective_id, created_at, items,
                       row_number() over (partition by date_bin(@width, created_at, @origin) order by created_at desc) as nth
                from served_lists
                where objective_id = @objectiveId and created_at >= @from and created_at < @to) sampled
            where nth <= @perBucket
            """, new { objectiveId, width, origin = origin.UtcDateTime, from = from.UtcDateTime, to = to.UtcDateTime, perBucket }, cancellationToken: ct))];
    }

    /// <summary>Whether any list was served under this objective id (the objective and time index answers it).</summary>
    public async Task<bool> AnyOfObjectiveAsync(string objectiveId, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from served_lists where objective_id = @objectiveId)", new { objectiveId }, cancellationToken: ct));
    }

    public async Task<long> CountAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from served_lists", cancellationToken: ct));
    }

    /// <summary>
    /// Every served item with the strongest <paramref name="gains"/> of the person's events on it after the list was
    /// served, within <paramref name="window"/> and before their next list (which takes the credit from then on);
    /// kinds without a gain count 0. Oldest list first, items by rank: what the re-ranker learns from.
    /// </summary>
    public async Task<IReadOnlyList<ServedItemOutcome>> OutcomesAsync(IReadOnlyDictionary<EventKind, int> gains, TimeSpan window, CancellationToken ct = default)
    {
        var pairs = gains.ToArray();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<ServedItemOutcome>(new CommandDefinition("""
            with lists as (
                select id, user_id, created_at, items,
                       least(created_at + @window, lead(created_at) over (partition by user_id order by created_at, id)) as until
                from served_lists
            ),
            gains as (select * from unnest(@kinds::text[], @values::int[]) as g(kind, gain))
            select s.id as list_id, s.user_id, s.created_at, (e.value->>'item_id')::bigint as item_id, (e.value->>'rank')::int as rank,
                   coalesce((select max(coalesce(g.gain, 0))
                             from events ev left join gains g on g.kind = ev.kind
                             where ev.user_id = s.user_id and ev.item_id = (e.value->>'item_id')::bigint
                               and ev.occurred_at >= s.created_at and ev.occurred_at < coalesce(s.until, s.created_at + @window)), 0) as gain
            from lists s
            cross join lateral json_array_elements(s.items) e
            order by s.created_at, s.id, 5
            """, new { window, kinds = pairs.Select(p => p.Key.ToName()).ToArray(), values = pairs.Select(p => p.Value).ToArray() }, cancellationToken: ct));
        return rows.AsList();
    }
}
