using System.Diagnostics;
using Dapper;
using Recommender.Testing;

namespace Recommender.Data.Tests;

/// <summary>Roles that cannot lock everyone out, sign-in that says nothing about which logins exist, and sessions by their own app's lifetime.</summary>
public sealed class AccountSecurityTests : IAsyncLifetime
{
    private const string Password = "correct horse battery";
    private const string Attacker = "203.0.113.7";
    private const string Owner = "198.51.100.20";
    private readonly TestDatabase _db = new();
    private AccountStore _accounts = null!;

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        _accounts = new AccountStore(_db.DataSource);
    }

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task SetRole_the_only_admin_cannot_be_demoted_and_DeleteAsync_cannot_delete_them()
    {
        var only = await _accounts.UpsertAsync("only-admin", "Only", "admin", Password);
        var other = await _accounts.UpsertAsync("someone", "Someone", "user", Password);

        Assert.Equal(RoleChange.LastAdmin, await _accounts.SetRoleAsync(only.Id, "user"));
        await Assert.ThrowsAsync<LastAdminException>(() => _accounts.DeleteAsync(only.Id));
        Assert.Equal("admin", (await _accounts.GetAsync(only.Id))!.Role);

        // With a second admin both become possible.
        Assert.Equal(RoleChange.Changed, await _accounts.SetRoleAsync(other.Id, "admin"));
        Assert.Equal(RoleChange.Changed, await _accounts.SetRoleAsync(only.Id, "user"));
        Assert.Equal(RoleChange.LastAdmin, await _accounts.SetRoleAsync(other.Id, "user"));
        Assert.True(await _accounts.DeleteAsync(only.Id));
    }

    [Fact]
    public async Task SetRole_two_admins_demoting_each_other_at_once_leave_one_admin()
    {
        for (var round = 0; round < 10; round++)
        {
            var a = await _accounts.UpsertAsync($"a{round}", "A", "admin", Password);
            var b = await _accounts.UpsertAsync($"b{round}", "B", "admin", Password);
            await using (var conn = await _db.DataSource.OpenConnectionAsync())
                await conn.ExecuteAsync("update users set role = 'user' where role = 'admin' and id not in (@a, @b)", new { a = a.Id, b = b.Id });

            var results = await Task.WhenAll(Task.Run(() => _accounts.SetRoleAsync(a.Id, "user")), Task.Run(() => _accounts.SetRoleAsync(b.Id, "user")));

            Assert.Equal(1, results.Count(r => r == RoleChange.Changed));
            await using var check = await _db.DataSource.OpenConnectionAsync();
            Assert.Equal(1, await check.ExecuteScalarAsync<long>("select count(*) from users where role = 'admin'"));
        }
    }

    [Fact]
    public async Task SignIn_unknown_login_costs_as_much_as_a_wrong_password()
    {
        await _accounts.UpsertAsync("known", "Known", "user", Password);
        // Warm both paths up (JIT, connections) before measuring.
        await _accounts.VerifyAsync("known", "wrong");
        await _accounts.VerifyAsync("nobody", "wrong");

        var known = new List<double>();
        var unknown = new List<double>();
        for (var i = 0; i < 15; i++)
        {
            known.Add(await TimeAsync(() => _accounts.VerifyAsync("known", "wrong password " + i)));
            unknown.Add(await TimeAsync(() => _accounts.VerifyAsync("nobody-" + i, "wrong password " + i)));
        }

        // Medians, so that one slow run on a shared machine does not decide; the hash dominates both (tens of ms).
        var (k, u) = (Median(known), Median(unknown));
        Assert.True(u > 0.6 * k && u < 1.6 * k, $"median unknown login {u:F1} ms, wrong password {k:F1} ms");
    }

    [Fact]
    public async Task SignIn_locks_a_login_from_one_client_after_repeated_failures_known_or_not_and_a_password_reset_lifts_it()
    {
        var account = await _accounts.UpsertAsync("target", "Target", "user", Password);
        foreach (var login in new[] { "target", "ghost" })
        {
            for (var i = 1; i < AccountStore.MaxFailedSignIns; i++)
                Assert.Equal(new SignInOutcome(null, null), await _accounts.SignInAsync(login, "guess " + i, Attacker));
            var last = await _accounts.SignInAsync(login, "guess last", Attacker);
            Assert.Null(last.Account);
            Assert.InRange(last.LockedFor!.Value, AccountStore.LockDuration - TimeSpan.FromSeconds(30), AccountStore.LockDuration);
        }

        // Locked for that client: even the right password is not checked, and the wait is what is left of the lock.
        var locked = await _accounts.SignInAsync("target", Password, Attacker);
        Assert.Null(locked.Account);
        Assert.InRange(locked.LockedFor!.Value, TimeSpan.FromMinutes(14), AccountStore.LockDuration);

        await _accounts.UpsertAsync("target", "Target", "user", Password);
        Assert.Equal(account.Id, (await _accounts.SignInAsync("target", Password, Attacker)).Account?.Id);
    }

    [Fact]
    public async Task SignIn_failures_from_one_client_never_lock_the_owner_out_on_another()
    {
        var owner = await _accounts.UpsertAsync("the-admin", "The admin", "admin", Password);
        for (var i = 0; i < 3 * AccountStore.MaxFailedSignIns; i++)
            await _accounts.SignInAsync("the-admin", "guess " + i, Attacker);
        Assert.NotNull((await _accounts.SignInAsync("the-admin", Password, Attacker)).LockedFor);

        // The owner, elsewhere, signs in at once; and their success does not give the guesser a fresh count.
        var fromHome = await _accounts.SignInAsync("the-admin", Password, Owner);
        Assert.Equal(owner.Id, fromHome.Account?.Id);
        Assert.Null(fromHome.LockedFor);
        Assert.NotNull((await _accounts.SignInAsync("the-admin", "one more guess", Attacker)).LockedFor);
    }

    [Fact]
    public async Task SignIn_a_success_clears_earlier_failures()
    {
        await _accounts.UpsertAsync("forgetful", "F", "user", Password);
        for (var round = 0; round < 3; round++)
        {
            for (var i = 1; i < AccountStore.MaxFailedSignIns; i++)
                Assert.Null((await _accounts.SignInAsync("forgetful", "typo", Owner)).LockedFor);
            Assert.NotNull((await _accounts.SignInAsync("forgetful", Password, Owner)).Account);
        }
    }

    [Fact]
    public async Task Start_a_short_lived_sign_in_keeps_the_same_persons_long_lived_sessions()
    {
        var account = await _accounts.UpsertAsync("two-apps", "Two apps", "user", Password);
        var sessions = new SessionStore(_db.DataSource);
        var web = await sessions.StartAsync(account.Id, TimeSpan.FromDays(14));
        var oldApi = await sessions.StartAsync(account.Id, TimeSpan.FromHours(8));
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("update sessions set seen_at = now() - interval '1 day' where user_id = @id", new { id = account.Id });

        await sessions.StartAsync(account.Id, TimeSpan.FromHours(8));

        Assert.NotNull(await sessions.TouchAsync(account.Id, web));
        Assert.Null(await sessions.TouchAsync(account.Id, oldApi));
    }

    private static async Task<double> TimeAsync(Func<Task> action)
    {
        var clock = Stopwatch.StartNew();
        await action();
        return clock.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
