using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>
/// Keeps <see cref="ServingState"/> current: loads it at start, reloads when another process activates a model or
/// changes the catalog (LISTEN/NOTIFY), forgets remembered API keys when one is revoked anywhere, and polls as a backstop in case a notification was missed while disconnected.
/// </summary>
internal sealed class ServingRefresher(
    NpgsqlDataSource dataSource, ServingState state, ApiKeyStore keys, IOptions<ServingOptions> options, ILogger<ServingRefresher> logger)
    : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await state.ReloadAsync(ct: cancellationToken);
        }
        catch (NpgsqlException e)
        {
            // Start anyway: feeds answer 503 until the database is back and the loop below loads the state.
            logger.LogError(e, "Could not load the model and catalog at start; will retry");
        }
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var lastCatalogLoad = DateTimeOffset.UtcNow;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var notified = false;
                await using var listener = await ChangeListener.ListenAsync(dataSource, channel =>
                {
                    if (channel == ApiKeyStore.RevocationChannel)
                        keys.ForgetRemembered();
                    else
                        notified = true;
                }, stoppingToken);
                // Keys remembered while this connection was down may have been revoked meanwhile.
                keys.ForgetRemembered();
                if (!state.IsLoaded)
                    await state.ReloadAsync(ct: stoppingToken);
                var lastVersion = state.Current.ModelVersion;
                while (!stoppingToken.IsCancellationRequested)
                {
                    await listener.WaitAsync(o.ModelPollInterval, stoppingToken);
                    var activeVersion = await listener.ActiveModelVersionAsync(stoppingToken);
                    var catalogDue = DateTimeOffset.UtcNow - lastCatalogLoad >= o.CatalogRefreshInterval;
                    if (notified || catalogDue || activeVersion != lastVersion)
                    {
                        notified = false;
                        await state.ReloadAsync(ct: stoppingToken);
                        lastCatalogLoad = DateTimeOffset.UtcNow;
                        lastVersion = state.Current.ModelVersion;
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                logger.LogWarning(e, "Lost the database connection that watches for model and catalog changes; retrying");
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }
}
