using Dapper;
using Npgsql;
using NpgsqlTypes;
using Recommender.Core;

namespace Recommender.Data.Import;

/// <summary>
/// The import's part in provenance: registers the keys sources bring and checks every item's signature against its
/// source's keys, inside the import's transaction. The platform API and file imports both pass here, so they agree.
/// </summary>
internal static class ProvenanceImport
{
    /// <summary>Stages the batch's keys; run with the other staging copies.</summary>
    public static async Task StageKeysAsync(NpgsqlConnection conn, ImportBatch batch, CancellationToken ct)
    {
        await conn.ExecuteAsync(new CommandDefinition("""
            create temp table stg_source_keys (line bigint, source_external_id text, key_id text, public_key bytea) on commit drop;
            create temp table stg_provenance (item_external_id text, signature bytea, provenance text, key_id bigint, reason text) on commit drop;
            """, cancellationToken: ct));
        var keyed = batch.Sources.Select(s => (Source: s, Key: PublisherKeys.ParsePublicKey(s.PublicKey))).Where(s => s.Key is not null);
        await BinaryCopy.WriteAsync(conn, "copy stg_source_keys (line, source_external_id, key_id, public_key) from stdin (format binary)", keyed, (w, s) =>
        {
            w.Write(s.Source.Line, NpgsqlDbType.Bigint);
            w.Write(s.Source.ExternalId, NpgsqlDbType.Text);
            w.Write(PublisherKeys.KeyId(s.Key!), NpgsqlDbType.Text);
            w.Write(s.Key!, NpgsqlDbType.Bytea);
        }, ct);
    }

    /// <summary>
    /// Registers new keys once their sources exist. A key sent again un-retires it (the publisher says it is current);
    /// every other unrevoked key of that source is retired now. A key another source registered fails at its line.
    /// </summary>
    public static async Task MergeKeysAsync(NpgsqlConnection conn, NpgsqlTransaction tx, ImportBatch batch, CancellationToken ct)
    {
        var taken = await conn.QueryFirstOrDefaultAsync<(long Line, string KeyId, string Owner)?>(new CommandDefinition("""
            select s.line, k.key_id, src.external_id from stg_source_keys s
            join source_keys k on k.public_key = s.public_key join sources src on src.id = k.source_id
            where src.external_id <> s.source_external_id
            order by s.line limit 1
            """, transaction: tx, cancellationToken: ct));
        if (taken is { } t)
            throw new ImportException(batch.SourcesFile, t.Line, $"public_key {t.KeyId} is already registered for source '{t.Owner}'");
        await conn.ExecuteAsync(new CommandDefinition("""
            insert into source_keys (source_id, key_id, public_key)
            select src.id, s.key_id, s.public_key from stg_source_keys s join sources src on src.external_id = s.source_external_id
            order by s.line
            on conflict (public_key) do update set retired_at = null where source_keys.retired_at is not null;
            update source_keys k set retired_at = now()
            from stg_source_keys s join sources src on src.external_id = s.source_external_id
            where k.source_id = src.id and k.public_key <> s.public_key and k.retired_at is null and k.revoked_at is null;
            """, transaction: tx, cancellationToken: ct));
    }

    // Dapper matches constructors by the reader's exact types, which are never nullable, so nullable columns go through properties.
    private sealed class KeyRow
    {
        public string SourceExternalId { get; init; } = "";
        public long Id { get; init; }
        public string KeyId { get; init; } = "";
        public byte[] PublicKey { get; init; } = [];
        public DateTime? RetiredAt { get; init; }
        public DateTime? RevokedAt { get; init; }
        public string? RevokedReason { get; init; }
    }

    /// <summary>Checks each item of the batch against its source's keys (as registered after this batch's) and stages the outcome.</summary>
    public static async Task VerifyAsync(NpgsqlConnection conn, NpgsqlTransaction tx, ImportBatch batch, CancellationToken ct)
    {
        if (batch.Items.Count == 0)
            return;
        var sources = batch.Items.Where(i => i.Signature is not null && i.SourceExternalId is not null).Select(i => i.SourceExternalId!).Distinct().ToArray();
        var keys = (await conn.QueryAsync<KeyRow>(new CommandDefinition("""
            select src.external_id as source_external_id, k.id, k.key_id, k.public_key, k.retired_at, k.revoked_at, k.revoked_reason
            from source_keys k join sources src on src.id = k.source_id
            where src.external_id = any(@sources)
            order by k.id
            """, new { sources }, tx, cancellationToken: ct)))
            .ToLookup(k => k.SourceExternalId, k => new RegisteredKey(k.Id, k.KeyId, k.PublicKey, Utc(k.RetiredAt), Utc(k.RevokedAt), k.RevokedReason), StringComparer.Ordinal);

        await BinaryCopy.WriteAsync(conn, "copy stg_provenance (item_external_id, signature, provenance, key_id, reason) from stdin (format binary)", batch.Items, (w, item) =>
        {
            var signature = PublisherKeys.ParseSignature(item.Signature);
            var check = PublisherKeys.Check(item.SignedContent(), signature, item.SourceExternalId is { } s ? [.. keys[s]] : []);
            w.Write(item.ExternalId, NpgsqlDbType.Text);
            w.WriteOrNull(signature, NpgsqlDbType.Bytea);
            w.Write(check.State, NpgsqlDbType.Text);
            w.WriteOrNull(check.Key?.Id, NpgsqlDbType.Bigint);
            w.WriteOrNull(check.Reason, NpgsqlDbType.Text);
        }, ct);
    }

    /// <summary>Stores the outcomes on the merged items, answering those whose outcome changed; an item sent again without a signature becomes unsigned.</summary>
    public const string StoreSql = """
        update items i set signature = p.signature, provenance = p.provenance, signed_by_key_id = p.key_id, provenance_reason = p.reason
        from stg_provenance p
        where i.external_id = p.item_external_id
          and (i.signature, i.provenance, i.signed_by_key_id, i.provenance_reason) is distinct from (p.signature, p.provenance, p.key_id, p.reason)
        returning i.id
        """;

    private static DateTimeOffset? Utc(DateTime? at) => at is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;
}
