using System.Collections.Concurrent;
using Dapper;
using Microsoft.AspNetCore.Identity;
using Npgsql;

namespace Recommender.Data;

/// <summary>
/// A person. <see cref="Login"/> is what they sign in with; for a platform's user, who has none, it reads as their
/// platform id (or our id), so pages that name people still have something to show, and <see cref="PlatformId"/> says
/// that it is one.
/// </summary>
public sealed record Account(long Id, string Login, string DisplayName, string Role, string? PlatformId = null);

/// <summary>
/// What a sign-in attempt came to: the account on success; otherwise, when the login is locked for this client after
/// too many failures from it, how long until it may try again from there.
/// </summary>
public sealed record SignInOutcome(Account? Account, TimeSpan? LockedFor);

/// <summary>What <see cref="AccountStore.SetRoleAsync"/> did.</summary>
public enum RoleChange
{
    Changed,
    NotFound,

    /// <summary>Refused: the account is the only admin, and without one nobody could manage roles again.</summary>
    LastAdmin,
}

/// <summary>The only admin cannot be deleted; another admin must be named first.</summary>
public sealed class LastAdminException() : InvalidOperationException("This is the only admin account; make someone else an admin before deleting it.");

/// <summary>Accounts and passwords, hashed with ASP.NET Core's <see cref="PasswordHasher{TUser}"/> (PBKDF2, per-user salt).</summary>
public sealed class AccountStore(NpgsqlDataSource dataSource)
{
    /// <summary>Platform user ids remembered per process (about 100 bytes each); past this the memory starts afresh.</summary>
    public const int MaxRememberedUsers = 1_000_000;

    // An Account as every query reads it: a platform's user, without a login, shows their platform id there too.
    private const string Columns = "id, coalesce(login, external_id, id::text) as login, display_name, role, case when login is null then external_id end as platform_id";

    /// <summary>
    /// The shortest password an account may be given, in characters (Unicode code points): what NIST SP 800-63B asks of
    /// a password that is the only factor, as it is here. No rules on which characters; a long phrase is what holds.
    /// </summary>
    public const int MinPasswordLength = 15;

    /// <summary>The longest, so that hashing one cannot be made to cost without bound.</summary>
    public const int MaxPasswordLength = 256;

    /// <summary>Why a password may not be set, in words; null when it may.</summary>
    public static string? PasswordProblem(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var length = password.EnumerateRunes().Count();
        return length < MinPasswordLength ? $"a password needs at least {MinPasswordLength} characters (this one has {length}); a few unrelated words make one that is easy to remember"
            : length > MaxPasswordLength ? $"a password may have at most {MaxPasswordLength} characters (this one has {length})"
            : null;
    }

    private static readonly PasswordHasher<Account> Hasher = new();
    private readonly ConcurrentDictionary<string, long> _externalIds = new(StringComparer.Ordinal);

    /// <summary>
    /// Creates the account, or resets its password, display name and role when the login exists. A reset also lifts
    /// every lock from failed sign-ins on the login: the way back for a person who cannot wait it out.
    /// </summary>
    public async Task<Account> UpsertAsync(string login, string displayName, string role, string password, CancellationToken ct = default)
    {
        if (PasswordProblem(password) is { } problem)
            throw new ArgumentException(problem, nameof(password));
        var probe = new Account(0, login, displayName, role);
        var hash = Hasher.HashPassword(probe, password);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<Account>(new CommandDefinition("""
            with unlocked as (delete from sign_in_failures where login = @login)
            insert into users (login, display_name, role, password_hash) values (@login, @displayName, @role, @hash)
            on conflict (login) do update set display_name = excluded.display_name, role = excluded.role, password_hash = excluded.password_hash
            returning id, login, display_name, role, null::text as platform_id
            """, new { login, displayName, role, hash }, cancellationToken: ct));
    }

    public async Task<Account?> GetAsync(long id, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<Account>(new CommandDefinition(
            $"select {Columns} from users where id = @id", new { id }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<Account>> ListAsync(string? role, int offset, int limit, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<Account>(new CommandDefinition($"""
            select {Columns} from users
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
        var rows = await conn.QueryAsync<Account>(new CommandDefinition($"""
            select {Columns} from users
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
            $"select {Columns} from users where id = any(@ids)",
            new { ids = ids.ToArray() }, cancellationToken: ct));
        return rows.ToDictionary(a => a.Id);
    }

    /// <summary>
    /// Gives the account <paramref name="role"/>. Refused when it would leave no admin: the admins' rows are locked
    /// first, so two admins demoting each other at once cannot both succeed.
    /// </summary>
    public async Task<RoleChange> SetRoleAsync(long id, string role, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (role != "admin" && await IsLastAdminAsync(conn, tx, id, ct))
            return RoleChange.LastAdmin;
        var changed = await conn.ExecuteAsync(new CommandDefinition("update users set role = @role where id = @id", new { id, role }, tx, cancellationToken: ct)) == 1;
        await tx.CommitAsync(ct);
        return changed ? RoleChange.Changed : RoleChange.NotFound;
    }

    // Locks every admin row (FOR UPDATE re-reads a row changed by a transaction it waited for), then counts.
    private static async Task<bool> IsLastAdminAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long id, CancellationToken ct)
    {
        var admins = (await conn.QueryAsync<long>(new CommandDefinition(
            "select id from users where role = 'admin' order by id for update", transaction: tx, cancellationToken: ct))).AsList();
        return admins is [var only] && only == id;
    }

    /// <summary>The id of the platform's user with this external id; null when the platform never named them.</summary>
    public async Task<long?> FindExternalAsync(string externalId, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
            "select id from users where external_id = @externalId", new { externalId }, cancellationToken: ct));
    }

    /// <summary>The id of the person who signs in with this login; null when no one does.</summary>
    public async Task<long?> FindLoginAsync(string login, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
            "select id from users where login = @login", new { login }, cancellationToken: ct));
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

    /// <summary>Marks the accounts as simulated demo readers (<c>users.simulated</c>), whose lists and events were generated by <c>up</c>.</summary>
    public async Task MarkSimulatedAsync(IReadOnlyCollection<long> ids, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("update users set simulated = true where id = any(@ids)", new { ids = ids.ToArray() }, cancellationToken: ct));
    }

    /// <summary>Whether the person is one of the simulated demo readers (see <see cref="MarkSimulatedAsync"/>).</summary>
    public async Task<bool> IsSimulatedAsync(long id, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<bool>(new CommandDefinition("select coalesce((select simulated from users where id = @id), false)", new { id }, cancellationToken: ct));
    }

    /// <summary>How many people are simulated demo readers (see <see cref="MarkSimulatedAsync"/>).</summary>
    public async Task<long> CountSimulatedAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from users where simulated", cancellationToken: ct));
    }

    /// <summary>Deletes the person and everything recorded about them. Events have no foreign key, so they go explicitly, in the same transaction.</summary>
    /// <exception cref="LastAdminException">The account is the only admin.</exception>
    public async Task<bool> DeleteAsync(long id, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (await IsLastAdminAsync(conn, tx, id, ct))
            throw new LastAdminException();
        await conn.ExecuteAsync(new CommandDefinition("delete from events where user_id = @id", new { id }, tx, cancellationToken: ct));
        var deleted = (await conn.QueryAsync<string?>(new CommandDefinition(
            "delete from users where id = @id returning external_id", new { id }, tx, cancellationToken: ct))).AsList();
        await tx.CommitAsync(ct);
        if (deleted is [{ } externalId])
            _externalIds.TryRemove(externalId, out _);
        return deleted.Count == 1;
    }

    /// <summary>
    /// Failed sign-ins one login may have from one client within <see cref="FailureWindow"/> before it is locked for
    /// <see cref="LockDuration"/> from that client only, so that nobody can lock another person out.
    /// </summary>
    public const int MaxFailedSignIns = 5;

    public static TimeSpan FailureWindow { get; } = TimeSpan.FromMinutes(15);

    public static TimeSpan LockDuration { get; } = TimeSpan.FromMinutes(15);

    /// <summary>The longest login looked up; anything longer cannot exist and is refused without being stored.</summary>
    public const int MaxLoginLength = 200;

    // Verified against when the login has no password, so that an unknown login costs the same PBKDF2 work as a
    // wrong password and the answer's timing does not say which logins exist.
    private static readonly string DummyHash = Hasher.HashPassword(new Account(0, "", "", "user"), Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)));

    /// <summary>The account when the password matches; null otherwise (unknown login and wrong password look the same, in answer and in time).</summary>
    public async Task<Account?> VerifyAsync(string login, string password, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<(long Id, string Login, string DisplayName, string Role, string? PasswordHash)?>(new CommandDefinition(
            "select id, login, display_name, role, password_hash from users where login = @login", new { login }, cancellationToken: ct));
        if (row is not { PasswordHash: { } storedHash } r)
        {
            Hasher.VerifyHashedPassword(new Account(0, login, "", "user"), DummyHash, password);
            return null;
        }
        var account = new Account(r.Id, r.Login, r.DisplayName, r.Role);
        return Hasher.VerifyHashedPassword(account, storedHash, password) == PasswordVerificationResult.Failed ? null : account;
    }

    /// <summary>
    /// A sign-in attempt with the limit per login and client (<paramref name="client"/>, the caller's address): while
    /// the login is locked for this client the password is not checked at all; a failure counts against the login from
    /// this client whether the login exists or not; a success clears this client's count. Failures from one client
    /// never lock the login for another, so a guesser cannot keep the owner out.
    /// </summary>
    public async Task<SignInOutcome> SignInAsync(string login, string password, string client, CancellationToken ct = default)
    {
        if (login.Length > MaxLoginLength)
        {
            Hasher.VerifyHashedPassword(new Account(0, "", "", "user"), DummyHash, password);
            return new SignInOutcome(null, null);
        }
        await using (var conn = await dataSource.OpenConnectionAsync(ct))
        {
            var wait = await conn.ExecuteScalarAsync<TimeSpan?>(new CommandDefinition(
                "select locked_until - now() from sign_in_failures where login = @login and client = @client and locked_until > now()", new { login, client }, cancellationToken: ct));
            if (wait is { } w)
                return new SignInOutcome(null, w);
        }
        var account = await VerifyAsync(login, password, ct);
        await using var write = await dataSource.OpenConnectionAsync(ct);
        if (account is not null)
        {
            await write.ExecuteAsync(new CommandDefinition("delete from sign_in_failures where login = @login and client = @client", new { login, client }, cancellationToken: ct));
            return new SignInOutcome(account, null);
        }
        // One statement, so concurrent failures all count; expired rows of other logins and clients go on the way, keeping the table small.
        var lockedFor = await write.ExecuteScalarAsync<TimeSpan?>(new CommandDefinition("""
            with expired as (
                delete from sign_in_failures where (login, client) <> (@login, @client) and window_start < now() - @window and coalesce(locked_until, '-infinity') < now())
            insert into sign_in_failures as f (login, client, failures, window_start) values (@login, @client, 1, now())
            on conflict (login, client) do update set
                failures = case when f.window_start < now() - @window then 1 else f.failures + 1 end,
                window_start = case when f.window_start < now() - @window then now() else f.window_start end,
                locked_until = case when f.window_start >= now() - @window and f.failures + 1 >= @max then now() + @lockFor else f.locked_until end
            returning locked_until - now()
            """, new { login, client, window = FailureWindow, max = MaxFailedSignIns, lockFor = LockDuration }, cancellationToken: ct));
        return new SignInOutcome(null, lockedFor is { } l && l > TimeSpan.Zero ? l : null);
    }
}
