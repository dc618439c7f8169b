using Npgsql;
using Recommender.Data;
using Recommender.Data.Migrations;
using Xunit;

namespace Recommender.Testing;

/// <summary>
/// A fresh PostgreSQL database for one test class, created on a real server and dropped afterwards.
/// The server comes from <c>RECOMMENDER_TEST_DB</c> (a connection string to a maintenance database, set by
/// <c>./recommender test</c>); without it, the project-local cluster in <c>.data/</c> is started. There is no skip:
/// a missing server fails the tests.
/// </summary>
public class TestDatabase : IAsyncLifetime
{
    public const string EnvironmentVariable = "RECOMMENDER_TEST_DB";

    private static readonly SemaphoreSlim ClusterLock = new(1, 1);
    private string? _adminConnectionString;

    public string Name { get; } = "test_" + Guid.NewGuid().ToString("N")[..16];
    public string ConnectionString { get; private set; } = "";
    public NpgsqlDataSource DataSource { get; private set; } = null!;

    /// <summary>Whether the schema is migrated at start; tests of the migration runner turn it off.</summary>
    protected virtual bool Migrate => true;

    public async Task InitializeAsync()
    {
        _adminConnectionString = await AdminConnectionStringAsync();
        await using (var admin = new NpgsqlConnection(_adminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"create database {Name}", admin);
            await create.ExecuteNonQueryAsync();
        }
        ConnectionString = new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = Name }.ConnectionString;
        DataSource = Database.CreateDataSource(ConnectionString, "recommender-tests");
        if (Migrate)
            await MigrationRunner.MigrateAsync(DataSource);
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(_adminConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"drop database if exists {Name} with (force)", admin);
        await drop.ExecuteNonQueryAsync();
    }

    private static async Task<string> AdminConnectionStringAsync()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
            return fromEnvironment;
        await ClusterLock.WaitAsync();
        try
        {
            var local = new LocalPostgres(Path.Combine(RepositoryPaths.Root, ".data"));
            await local.EnsureStartedAsync();
            return local.AdminConnectionString;
        }
        finally
        {
            ClusterLock.Release();
        }
    }
}

/// <summary>The same fixture without the schema, for tests of the migration runner.</summary>
public sealed class EmptyTestDatabase : TestDatabase
{
    protected override bool Migrate => false;
}
