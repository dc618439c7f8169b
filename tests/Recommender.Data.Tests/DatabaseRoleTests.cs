using Dapper;
using Npgsql;
using Recommender.Testing;

namespace Recommender.Data.Tests;

/// <summary>The local cluster's roles: migrations as the schema's owner, services as a runtime role with row rights only.</summary>
public sealed class DatabaseRoleTests : IAsyncLifetime
{
    private OwnCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await OwnCluster.StartAsync("roles");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Runtime_role_adds_served_lists_and_deleting_an_account_still_removes_them()
    {
        await using var runtime = NpgsqlDataSource.Create(_cluster.RuntimeConnectionString);
        var accounts = new AccountStore(runtime);
        var account = await accounts.UpsertAsync("leaving", "Leaving", "user", "a long enough password");
        var list = new Core.ServedList(account.Id, "engagement", "1", "{}", "hash", "popularity", 1, DateTimeOffset.UtcNow, 5, []);
        var request = Guid.CreateVersion7();
        var store = new ServedListStore(runtime);
        await store.WriteAsync([new AuditRecord(request, account.Id, list)]);
        // A replay of the same record is skipped, not an error and not a second row.
        await store.WriteAsync([new AuditRecord(request, account.Id, list), new AuditRecord(Guid.CreateVersion7(), account.Id, list)]);
        await using var app = new NpgsqlConnection(_cluster.RuntimeConnectionString);
        Assert.Equal(2, await app.ExecuteScalarAsync<long>("select count(*) from served_lists where user_id = @Id", account));

        await accounts.DeleteAsync(account.Id);

        Assert.Equal(0, await app.ExecuteScalarAsync<long>("select count(*) from served_lists where user_id = @Id", account));
    }

    [Fact]
    public async Task Runtime_role_reads_and_writes_rows_but_cannot_change_the_schema_or_escalate()
    {
        await using var owner = new NpgsqlConnection(_cluster.ConnectionString);
        await owner.OpenAsync();
        Assert.Equal(["recommender_owner"], (await owner.QueryAsync<string>("select distinct tableowner from pg_tables where schemaname = 'public'")).ToArray());

        await using var app = new NpgsqlConnection(_cluster.RuntimeConnectionString);
        await app.OpenAsync();
        var account = await new AccountStore(NpgsqlDataSource.Create(_cluster.RuntimeConnectionString)).UpsertAsync("runtime", "Runtime", "user", "a long enough password");
        Assert.Equal(1, await app.ExecuteAsync("update users set display_name = 'Changed' where id = @Id", account));
        Assert.False(await app.ExecuteScalarAsync<bool>("select rolsuper from pg_roles where rolname = current_user"));

        foreach (var statement in new[]
        {
            "create table intruder (a int)",
            "drop table events",
            "alter table users add column intruder int",
            "truncate served_lists",
            // The audit trail is append-only for the services.
            "update served_lists set seed = 0",
            "delete from served_lists",
            "update privacy_budget_spends set epsilon = 0.001",
            "delete from privacy_budget_spends",
            "update settings_history set objective_id = 'x'",
            "delete from settings_history",
            "delete from schema_migrations",
            "insert into schema_migrations (version, name, checksum) values (9999, 'intruder', 'x')",
            "create role intruder",
            "set role recommender_owner",
        })
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteAsync(statement));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
        }
    }
}
