using Dapper;
using Recommender.Testing;

namespace Recommender.Data.Tests;

public sealed class SessionStoreTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();
    private SessionStore _sessions = null!;
    private AccountStore _accounts = null!;

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        _sessions = new SessionStore(_db.DataSource);
        _accounts = new AccountStore(_db.DataSource);
    }

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task Touch_live_session_returns_the_account_as_it_is_now()
    {
        var account = await _accounts.UpsertAsync("ada", "Ada", "user", "correct horse battery");
        var session = await _sessions.StartAsync(account.Id, TimeSpan.FromHours(8));
        await _accounts.SetRoleAsync(account.Id, "admin");

        Assert.Equal(account with { Role = "admin" }, await _sessions.TouchAsync(account.Id, session));
        Assert.Null(await _sessions.TouchAsync(account.Id, Guid.NewGuid()));
    }

    [Fact]
    public async Task End_then_touch_finds_nothing_and_the_next_sign_in_clears_it()
    {
        var account = await _accounts.UpsertAsync("bea", "Bea", "user", "correct horse battery");
        var session = await _sessions.StartAsync(account.Id, TimeSpan.FromHours(8));

        Assert.True(await _sessions.EndAsync(account.Id, session));
        Assert.False(await _sessions.EndAsync(account.Id, session));
        Assert.Null(await _sessions.TouchAsync(account.Id, session));
        var next = await _sessions.StartAsync(account.Id, TimeSpan.FromHours(8));

        await using var conn = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal([next], await conn.QueryAsync<Guid>("select id from sessions where user_id = @Id", new { account.Id }));
    }

    [Fact]
    public async Task Start_clears_sessions_unseen_for_longer_than_the_lifetime_and_deletion_ends_all()
    {
        var account = await _accounts.UpsertAsync("cy", "Cy", "user", "correct horse battery");
        var old = await _sessions.StartAsync(account.Id, TimeSpan.FromHours(8));
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("update sessions set seen_at = now() - interval '9 hours' where id = @old", new { old });
        var current = await _sessions.StartAsync(account.Id, TimeSpan.FromHours(8));
        Assert.Equal([current], await conn.QueryAsync<Guid>("select id from sessions where user_id = @Id", new { account.Id }));

        await _accounts.DeleteAsync(account.Id);

        Assert.Null(await _sessions.TouchAsync(account.Id, current));
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("select count(*) from sessions where user_id = @Id", new { account.Id }));
    }
}
