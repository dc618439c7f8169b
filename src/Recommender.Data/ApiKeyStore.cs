using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;

namespace Recommender.Data;

/// <summary>A platform's API key as listed (never the key itself).</summary>
public sealed record ApiKeyInfo(long Id, string Name, string Prefix, string[] Scopes, DateTime CreatedAt, DateTime? RevokedAt);

/// <summary>API keys for platforms: random, shown once, stored as SHA-256, scoped and revocable.</summary>
public sealed class ApiKeyStore(NpgsqlDataSource dataSource)
{
    /// <summary>The scopes a key may hold.</summary>
    public static readonly IReadOnlyList<string> Scopes = ["catalog", "events", "feeds"];

    /// <summary>Creates a key and returns it in clear, the only time it exists outside the caller.</summary>
    public async Task<(ApiKeyInfo Info, string Key)> CreateAsync(string name, IReadOnlyList<string> scopes, CancellationToken ct = default)
    {
        var key = "rk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var info = await conn.QuerySingleAsync<ApiKeyRow>(new CommandDefinition("""
            insert into api_keys (name, prefix, key_hash, scopes) values (@name, @prefix, @hash, @scopes)
            returning id, name, prefix, scopes, created_at, revoked_at
            """, new { name, prefix = key[..10], hash = Hash(key), scopes = scopes.Distinct().ToArray() }, cancellationToken: ct));
        return (info.ToInfo(), key);
    }

    /// <summary>The key's record when it exists and is not revoked.</summary>
    public async Task<ApiKeyInfo?> FindAsync(string key, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<ApiKeyRow>(new CommandDefinition(
            "select id, name, prefix, scopes, created_at, revoked_at from api_keys where key_hash = @hash and revoked_at is null",
            new { hash = Hash(key) }, cancellationToken: ct));
        return row?.ToInfo();
    }

    public async Task<IReadOnlyList<ApiKeyInfo>> ListAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<ApiKeyRow>(new CommandDefinition(
            "select id, name, prefix, scopes, created_at, revoked_at from api_keys order by id", cancellationToken: ct));
        return [.. rows.Select(r => r.ToInfo())];
    }

    public async Task<bool> RevokeAsync(long id, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition(
            "update api_keys set revoked_at = now() where id = @id and revoked_at is null", new { id }, cancellationToken: ct)) == 1;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    // Dapper reports text[] as System.Array, so arrays come through a property-based row.
    private sealed class ApiKeyRow
    {
        public long Id { get; init; }
        public string Name { get; init; } = "";
        public string Prefix { get; init; } = "";
        public string[] Scopes { get; init; } = [];
        public DateTime CreatedAt { get; init; }
        public DateTime? RevokedAt { get; init; }

        public ApiKeyInfo ToInfo() => new(Id, Name, Prefix, Scopes, CreatedAt, RevokedAt);
    }
}
