using System.Threading.Channels;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>The audit buffer is full: the feed is refused rather than served without its record.</summary>
public sealed class AuditBacklogFullException() : Exception("The audit log cannot keep up; the feed was not served so that no list goes unrecorded.");

/// <summary>
/// Writes served lists off the request path: feeds enqueue, a background loop writes batches with binary COPY and
/// retries until the database takes them. Nothing is dropped silently: a full buffer refuses feeds (503), a failing
/// database shows in health and logs, and shutdown drains the buffer.
/// </summary>
public sealed class AuditLog(ServedListStore store, AccountStore accounts, IOptions<ServingOptions> options, ILogger<AuditLog> logger)
    : BackgroundService, IHealthCheck
{
    private const int BatchSize = 500;
    private readonly Channel<AuditRecord> _buffer = Channel.CreateBounded<AuditRecord>(
        new BoundedChannelOptions(options.Value.AuditBufferCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly List<AuditRecord> _batch = new(BatchSize);
    private long _pending;
    private long _written;
    private string? _lastError;

    /// <summary>Records waiting to be written.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    /// <summary>Records written since start.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <exception cref="AuditBacklogFullException">The buffer is full.</exception>
    public void Enqueue(AuditRecord record)
    {
        if (!_buffer.Writer.TryWrite(record))
            throw new AuditBacklogFullException();
        Interlocked.Increment(ref _pending);
    }

    /// <summary>Waits until everything enqueued so far is written (tests and shutdown use it).</summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        while (Pending > 0)
            await Task.Delay(10, ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _buffer.Reader.WaitToReadAsync(stoppingToken))
                await DrainAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        _buffer.Writer.TryComplete();
        // Shutdown: keep trying until the host's shutdown timeout, then say exactly what could not be written.
        try
        {
            while (Pending > 0)
                await DrainAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            logger.LogCritical("Shutting down with {Pending} served lists not written to the audit log: {Error}", Pending, _lastError);
        }
    }

    private async Task DrainAsync(CancellationToken ct)
    {
        while (_batch.Count < BatchSize && _buffer.Reader.TryRead(out var record))
            _batch.Add(record);
        if (_batch.Count == 0)
            return;
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                await ResolveExternalUsersAsync(ct);
                await store.WriteAsync(_batch, ct);
                Interlocked.Add(ref _pending, -_batch.Count);
                Interlocked.Add(ref _written, _batch.Count);
                _batch.Clear();
                if (_lastError is not null)
                    logger.LogInformation("Audit log writes recovered");
                _lastError = null;
                return;
            }
            catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation)
            {
                // The batch is one COPY, so a duplicate request id means an earlier attempt committed it and only the
                // acknowledgement was lost. Retrying would fail forever.
                logger.LogWarning("Audit batch of {Count} was already written by an earlier attempt", _batch.Count);
                Interlocked.Add(ref _pending, -_batch.Count);
                Interlocked.Add(ref _written, _batch.Count);
                _batch.Clear();
                return;
            }
            catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.ForeignKeyViolation)
            {
                // Someone deleted their account between seeing a feed and its record being written: their data must go,
                // and the rest of the batch must not be held hostage by it.
                var existing = await store.ExistingUsersAsync([.. _batch.Select(r => r.UserId).Distinct()], ct);
                var dropped = _batch.RemoveAll(r => !existing.Contains(r.UserId));
                Interlocked.Add(ref _pending, -dropped);
                logger.LogInformation("Dropped {Count} served lists of deleted accounts from the audit batch", dropped);
                if (_batch.Count == 0)
                    return;
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
            {
                if (_lastError is null)
                    logger.LogError(e, "Audit log write failed; {Pending} served lists are buffered and will be retried", Pending);
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
        var ids = await accounts.EnsureExternalAsync(external, ct);
        for (var i = 0; i < _batch.Count; i++)
        {
            if (_batch[i] is { UserId: 0, ExternalUserId: { } id })
                _batch[i] = _batch[i] with { UserId = ids[id] };
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["pending"] = Pending, ["written"] = Written };
        if (_lastError is not null)
            return Task.FromResult(HealthCheckResult.Degraded($"audit log writes are failing ({Pending} buffered): {_lastError}", data: data));
        if (Pending > options.Value.AuditBufferCapacity / 2)
            return Task.FromResult(HealthCheckResult.Degraded($"audit log backlog is {Pending}", data: data));
        return Task.FromResult(HealthCheckResult.Healthy($"{Written} written, {Pending} buffered", data));
    }
}
