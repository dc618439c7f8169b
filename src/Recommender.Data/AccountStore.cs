using Dapper;
using Microsoft.AspNetCore.Identity;
using Npgsql;

namespace Recommender.Data;

/// <summary>A person who can sign in.</summary>
public sealed record Account(long Id, string Login, string DisplayName, string Role);

/// <summary>Accounts and passwords, hashed with ASP.NET Core's <see cref="PasswordHasher{TUser}"/> (PBKDF2, per-user salt).</summary>
public sealed class AccountStore(NpgsqlDataSource dataSource)
{
    private static readonly PasswordHasher<Account> Hasher = new();

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
