using Dapper;
using Npgsql;

namespace Recommender.Data.Models;

/// <summary>
/// The session advisory lock every trainer (the model and the re-ranker) holds for a run, so one run at a time goes on
/// across the service's replicas and the CLI. PostgreSQL releases it when the holding process dies, so holding it also
/// proves that a run still marked 'training' is not running. Taken through <see cref="ModelStore.TryLockTrainingAsync"/>; disposing releases it.
/// </summary>
public sealed class TrainingLock : IAsyncDisposable
{
    /// <summary>The advisory lock's key ("Training").</summary>
    public const long Key = 0x547261696e696e67;

    private readonly NpgsqlConnection _conn;

    private TrainingLock(NpgsqlConnection conn) => _conn = conn;

    /// <summary>Takes the lock, or returns null at once when another session holds it.</summary>
    internal static async Task<TrainingLock?> TryTakeAsync(NpgsqlDataSource dataSource, CancellationToken ct = default)
    {
        var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            if (await conn.ExecuteScalarAsync<bool>(new CommandDefinition("select pg_try_advisory_lock(@Key)", new { Key }, cancellationToken: ct)))
                return new TrainingLock(conn);
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
        await conn.DisposeAsync();
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _conn.ExecuteAsync(new CommandDefinition("select pg_advisory_unlock(@Key)", new { Key }, cancellationToken: CancellationToken.None));
        }
        finally
        {
            await _conn.DisposeAsync();
        }
    }
}
