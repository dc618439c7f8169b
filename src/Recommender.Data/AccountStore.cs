using System.Collections.Concurrent;
using Dapper;
using Microsoft.AspNetCore.Identity;
using Npgsql;

namespace Recommender.Data;

/// <summary>A person who can sign in.</summary>
public sealed record Account(long Id, string Login, string DisplayName, string Role);

/// <summary>Accounts and passwords, hashed with ASP.NET Core's <see cref="PasswordHasher{TUser}"/> (PBKDF2, per-user salt).</summary>
public sealed class AccountStore(NpgsqlDataSource dataSource)
{
    /// <summary>Platform user ids remembered per process (about 100 bytes each); past this the memory starts afresh.</summary>
    public const int MaxRememberedUsers = 1_000_000;

    private static readonly PasswordHasher<Account> Hasher = new();
    private readonly ConcurrentDictionary<string, long> _externalIds = new(StringComparer.Ordinal);

    /// <summary>Creates the account, or resets its password, display name and role when the login exists.</summary>
    public async Task<Account> UpsertAsync(string login, string displayName, string role, string password, CancellationToken ct = default)
    {
        var probe = new Account(0, login, displayName, role);
        var hash = Hasher.HashPassword(probe, password);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<Account>(new CommandDefinition("""
            insert into users (login, display_name, role, password_hash) values (@login, @displayName, @role, @hash)
            on conflict (login) do update set display_name = excluded.display_name, role = excluded.role, password_hash = excluded.password_hash
            returning id, login, display_name, role
            """, new { login, displayName, role, hash }, cancellationToken: ct));
    }

    public async Task<Account?> GetAsync(long id, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<Account>(new CommandDefinition(
            "select id, coalesce(login, external_id, id::text) as login, display_name, role from users where id = @id", new { id }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<Account>> ListAsync(string? role, int offset, int limit, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<Account>(new CommandDefinition("""
            select id, coalesce(login, external_id, id::text) as login, display_name, role from users
            where (@role::text is null or role = @role) order by login is null, id offset @offset limit @limit
            """, new { role, offset, limit }, cancellationToken: ct));
        return rows.AsList();
    }

    /// <summary>
    /// People whose login, platform id or display name contains <paramref name="text"/> (any case): people with a
    /// login first, by name, then the platform's users in the order they arrived; everyone when the text is empty.
    /// For an admin looking someone up, not for feeds.
    /// </summary>
    public async Task<IReadOnlyList<Account>> SearchAsync(string? text, int offset, int limit, CancellationToken ct = default)
    {
        // The text is matched literally: % and _ typed by the admin are not wildcards.
        var pattern = string.IsNullOrWhiteSpace(text) ? null
            : "%" + text.Trim().Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal) + "%";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<Account>(new CommandDefinition("""
            select id, coalesce(login, external_id, id::text) as login, display_name, role from users
            where @pattern::text is null or coalesce(login, external_id) ilike @pattern or display_name ilike @pattern
            order by login is null, case when login is not null then lower(display_name) end, id offset @offset limit @limit
            """, new { pattern, offset, limit }, cancellationToken: ct));
        return rows.AsList();
    }

    /// <summary>The accounts among <paramref name="ids"/>, for pages that show people by name; unknown ids are left out.</summary>
    public async Task<IReadOnlyDictionary<long, Account>> GetManyAsync(IReadOnlyCollection<long> ids, CancellationToken ct = default)
    {
        if (ids.Count == 0)
            return new Dictionary<long, Account>();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<Account>(new CommandDefinition(
            "select id, coalesce(login, external_id, id::text) as login, display_name, role from users where id = any(@ids)",
            new { ids = ids.ToArray() }, cancellationToken: ct));
        return rows.ToDictionary(a => a.Id);
    }

    public async Task<bool> SetRoleAsync(long id, string role, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition("update users set role = @role where id = @id", new { id, role }, cancellationToken: ct)) == 1;
    }

    /// <summary>The platform's user with this external id, created on first sight (platform users have no login).</summary>
    public async Task<long> EnsureExternalAsync(string externalId, CancellationToken ct = default) =>
        (await EnsureExternalAsync([externalId], ct))[externalId];

    /// <summary>Ids for many of the platform's users, creating the ones not seen before; one round trip at most.</summary>
    /// <remarks>
    /// A user's id never changes, so ids already seen are remembered (up to <see cref="MaxRememberedUsers"/>): event
    /// ingestion names a thousand users a batch, and looking them up again each time was a third of its database work.
    /// </remarks>
    public async Task<IReadOnlyDictionary<string, long>> EnsureExternalAsync(IReadOnlyCollection<string> externalIds, CancellationToken ct = default)
    {
        var result = new Dictionary<string, long>(externalIds.Count, StringComparer.Ordinal);
        var unknown = new HashSet<string>(StringComparer.Ordinal);
        foreach (var externalId in externalIds)
        {
            if (_externalIds.TryGetValue(externalId, out var known))
                result[externalId] = known;
            else
                unknown.Add(externalId);
        }
        if (unknown.Count == 0)
            return result;
        var ids = unknown.ToArray();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        // Known users are read without writing; only missing ones are inserted (the insert's rows are not in the select's snapshot).
        var rows = await conn.QueryAsync<(long Id, string ExternalId)>(new CommandDefinition("""
            with input as (select unnest(@ids::text[]) as external_id),
            missing as (select i.external_id from input i where not exists (select 1 from users u where u.external_id = i.external_id)),
            inserted as (
                insert into users (external_id, display_name) select external_id, 'User ' || external_id from missing
                on conflict (external_id) do nothing returning id, external_id)
            select id, external_id from inserted
            union all
            select u.id, u.external_id from users u join input i on i.external_id = u.external_id
            """, new { ids }, cancellationToken: ct));
        foreach (var r in rows)
            result[r.ExternalId] = r.Id;
        // A concurrent request may have inserted one between the check and the insert; read those back.
        var lost = ids.Where(id => !result.ContainsKey(id)).ToArray();
        if (lost.Length > 0)
        {
            foreach (var r in await conn.QueryAsync<(long Id, string ExternalId)>(new CommandDefinition(
                "select id, external_id from users where external_id = any(@lost)", new { lost }, cancellationToken: ct)))
                result[r.ExternalId] = r.Id;
        }
        if (_externalIds.Count + ids.Length > MaxRememberedUsers)
            _externalIds.Clear();
        foreach (var id in ids)
        {
            if (result.TryGetValue(id, out var internalId))
                _externalIds[id] = internalId;
        }
        return result;
    }

    /// <summary>Deletes the person and everything recorded about them. Events have no foreign key, so they go explicitly, in the same transaction.</summary>
    public async Task<bool> DeleteAsync(long id, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("delete from events where user_id = @id", new { id }, tx, cancellationToken: ct));
        var deleted = (await conn.QueryAsync<string?>(new CommandDefinition(
            "delete from users where id = @id returning external_id", new { id }, tx, cancellationToken: ct))).AsList();
        await tx.CommitAsync(ct);
        if (deleted is [{ } externalId])
            _externalIds.TryRemove(externalId, out _);
        return deleted.Count == 1;
    }

    /// <summary>The account when the password matches; null otherwise (unknown login and wrong password look the same).</summary>
    public async Task<Account?> VerifyAsync(string login, string password, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<(long Id, string Login, string DisplayName, string Role, string? PasswordHash)?>(new CommandDefinition(
            "select id, login, display_name, role, password_hash from users where login = @login", new { login }, cancellationToken: ct));
        if (row is not { PasswordHash: { } storedHash } r)
            return null;
        var account = new Account(r.Id, r.Login, r.DisplayName, r.Role);
        return Hasher.VerifyHashedPassword(account, storedHash, password) == PasswordVerificationResult.Failed ? null : account;
    }
}
