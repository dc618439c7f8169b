using Dapper;
using Npgsql;

namespace Recommender.Data;

/// <summary>
/// People's sign-in sessions. A cookie carries its session id; the session ends on sign-out, and goes with the account
/// when it is deleted, so a copy of an old cookie stops working.
/// </summary>
public sealed class SessionStore(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Starts a session for <paramref name="userId"/> and clears that person's sessions that ended or lapsed, each by
    /// its own lifetime (a REST service sign-in does not cut short the same person's longer-lived web sessions).
    /// </summary>
    /// <param name="userId">The person signing in.</param>
    /// <param name="lifetime">How long the new session lives unseen (the signing-in app's setting).</param>
    /// <param name="ct">Cancels the call.</param>
    public async Task<Guid> StartAsync(long userId, TimeSpan lifetime, CancellationToken ct = default)
    {
        var id = Guid.NewGuid();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("""
            with cleared as (
                delete from sessions where user_id = @userId and (ended_at is not null or seen_at < now() - lifetime))
            insert into sessions (user_id, id, lifetime) values (@userId, @id, @lifetime)
            """, new { userId, id, lifetime }, cancellationToken: ct));
        return id;
    }

    /// <summary>
    /// The account behind a live session, its last check moved to now; null when the session ended, never existed,
    /// or the account is gone. One round trip.
    /// </summary>
    public async Task<Account?> TouchAsync(long userId, Guid id, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<Account>(new CommandDefinition("""
            update sessions s set seen_at = now() from users u
            where s.user_id = @userId and s.id = @id and s.ended_at is null and u.id = s.user_id and u.login is not null
            returning u.id, u.login, u.display_name, u.role, null::text as platform_id
            """, new { userId, id }, cancellationToken: ct));
    }

    /// <summary>Ends the session; false when it had already ended or does not exist.</summary>
    public async Task<bool> EndAsync(long userId, Guid id, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition(
            "update sessions set ended_at = now() where user_id = @userId and id = @id and ended_at is null",
            new { userId, id }, cancellationToken: ct)) == 1;
    }
}
