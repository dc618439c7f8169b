using System.Security.Cryptography;
using Dapper;
using Npgsql;
using Recommender.Core.Ranking;

namespace Recommender.Data.Models;

/// <summary>A stored re-ranker without its payload, as listed to admins.</summary>
public sealed record RerankerSummary(int Version, int? ModelVersion, string Status, bool IsActive, DateTime CreatedAt, DateTime? ActivatedAt, string Metrics);

/// <summary>
/// Trained re-rankers in PostgreSQL, kept like models (<see cref="ModelStore"/>): a JSON tree ensemble with a SHA-256
/// checksum, metrics as JSON, at most one active. Activation notifies <see cref="ModelStore.ActivationChannel"/>, so
/// every service process reloads and starts (or stops) rescoring within a minute.
/// </summary>
public sealed class RerankerStore(NpgsqlDataSource dataSource)
{
    /// <summary>Records a run before it starts, so a crash leaves a visible 'training' row.</summary>
    public async Task<int> BeginAsync(int? modelVersion, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<int>(new CommandDefinition(
            "insert into rerankers (model_version) values (@modelVersion) returning version", new { modelVersion }, cancellationToken: ct));
    }

    /// <summary>Stores the trained ensemble; <paramref name="status"/> is 'ready' or 'rejected' (failed the gate).</summary>
    public async Task CompleteAsync(int version, TreeEnsemble? ensemble, string metricsJson, string status, CancellationToken ct = default)
    {
        var payload = ensemble?.ToJson();
        var checksum = payload is null ? null : Convert.ToHexStringLower(SHA256.HashData(payload));
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("""
            update rerankers set payload = @payload, payload_checksum = @checksum, metrics = @metricsJson::jsonb, status = @status
            where version = @version
            """, new { version, payload, checksum, metricsJson, status }, cancellationToken: ct));
    }

    /// <summary>Marks runs still recorded as 'training' failed; only while holding the <see cref="TrainingLock"/>.</summary>
    public async Task FailInterruptedAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(
            "update rerankers set status = 'failed', metrics = jsonb_build_object('error', 'interrupted') where status = 'training'", cancellationToken: ct));
    }

    public async Task FailAsync(int version, string reason, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(
            "update rerankers set status = 'failed', metrics = jsonb_build_object('error', @reason::text) where version = @version",
            new { version, reason }, cancellationToken: ct));
    }

    /// <summary>Makes <paramref name="version"/> the one active re-ranker and notifies listeners. False when it is not a ready one.</summary>
    public async Task<bool> ActivateAsync(int version, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var ready = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from rerankers where version = @version and status = 'ready' and payload is not null)",
            new { version }, tx, cancellationToken: ct));
        if (!ready)
            return false;
        await conn.ExecuteAsync(new CommandDefinition("""
            update rerankers set is_active = false where is_active and version <> @version;
            update rerankers set is_active = true, activated_at = now() where version = @version;
            select pg_notify(@channel, 'reranker ' || @version::text);
            """, new { version, channel = ModelStore.ActivationChannel }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return true;
    }

    /// <summary>Turns the learned second stage off: feeds fall back to MF alone.</summary>
    public async Task DeactivateAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("""
            update rerankers set is_active = false where is_active;
            select pg_notify(@channel, 'reranker off');
            """, new { channel = ModelStore.ActivationChannel }, cancellationToken: ct));
    }

    public async Task<int?> ActiveVersionAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<int?>(new CommandDefinition("select version from rerankers where is_active", cancellationToken: ct));
    }

    /// <summary>Loads the active re-ranker, null when none is; a payload that fails its checksum or does not parse throws <see cref="InvalidDataException"/>.</summary>
    public async Task<Reranker?> LoadActiveAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<(int Version, int? ModelVersion, byte[] Payload, string Checksum)?>(new CommandDefinition(
            "select version, model_version, payload, payload_checksum from rerankers where is_active", cancellationToken: ct));
        if (row is not { } r)
            return null;
        if (Convert.ToHexStringLower(SHA256.HashData(r.Payload)) != r.Checksum)
            throw new InvalidDataException($"Re-ranker {r.Version}: the stored payload does not match its checksum; it will not be used.");
        return new Reranker(r.Version, TreeEnsemble.FromJson(r.Payload)) { ModelVersion = r.ModelVersion };
    }

    public async Task<IReadOnlyList<RerankerSummary>> ListAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<RerankerSummary>(new CommandDefinition("""
            select version, model_version, status, is_active, created_at, activated_at, metrics::text as metrics
            from rerankers order by version desc
            """, cancellationToken: ct));
        return rows.AsList();
    }
}
