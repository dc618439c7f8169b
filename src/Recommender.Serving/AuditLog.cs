using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>The audit spool is at its bound or cannot be written: the feed is refused rather than served without its record.</summary>
public sealed class AuditBacklogFullException(string? message = null)
    : Exception(message ?? "The audit log is full until the database takes its backlog; the feed was not served so that no list goes unrecorded.");

/// <summary>
/// Every served list is on local disk before its feed is answered (<see cref="AuditSpool"/>), and a background loop
/// moves the spool to PostgreSQL in batches, retrying until the database takes them. Nothing is dropped silently: a
/// full spool refuses feeds (503), a failing database shows in health and logs, and whatever a crash or a shutdown
/// leaves in the spool is written by the next process to start on the same database.
/// </summary>
public sealed class AuditLog : BackgroundService, IHealthCheck
{
    private const int BatchSize = 500;
    private readonly ServedListStore _store;
    private readonly AccountStore _accounts;
    private readonly ILogger<AuditLog> _logger;
    private readonly AuditSpool _spool;
    private readonly List<AuditRecord> _batch = new(BatchSize);
    private SpoolPosition _batchEnd;
    private long _written;
    private string? _lastError;

    public AuditLog(ServedListStore store, AccountStore accounts, Npgsql.NpgsqlDataSource dataSource, IOptions<ServingOptions> options, ILogger<AuditLog> logger)
    {
        _store = store;
        _accounts = accounts;
        _logger = logger;
        var o = options.Value;
        var root = string.IsNullOrWhiteSpace(o.AuditSpoolPath)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "recommender", "audit-spool")
            : Path.GetFullPath(o.AuditSpoolPath);
        // Segments well below the bound: a segment is deleted only once it is finished and written, so the bound must
        // leave room for new ones while the database catches up.
        _spool = new AuditSpool(AuditSpool.FolderFor(root, dataSource.ConnectionString), o.AuditSpoolLimit,
            Math.Clamp(o.AuditSpoolLimit / 8, 1, 16 * 1024 * 1024), logger);
    }

    /// <summary>Records on disk waiting to be written to the database.</summary>
    public long Pending => _spool.Pending;

    /// <summary>Records written since start.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>The folder of this database's spool.</summary>
    public string SpoolFolder => _spool.Folder;

    /// <summary>Records the served list on local disk; returns once it is there, so the feed may be answered.</summary>
    /// <exception cref="AuditBacklogFullException">The spool is at its bound or cannot be written.</exception>
    public Task RecordAsync(AuditRecord record) => _spool.AppendAsync(record);

    /// <summary>Waits until everything recorded so far is in the database (tests and shutdown use it).</summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        while (Pending > 0)
            await Task.Delay(10, ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                await _spool.WaitForRecordsAsync(stoppingToken);
                await DrainAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // Shutdown: keep writing until the host's shutdown timeout; what is left stays in the spool for the next start.
        try
        {
            while (Pending > 0)
                await DrainAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            _logger.LogWarning("Stopping with {Pending} served lists not yet in the database ({Error}); they stay in {Folder} and the next start on this database writes them",
                Pending, _lastError, _spool.Folder);
        }
        await _spool.DisposeAsync();
    }

    private async Task DrainAsync(CancellationToken ct)
    {
        if (_batch.Count == 0)
            _batchEnd = _spool.Read(_batch, BatchSize);
        if (_batch.Count == 0)
            return;
        // Its own trace: the feeds that recorded these lists were answered once the lists were in the spool.
        using var span = RecommenderMetrics.ActivitySource.StartActivity("audit.write");
        span?.SetTag("recommender.lists", _batch.Count);
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                await ResolveExternalUsersAsync(ct);
                await _store.WriteAsync(_batch, ct);
                _spool.Release(_batchEnd, _batch.Count);
                Interlocked.Add(ref _written, _batch.Count);
                _batch.Clear();
                if (_lastError is not null)
                    _logger.LogInformation("Audit log writes recovered");
                _lastError = null;
                return;
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
            {
                if (_lastError is null)
                    _logger.LogError(e, "Audit log write failed; {Pending} served lists wait in the spool and will be retried", Pending);
                _lastError = e.Message;
                await Task.Delay(delay, ct);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
            }
        }
    }

    // Lists served while the database was away name the platform's user; like a feed, the first sight creates them.
    private async Task ResolveExternalUsersAsync(CancellationToken ct)
    {
        var external = _batch.Where(r => r.UserId == 0 && r.ExternalUserId is not null).Select(r => r.ExternalUserId!).Distinct().ToList();
        if (external.Count == 0)
            return;
        var ids = await _accounts.EnsureExternalAsync(external, ct);
        for (var i = 0; i < _batch.Count; i++)
        {
            if (_batch[i] is { UserId: 0, ExternalUserId: { } id })
                _batch[i] = _batch[i] with { UserId = ids[id] };
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["pending"] = Pending, ["written"] = Written, ["spoolBytes"] = _spool.Bytes, ["spoolLimit"] = _spool.Limit };
        if (_lastError is not null)
            return Task.FromResult(HealthCheckResult.Degraded($"audit log writes are failing ({Pending} in the spool): {_lastError}", data: data));
        if (_spool.Bytes > _spool.Limit / 2)
            return Task.FromResult(HealthCheckResult.Degraded($"the audit spool is {_spool.Bytes} of {_spool.Limit} bytes", data: data));
        return Task.FromResult(HealthCheckResult.Healthy($"{Written} written, {Pending} in the spool", data));
    }
}
