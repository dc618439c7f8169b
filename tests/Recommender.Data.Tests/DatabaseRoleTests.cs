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
            "create role intruder",
            "set role recommender_owner",
        })
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteAsync(statement));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
        }
    }
}
