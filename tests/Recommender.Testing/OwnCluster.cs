using Npgsql;
using Recommender.Data;
using Recommender.Data.Migrations;

namespace Recommender.Testing;

/// <summary>
/// A PostgreSQL cluster of a test's own, in a temporary folder and migrated, for tests that stop and start the
/// database under a running service; the shared test server must never be stopped.
/// </summary>
public sealed class OwnCluster : IAsyncDisposable
{
    private readonly string _root;
    private readonly LocalPostgres _cluster;

    private OwnCluster(string root)
    {
        _root = root;
        _cluster = new LocalPostgres(root);
    }

    /// <summary>The application database, with a short connect and command timeout so an outage shows quickly.</summary>
    public string ConnectionString => _cluster.ConnectionString + ";Timeout=3;Command Timeout=5";

    /// <summary>Starts a new cluster and applies the migrations.</summary>
    public static async Task<OwnCluster> StartAsync(string name)
    {
        var root = Directory.CreateTempSubdirectory($"recommender-{name}-").FullName;
        // The server runs as the postgres account when tests run as root, so it must be able to enter the folder.
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(root, (UnixFileMode)Convert.ToInt32("755", 8));
        var cluster = new OwnCluster(root);
        await cluster.StartAgainAsync();
        await using var dataSource = Database.CreateDataSource(cluster._cluster.ConnectionString);
        await MigrationRunner.MigrateAsync(dataSource);
        return cluster;
    }

    /// <summary>The application database as the services' runtime role (rows only).</summary>
    public string RuntimeConnectionString => _cluster.RuntimeConnectionString + ";Timeout=3;Command Timeout=5";

    public Task StopAsync() => _cluster.StopAsync();

    public Task StartAgainAsync() => _cluster.EnsureStartedAsync();

    /// <summary>A data source for setting up and checking the database from the test itself.</summary>
    public NpgsqlDataSource CreateDataSource() => Database.CreateDataSource(_cluster.ConnectionString);

    public async ValueTask DisposeAsync()
    {
        await _cluster.StopAsync();
        NpgsqlConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }
}
