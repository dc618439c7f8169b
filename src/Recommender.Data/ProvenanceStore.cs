using Dapper;
using Npgsql;
using Recommender.Core;

namespace Recommender.Data;

/// <summary>
/// A publisher key as admins see it: whose it is, its fingerprint, when it was registered, retired or revoked (and by
/// whom, why), and how many items it verifies now.
/// </summary>
public sealed record PublisherKeyInfo(long Id, string SourceId, string SourceName, string KeyId, DateTime CreatedAt, DateTime? RetiredAt,
    DateTime? RevokedAt, string? RevokedBy, string? RevokedReason, long VerifiedItems);

/// <summary>Items per provenance state, for the admin pages.</summary>
public sealed record ProvenanceCounts(long Verified, long Unsigned, long Invalid);

/// <summary>Publisher keys: listing and revocation. Keys are registered by imports and the platform API (see CatalogImporter).</summary>
public sealed class ProvenanceStore(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyList<PublisherKeyInfo>> ListKeysAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<KeyRow>(new CommandDefinition("""
            select k.id, s.external_id as source_id, s.name as source_name, k.key_id, k.created_at, k.retired_at, k.revoked_at, k.revoked_by, k.revoked_reason,
                   (select count(*) from items i where i.signed_by_key_id = k.id and i.provenance = 'verified') as verified_items
            from source_keys k join sources s on s.id = k.source_id
            order by s.name, k.created_at desc, k.id
            """, cancellationToken: ct));
        return [.. rows.Select(r => new PublisherKeyInfo(r.Id, r.SourceId, r.SourceName, r.KeyId, r.CreatedAt, r.RetiredAt, r.RevokedAt, r.RevokedBy, r.RevokedReason, r.VerifiedItems))];
    }

    // Dapper matches constructors by the reader's exact types, which are never nullable, so nullable columns go through properties.
    private sealed class KeyRow
    {
        public long Id { get; init; }
        public string SourceId { get; init; } = "";
        public string SourceName { get; init; } = "";
        public string KeyId { get; init; } = "";
        public DateTime CreatedAt { get; init; }
        public DateTime? RetiredAt { get; init; }
        public DateTime? RevokedAt { get; init; }
        public string? RevokedBy { get; init; }
        public string? RevokedReason { get; init; }
        public long VerifiedItems { get; init; }
    }

    public async Task<ProvenanceCounts> CountAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<ProvenanceCounts>(new CommandDefinition("""
            select count(*) filter (where provenance = 'verified') as verified, count(*) filter (where provenance = 'unsigned') as unsigned,
                   count(*) filter (where provenance = 'invalid') as invalid
            from items
            """, cancellationToken: ct));
    }

    /// <summary>
    /// Revokes a key: every item it verified becomes invalid, with the reason kept on the item, in one transaction, and
    /// serving processes reload the catalog. Returns the items that lost their verification, or null when there is no
    /// such key or it was already revoked.
    /// </summary>
    public async Task<long?> RevokeAsync(string keyId, string revokedBy, string? reason, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var revoked = await conn.QuerySingleOrDefaultAsync<(long Id, DateTime At)?>(new CommandDefinition("""
            update source_keys set revoked_at = now(), revoked_by = @revokedBy, revoked_reason = @reason
            where key_id = @keyId and revoked_at is null
            returning id, revoked_at
            """, new { keyId, revokedBy, reason = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim() }, tx, cancellationToken: ct));
        if (revoked is not { } key)
            return null;
        var itemReason = PublisherKeys.RevokedReason(keyId, new DateTimeOffset(DateTime.SpecifyKind(key.At, DateTimeKind.Utc)), reason);
        var items = await conn.ExecuteAsync(new CommandDefinition("""
            update items set provenance = 'invalid', provenance_reason = @itemReason
            where signed_by_key_id = @id and provenance = 'verified';
            """, new { id = key.Id, itemReason }, tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition("select pg_notify(@channel, '')", new { channel = CatalogStore.ChangeChannel }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return items;
    }
}
