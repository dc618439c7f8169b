using Dapper;
using Npgsql;
using Recommender.Data;
using Recommender.Data.Migrations;
using Recommender.Testing;

namespace Recommender.Cli.Tests;

/// <summary>
/// <c>db migrate --create-roles</c>, the step Docker Compose's <c>migrate</c> container runs: on a database that a
/// superuser created and migrated (as an older Compose volume was), it hands the schema to the owner role and lets the
/// services in as the runtime role with the password from the environment, with row rights only.
/// </summary>
public sealed class DatabaseRolesCliTests : IAsyncLifetime
{
    private OwnCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await OwnCluster.StartAsync("compose-roles");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Migrate_create_roles_hands_a_superuser_database_to_the_owner_and_lets_the_runtime_role_in_with_row_rights_only()
    {
        // The cluster's short timeouts are for outage tests; all the migrations through the CLI can take longer on a busy machine.
        var superuser = new NpgsqlConnectionStringBuilder(_cluster.ConnectionString) { Options = null, Pooling = false, Timeout = 30, CommandTimeout = 300 };
        await using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(superuser.ConnectionString) { Database = "postgres" }.ConnectionString))
            await admin.ExecuteAsync("create database composed");
        superuser.Database = "composed";
        // Migrated by the superuser itself, as Compose did before the roles: the tables belong to the login.
        await using (var old = NpgsqlDataSource.Create(superuser.ConnectionString))
            await MigrationRunner.MigrateAsync(old);

        var missing = await CliTests.RunCliAsync(null, superuser.ConnectionString, new Dictionary<string, string>(), "db", "migrate", "--create-roles");
        const string password = "a compose password with 'quotes' and spaces";
        var run = await CliTests.RunCliAsync(null, superuser.ConnectionString,
            new Dictionary<string, string> { [DatabaseRoles.RuntimePasswordVariable] = password }, "db", "migrate", "--create-roles");

        Assert.NotEqual(0, missing.Exit);
        Assert.Contains(DatabaseRoles.RuntimePasswordVariable, missing.Output, StringComparison.Ordinal);
        Assert.True(run.Exit == 0, run.Output);
        await using var owner = new NpgsqlConnection(superuser.ConnectionString);
        Assert.Equal([DatabaseRoles.Owner], (await owner.QueryAsync<string>("select distinct tableowner from pg_tables where schemaname = 'public'")).ToArray());
        Assert.Equal(MigrationRunner.Embedded.Count, await owner.ExecuteScalarAsync<long>("select count(*) from schema_migrations"));

        var runtime = new NpgsqlConnectionStringBuilder(superuser.ConnectionString) { Username = DatabaseRoles.Runtime, Password = password }.ConnectionString;
        await using var app = new NpgsqlConnection(runtime);
        await app.OpenAsync();
        Assert.Equal(1, await app.ExecuteAsync("insert into users (display_name, role, external_id) values ('Composed', 'user', 'c1')"));
        foreach (var statement in new[] { "drop table events", "update served_lists set seed = 0", "delete from served_lists", "create table intruder (a int)" })
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteAsync(statement));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
        }
    }
}
