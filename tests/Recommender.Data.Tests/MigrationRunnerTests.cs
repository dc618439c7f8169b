using Dapper;
using Recommender.Data.Migrations;
using Recommender.Testing;

namespace Recommender.Data.Tests;

public sealed class MigrationRunnerTests : IAsyncLifetime
{
    private readonly EmptyTestDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task MigrateAsync_empty_database_creates_every_table()
    {
        var result = await MigrationRunner.MigrateAsync(_db.DataSource);

        Assert.Equal(MigrationRunner.Embedded.Count, result.Applied.Count);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var tables = (await conn.QueryAsync<string>("select table_name from information_schema.tables where table_schema = 'public'")).ToHashSet();
        string[] expected = ["users", "items", "topics", "item_topics", "sources", "events", "user_settings", "settings_history",
            "models", "served_lists", "learning_state", "api_keys", "schema_migrations"];
        Assert.All(expected, t => Assert.Contains(t, tables));
    }

    [Fact]
    public async Task MigrateAsync_run_twice_second_run_applies_nothing()
    {
        await MigrationRunner.MigrateAsync(_db.DataSource);
        var second = await MigrationRunner.MigrateAsync(_db.DataSource);

        Assert.Empty(second.Applied);
        Assert.Equal(MigrationRunner.Embedded.Count, second.AlreadyApplied);
    }

    [Fact]
    public async Task MigrateAsync_two_connections_at_once_apply_each_migration_once()
    {
        // Two data sources stand for two processes: separate pools, separate sessions.
        await using var other = Database.CreateDataSource(_db.ConnectionString, "second-process");
        var results = await Task.WhenAll(MigrationRunner.MigrateAsync(_db.DataSource), MigrationRunner.MigrateAsync(other));

        Assert.Equal(MigrationRunner.Embedded.Count, results.Sum(r => r.Applied.Count));
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(MigrationRunner.Embedded.Count, await conn.ExecuteScalarAsync<long>("select count(*) from schema_migrations"));
    }

    [Fact]
    public async Task MigrateAsync_applied_file_changed_afterwards_refuses()
    {
        await MigrationRunner.MigrateAsync(_db.DataSource);
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("update schema_migrations set checksum = 'edited' where version = 1");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => MigrationRunner.MigrateAsync(_db.DataSource));
        Assert.Contains("forward-only", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Embedded_migrations_are_numbered_without_gaps()
    {
        Assert.Equal(Enumerable.Range(1, MigrationRunner.Embedded.Count), MigrationRunner.Embedded.Select(m => m.Version));
    }
}
