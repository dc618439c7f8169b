using System.Security.Cryptography;
using Dapper;
using Npgsql;
using Recommender.Factorization;

namespace Recommender.Data.Models;

/// <summary>A stored model without its payload, as listed to admins.</summary>
public sealed record ModelSummary(int Version, string Algorithm, string Status, bool IsActive, DateTime CreatedAt, DateTime? ActivatedAt, string Options, string Metrics,
    string Loss, bool WeightedLambda, string? ActivatedVia = null, string? ActivatedBy = null, string? Decision = null)
{
    /// <summary>Who made it active last; null when it never was, or was before this was recorded.</summary>
    public ModelActivator? ActivatedWith => ActivatedVia is null ? null : new(ActivatedVia, ActivatedBy);

    /// <summary>What it minimised.</summary>
    public ModelLoss TrainedWith => new(Loss, WeightedLambda);
}

/// <summary>
/// Who makes a model active: a person (<see cref="Login"/>) on the models page or through the REST API, the command
/// line, or training itself when the model it trained passed its gate.
/// </summary>
public sealed record ModelActivator(string Via, string? Login = null)
{
    public const string Page = "page";
    public const string Api = "api";
    public const string CommandLine = "cli";
    public const string Training = "training";

    /// <summary>Training activating the model it trained, because it passed its gate.</summary>
    public static ModelActivator ByTraining { get; } = new(Training);

    /// <summary>Someone at the command line (<c>recommender models activate</c>), who has no login here.</summary>
    public static ModelActivator ByCommandLine { get; } = new(CommandLine);
}

/// <summary>The active model, loaded and checked.</summary>
public sealed record ActiveModel(int Version, MatrixFactorizationModel Model);

/// <summary>
/// Trained models in PostgreSQL: payload (the engine's binary format) with a SHA-256 checksum, options and metrics as
/// JSON, and exactly one active model. Activation notifies <see cref="ActivationChannel"/> so every service process
/// can swap to it.
/// </summary>
public sealed class ModelStore(NpgsqlDataSource dataSource)
{
    /// <summary>The LISTEN/NOTIFY channel that carries the version of a newly activated model.</summary>
    public const string ActivationChannel = "recommender_models";

    /// <summary>The training lock (see <see cref="TrainingLock"/>), or null when another process is training this database.</summary>
    public Task<TrainingLock?> TryLockTrainingAsync(CancellationToken ct = default) => TrainingLock.TryTakeAsync(dataSource, ct);

    /// <summary>Marks runs still recorded as 'training' failed; only while holding the training lock, which proves their process ended.</summary>
    public async Task FailInterruptedAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("""
            update models set status = 'failed', metrics = jsonb_build_object('error', 'interrupted: the process training it ended before it finished')
            where status = 'training'
            """, cancellationToken: ct));
    }

    /// <summary>Records a training run before it starts, so a crash leaves a visible 'training' row, never an active half-model.</summary>
    public async Task<int> BeginAsync(string algorithm, ModelLoss loss, string optionsJson, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<int>(new CommandDefinition(
            "insert into models (algorithm, loss, weighted_lambda, options) values (@algorithm, @Objective, @WeightedLambda, @optionsJson::jsonb) returning version",
            new { algorithm, loss.Objective, loss.WeightedLambda, optionsJson }, cancellationToken: ct));
    }

    /// <summary>Corrects what a run in progress trains with, once it knows (a run on activity rather than ratings).</summary>
    public async Task DescribeAsync(int version, string algorithm, ModelLoss loss, string optionsJson, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("""
            update models set algorithm = @algorithm, loss = @Objective, weighted_lambda = @WeightedLambda, options = @optionsJson::jsonb
            where version = @version and status = 'training'
            """, new { version, algorithm, loss.Objective, loss.WeightedLambda, optionsJson }, cancellationToken: ct));
    }

    /// <summary>
    /// Stores the trained payload; <paramref name="status"/> is 'ready' or 'rejected' (trained, but failed the quality
    /// gate), and <paramref name="decision"/> the gate's reason in words, as the models page shows it.
    /// </summary>
    public async Task CompleteAsync(int version, MatrixFactorizationModel model, string metricsJson, string status, string? decision = null, CancellationToken ct = default)
    {
        using var buffer = new MemoryStream();
        model.Save(buffer);
        var payload = buffer.ToArray();
        var checksum = Convert.ToHexStringLower(SHA256.HashData(payload));
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("""
            update models set payload = @payload, payload_checksum = @checksum, metrics = @metricsJson::jsonb, status = @status, decision = @decision
            where version = @version
            """, new { version, payload, checksum, metricsJson, status, decision }, cancellationToken: ct));
    }

    /// <summary>Replaces the settings recorded when the run began with those it trained with (after choosing them from data).</summary>
    public async Task RecordOptionsAsync(int version, string optionsJson, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(
            "update models set options = @optionsJson::jsonb where version = @version",
            new { version, optionsJson }, cancellationToken: ct));
    }

    public async Task FailAsync(int version, string reason, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(
            "update models set status = 'failed', metrics = jsonb_build_object('error', @reason::text) where version = @version",
            new { version, reason }, cancellationToken: ct));
    }

    /// <summary>
    /// Makes <paramref name="version"/> the one active model, atomically, recording when and by whom, and notifies
    /// listeners. False when it is not a ready model.
    /// </summary>
    public async Task<bool> ActivateAsync(int version, ModelActivator by, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var ready = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from models where version = @version and status = 'ready' and payload is not null)",
            new { version }, tx, cancellationToken: ct));
        if (!ready)
            return false;
        await conn.ExecuteAsync(new CommandDefinition("""
            update models set is_active = false where is_active and version <> @version;
            update models set is_active = true, activated_at = now(), activated_via = @via, activated_by = @login where version = @version;
            select pg_notify(@channel, @version::text);
            """, new { version, channel = ActivationChannel, via = by.Via, login = by.Login }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return true;
    }

    /// <summary>The active model's metrics, for the quality gate; null when no model is active.</summary>
    public async Task<(int Version, string Metrics)?> GetActiveMetricsAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<(int, string)?>(new CommandDefinition(
            "select version, metrics::text from models where is_active", cancellationToken: ct));
    }

    /// <summary>The active model's version on <paramref name="conn"/> (a connection kept open to listen); null when none is active.</summary>
    internal static async Task<int?> ActiveVersionAsync(NpgsqlConnection conn, CancellationToken ct) =>
        await conn.QuerySingleOrDefaultAsync<int?>(new CommandDefinition("select version from models where is_active", cancellationToken: ct));

    /// <summary>Loads the active model; a payload whose checksum does not match is refused with <see cref="InvalidDataException"/>.</summary>
    public async Task<ActiveModel?> LoadActiveAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<(int Version, byte[] Payload, string Checksum)?>(new CommandDefinition(
            "select version, payload, payload_checksum from models where is_active", cancellationToken: ct));
        return row is { } r ? Load(r.Version, r.Payload, r.Checksum) : null;
    }

    /// <summary>
    /// The most recently activated model other than <paramref name="exceptVersion"/> that loads and passes its checksum:
    /// what a process that starts while the active model is refused serves instead. Null when there is none.
    /// </summary>
    public async Task<ActiveModel?> LoadPreviousAsync(int exceptVersion, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var versions = await conn.QueryAsync<int>(new CommandDefinition("""
            select version from models
            where version <> @exceptVersion and status = 'ready' and payload is not null and activated_at is not null
            order by activated_at desc
            """, new { exceptVersion }, cancellationToken: ct));
        foreach (var version in versions)
        {
            var row = await conn.QuerySingleAsync<(byte[] Payload, string Checksum)>(new CommandDefinition(
                "select payload, payload_checksum from models where version = @version", new { version }, cancellationToken: ct));
            try
            {
                return Load(version, row.Payload, row.Checksum);
            }
            catch (InvalidDataException)
            {
                // Damaged as well: try the one activated before it.
            }
        }
        return null;
    }

    private static ActiveModel Load(int version, byte[] payload, string checksum)
    {
        if (Convert.ToHexStringLower(SHA256.HashData(payload)) != checksum)
            throw new InvalidDataException($"Model {version}: the stored payload does not match its checksum; it will not be served.");
        using var stream = new MemoryStream(payload, writable: false);
        return new ActiveModel(version, MatrixFactorizationModel.Load(stream));
    }

    public async Task<IReadOnlyList<ModelSummary>> ListAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<ModelSummary>(new CommandDefinition("""
            select version, algorithm, status, is_active, created_at, activated_at, options::text as options, metrics::text as metrics,
                   loss, weighted_lambda, activated_via, activated_by, decision
            from models order by version desc
            """, cancellationToken: ct));
        return rows.AsList();
    }
}
