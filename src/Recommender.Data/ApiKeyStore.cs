using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;

namespace Recommender.Data;

/// <summary>
/// A platform's API key as listed (never the key itself). <see cref="LastUsedAt"/> is when a request last carried it,
/// to within <see cref="ApiKeyStore.LastUseResolution"/>; null when none has.
/// </summary>
public sealed record ApiKeyInfo(long Id, string Name, string Prefix, string[] Scopes, DateTime CreatedAt, DateTime? RevokedAt, DateTime? LastUsedAt = null);

/// <summary>API keys for platforms: random, shown once, stored as SHA-256, scoped and revocable.</summary>
public sealed class ApiKeyStore(NpgsqlDataSource dataSource, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <summary>The scopes a key may hold.</summary>
    public static readonly IReadOnlyList<string> Scopes = ["catalog", "events", "feeds"];

    /// <summary>The longest name a key may have; a key says who it is for, so one can tell keys apart and revoke the right one.</summary>
    public const int MaxNameLength = 100;

    /// <summary>
    /// What is wrong with a key about to be created, by field (<c>name</c>, <c>scopes</c>); empty when nothing is. The
    /// admin API, the CLI and the web page all ask here, so a key refused by one is refused by all.
    /// </summary>
    public static Dictionary<string, string> Problems(string? name, IReadOnlyCollection<string>? scopes)
    {
        var problems = new Dictionary<string, string>(StringComparer.Ordinal);
        // PostgreSQL text cannot hold NUL, and no one names a platform with control characters.
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Length > MaxNameLength || name.Any(char.IsControl))
            problems["name"] = $"is required, at most {MaxNameLength} characters, without control characters";
        if (scopes is not { Count: > 0 } || scopes.Any(s => !Scopes.Contains(s)))
            problems["scopes"] = $"one or more of: {string.Join(", ", Scopes)}";
        return problems;
    }

    /// <summary>Creates a key and returns it in clear, the only time it exists outside the caller.</summary>
    public async Task<(ApiKeyInfo Info, string Key)> CreateAsync(string name, IReadOnlyList<string> scopes, CancellationToken ct = default)
    {
        var key = "rk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var info = await conn.QuerySingleAsync<ApiKeyRow>(new CommandDefinition("""
            insert into api_keys (name, prefix, key_hash, scopes) values (@name, @prefix, @hash, @scopes)
            returning id, name, prefix, scopes, created_at, revoked_at, last_used_at
            """, new { name, prefix = key[..10], hash = Hash(key), scopes = scopes.Distinct().ToArray() }, cancellationToken: ct));
        return (info.ToInfo(), key);
    }

    /// <summary>Channel on which a revocation is announced, so every process forgets the keys it remembers.</summary>
    public const string RevocationChannel = "recommender_api_keys";

    /// <summary>How long a valid key is remembered without asking the database: the bound on a revocation whose notification was missed.</summary>
    public static readonly TimeSpan RememberFor = TimeSpan.FromSeconds(30);

    private const int RememberAtMost = 10_000;
    private readonly ConcurrentDictionary<string, (ApiKeyInfo Info, long Until)> _remembered = new(StringComparer.Ordinal);

    /// <summary>
    /// The key's record when it exists and is not revoked. Platforms send a key with every request, so valid keys are
    /// remembered for <see cref="RememberFor"/>; unknown ones are always checked against the database.
    /// </summary>
    public async Task<ApiKeyInfo?> FindAsync(string key, CancellationToken ct = default)
    {
        var hash = Hash(key);
        var name = Convert.ToBase64String(hash);
        var isKnown = _remembered.TryGetValue(name, out var known);
        if (isKnown && Environment.TickCount64 < known.Until)
            return known.Info;
        ApiKeyRow? row;
        try
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            row = await conn.QuerySingleOrDefaultAsync<ApiKeyRow>(new CommandDefinition(
                "select id, name, prefix, scopes, created_at, revoked_at, last_used_at from api_keys where key_hash = @hash and revoked_at is null",
                new { hash }, cancellationToken: ct));
        }
        catch (NpgsqlException e) when (isKnown && Database.IsUnavailable(e))
        {
            // No key can be revoked while the database is away, so a key valid before the outage stays valid through it
            // (and feeds keep serving); every process forgets remembered keys when its database connection comes back.
            return known.Info;
        }
        if (row is null)
        {
            _remembered.TryRemove(name, out _);
            return null;
        }
        if (_remembered.Count >= RememberAtMost)
            _remembered.Clear();
        _remembered[name] = (row.ToInfo(), Environment.TickCount64 + (long)RememberFor.TotalMilliseconds);
        return row.ToInfo();
    }

    /// <summary>
    /// How finely a key's last use is kept: platforms send a key with every request, and a write on each would add a
    /// database round trip to every one of them, so each key's use is written at most once in this long.
    /// </summary>
    public static readonly TimeSpan LastUseResolution = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<long, DateTimeOffset> _useWritten = new();

    /// <summary>
    /// Notes that key <paramref name="id"/> was used now. This process writes it at most once per
    /// <see cref="LastUseResolution"/> and key, without asking the database in between; the update's own condition
    /// keeps several processes to one write in that time too. True when this call wrote it. A use while the database
    /// is away goes unrecorded rather than failing the request.
    /// </summary>
    public async Task<bool> RecordUseAsync(long id, CancellationToken ct = default)
    {
        var now = _clock.GetUtcNow();
        // The slot is claimed before the write, so concurrent requests with one key write once, and a write that fails
        // is not tried again by every request that follows.
        while (true)
        {
            if (!_useWritten.TryGetValue(id, out var written))
            {
                if (_useWritten.TryAdd(id, now))
                    break;
            }
            else if (now - written < LastUseResolution)
            {
                return false;
            }
            else if (_useWritten.TryUpdate(id, now, written))
            {
                break;
            }
        }
        try
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            return await conn.ExecuteAsync(new CommandDefinition("""
                update api_keys set last_used_at = @now
                where id = @id and revoked_at is null and (last_used_at is null or last_used_at <= @now - @resolution)
                """, new { id, now, resolution = LastUseResolution }, cancellationToken: ct)) == 1;
        }
        catch (NpgsqlException e) when (Database.IsUnavailable(e))
        {
            return false;
        }
    }

    /// <summary>Forgets every remembered key, so the next request of each is checked again (after a revocation anywhere).</summary>
    public void ForgetRemembered() => _remembered.Clear();

    public async Task<IReadOnlyList<ApiKeyInfo>> ListAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<ApiKeyRow>(new CommandDefinition(
            "select id, name, prefix, scopes, created_at, revoked_at, last_used_at from api_keys order by id", cancellationToken: ct));
        return [.. rows.Select(r => r.ToInfo())];
    }

    /// <summary>Revokes the key and tells every process (see <see cref="RevocationChannel"/>), so it stops working at once.</summary>
    public async Task<bool> RevokeAsync(long id, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var revoked = await conn.ExecuteAsync(new CommandDefinition(
            "update api_keys set revoked_at = now() where id = @id and revoked_at is null", new { id }, cancellationToken: ct)) == 1;
        if (revoked)
        {
            await conn.ExecuteAsync(new CommandDefinition(
                "select pg_notify(@channel, @id::text)", new { channel = RevocationChannel, id }, cancellationToken: ct));
        }
        ForgetRemembered();
        return revoked;
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
        public DateTime? LastUsedAt { get; init; }

        public ApiKeyInfo ToInfo() => new(Id, Name, Prefix, Scopes, CreatedAt, RevokedAt, LastUsedAt);
    }
}
