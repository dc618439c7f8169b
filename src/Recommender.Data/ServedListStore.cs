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

/// <summary>A stored served list, as audit queries return it; <see cref="ItemsJson"/> holds rank, item, score, components and reasons.</summary>
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
    DateTime CreatedAt);

/// <summary>Filter for audit queries; every part is optional. Times are inclusive-exclusive.</summary>
public sealed record ServedListFilter(long? UserId = null, string? ObjectiveId = null, DateTimeOffset? From = null, DateTimeOffset? To = null, int Limit = 50, long? BeforeId = null);

/// <summary>The audit log of every list served: written in batches with binary COPY, read by people (their own) and auditors.</summary>
public sealed class ServedListStore(NpgsqlDataSource dataSource)
{
    public async Task WriteAsync(IReadOnlyList<AuditRecord> records, CancellationToken ct = default)
    {
        if (records.Count == 0)
            return;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var writer = await conn.BeginBinaryImportAsync("""
            copy served_lists (user_id, request_id, objective_id, objective_version, parameters_hash, parameters, seed,
                               model_version, candidates_considered, items, created_at) from stdin (format binary)
            """, ct);
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
            await writer.WriteAsync(list.ItemsJson(), NpgsqlDbType.Json, ct);
            await writer.WriteAsync(list.ServedAt.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
        }
        await writer.CompleteAsync(ct);
    }

    /// <summary>Newest first; page with <see cref="ServedListFilter.BeforeId"/>.</summary>
    public async Task<IReadOnlyList<ServedListRow>> QueryAsync(ServedListFilter filter, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<ServedListRow>(new CommandDefinition("""
            select id, request_id, user_id, objective_id, objective_version, parameters_hash, parameters::text as parameters_json, seed,
                   model_version, candidates_considered, items::text as items_json, created_at
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
                   model_version, candidates_considered, items::text as items_json, created_at
            from served_lists where request_id = @requestId and (@userId::bigint is null or user_id = @userId)
            """, new { requestId, userId }, cancellationToken: ct));
    }

    /// <summary>Which of <paramref name="userIds"/> still exist.</summary>
    public async Task<IReadOnlySet<long>> ExistingUsersAsync(long[] userIds, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<long>(new CommandDefinition("select id from users where id = any(@userIds)", new { userIds }, cancellationToken: ct))).ToHashSet();
    }

    public async Task<long> CountAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from served_lists", cancellationToken: ct));
    }

}
