using Npgsql;
using Recommender.Data.Models;

namespace Recommender.Data;

/// <summary>
/// One connection that listens on every channel a serving process reacts to: model and re-ranker activation
/// (<see cref="ModelStore.ActivationChannel"/>), catalog changes (<see cref="CatalogStore.ChangeChannel"/>) and API key
/// revocation (<see cref="ApiKeyStore.RevocationChannel"/>). Notifications are delivered while <see cref="WaitAsync"/> waits.
/// </summary>
public sealed class ChangeListener : IAsyncDisposable
{
    private readonly NpgsqlConnection _conn;

    private ChangeListener(NpgsqlConnection conn) => _conn = conn;

    /// <summary>Opens a connection and listens; <paramref name="notified"/> gets each notification's channel.</summary>
    public static async Task<ChangeListener> ListenAsync(NpgsqlDataSource dataSource, Action<string> notified, CancellationToken ct = default)
    {
        var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            conn.Notification += (_, e) => notified(e.Channel);
            await using var listen = new NpgsqlCommand(
                $"listen {ModelStore.ActivationChannel}; listen {CatalogStore.ChangeChannel}; listen {ApiKeyStore.RevocationChannel}", conn);
            await listen.ExecuteNonQueryAsync(ct);
            return new ChangeListener(conn);
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a notification; false when none came.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct = default) => _conn.WaitAsync(timeout, ct);

    /// <summary>The active model's version, read on the listening connection (the poll that backs up a missed notification).</summary>
    public Task<int?> ActiveModelVersionAsync(CancellationToken ct = default) => ModelStore.ActiveVersionAsync(_conn, ct);

    public ValueTask DisposeAsync() => _conn.DisposeAsync();
}
