using System.Globalization;
using Microsoft.Extensions.Logging;
using Recommender.Core;
using Recommender.Core.Ranking;
using Recommender.Data;
using Recommender.Data.Models;
using Recommender.Factorization;

namespace Recommender.Serving;

/// <summary>What one request ranks with: a pipeline over one model and one catalog. Immutable; swapped whole.</summary>
public sealed record RankingSnapshot(RecommendationPipeline Pipeline, int? ModelVersion, DateTimeOffset LoadedAt);

/// <summary>
/// Holds the active model and the catalog in memory and swaps them atomically: a request reads <see cref="Current"/>
/// once and keeps that snapshot, so a model change under live traffic never mixes two models in one list.
/// A model that fails to load (a corrupted payload) is refused and the previous one keeps serving.
/// </summary>
public sealed class ServingState(CatalogStore catalogs, ModelStore models, ObjectiveRegistry objectives, ILogger<ServingState> logger,
    RerankerStore? rerankers = null)
{
    private readonly SemaphoreSlim _reloading = new(1, 1);
    private RankingSnapshot? _current;

    /// <summary>The snapshot to rank with; throws until the first load has happened (the host loads at start).</summary>
    public RankingSnapshot Current => Volatile.Read(ref _current) ?? throw new ServingNotReadyException();

    public bool IsLoaded => Volatile.Read(ref _current) is not null;

    /// <summary>The last model load failure, for health checks; null when the active model is being served.</summary>
    public string? ModelProblem { get; private set; }

    /// <summary>
    /// Internal ids for the platform's item ids: from the catalog in memory, and from the database for any it does not
    /// know yet (items added since the last reload), so ingestion reads the database only for what is new.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, long>> ResolveItemsAsync(IEnumerable<string> externalIds, CancellationToken ct = default)
    {
        var catalog = Volatile.Read(ref _current)?.Pipeline.Catalog;
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        var unknown = new HashSet<string>(StringComparer.Ordinal);
        foreach (var externalId in externalIds)
        {
            if (catalog is not null && catalog.TryGetId(externalId, out var id))
                result[externalId] = id;
            else
                unknown.Add(externalId);
        }
        if (unknown.Count > 0)
        {
            foreach (var (externalId, id) in await catalogs.ResolveItemsAsync(unknown, ct))
                result[externalId] = id;
        }
        return result;
    }

    /// <summary>The platform's own id for an item of the catalog in memory; null when it is not there (removed since, or nothing loaded yet).</summary>
    public string? ExternalIdOf(long itemId) =>
        Volatile.Read(ref _current)?.Pipeline.Catalog.TryGet(itemId, out var item) == true ? item.ExternalId : null;

    /// <summary>Reloads the catalog and, when the active version changed (or <paramref name="force"/>), the model.</summary>
    public async Task ReloadAsync(bool force = false, CancellationToken ct = default)
    {
        await _reloading.WaitAsync(ct);
        try
        {
            var previous = Volatile.Read(ref _current);
            var catalog = await catalogs.LoadRankingCatalogAsync(ct);
            var activeVersion = (await models.GetActiveMetricsAsync(ct))?.Version;
            var kept = (previous?.Pipeline.Model as MatrixFactorizationRelevanceModel)?.Inner;
            MatrixFactorizationModel? factors = null;
            int? version = null;
            if (activeVersion is not null && !force && previous?.ModelVersion == activeVersion && kept is not null)
            {
                (factors, version) = (kept, activeVersion);
            }
            else if (activeVersion is not null)
            {
                try
                {
                    var loaded = await models.LoadActiveAsync(ct);
                    (factors, version) = (loaded?.Model, loaded?.Version);
                    ModelProblem = null;
                }
                catch (InvalidDataException e)
                {
                    ModelProblem = e.Message;
                    logger.LogError(e, "Active model {Version} was refused; the previous model keeps serving", activeVersion);
                    (factors, version) = (kept, previous?.ModelVersion);
                    if (factors is null && await models.LoadPreviousAsync(activeVersion.Value, ct) is { } fallback)
                    {
                        // Started (or restarted) with a damaged active model: the one active before it is the previous model.
                        (factors, version) = (fallback.Model, fallback.Version);
                    }
                }
            }
            IRelevanceModel model = factors is null || version is null
                ? new PopularityModel(catalog)
                : new MatrixFactorizationRelevanceModel(factors, version.Value.ToString(CultureInfo.InvariantCulture),
                    catalog.Items.ToDictionary(i => i.Id, i => catalog.Popularity(i.Id)));
            var reranker = version is null ? null : await LoadRerankerAsync(previous?.Pipeline.Reranker, version.Value, ct);
            var snapshot = new RankingSnapshot(new RecommendationPipeline(model, catalog, objectives, reranker: reranker), version, DateTimeOffset.UtcNow);
            Volatile.Write(ref _current, snapshot);
            if (version != previous?.ModelVersion || reranker?.Version != previous?.Pipeline.Reranker?.Version)
                logger.LogInformation("Serving model {Version} ({Reranker}) over {Items} items", version?.ToString(CultureInfo.InvariantCulture) ?? "popularity",
                    reranker?.Name ?? "no re-ranker", catalog.Count);
        }
        finally
        {
            _reloading.Release();
        }
    }

    /// <summary>
    /// The active re-ranker when it was trained on <paramref name="modelVersion"/>'s scores; otherwise (none active, made
    /// for another model, or damaged) null, and feeds are ranked by MF alone.
    /// </summary>
    private async Task<Reranker?> LoadRerankerAsync(Reranker? kept, int modelVersion, CancellationToken ct)
    {
        if (rerankers is null)
            return null;
        var active = await rerankers.ActiveVersionAsync(ct);
        if (active is null)
            return null;
        if (kept?.Version == active && kept.ModelVersion == modelVersion)
            return kept;
        try
        {
            var loaded = await rerankers.LoadActiveAsync(ct);
            if (loaded is not null && loaded.ModelVersion != modelVersion)
            {
                logger.LogWarning("{Reranker} was trained on model {Trained}'s scores, not on served model {Served}'s; ranking by MF alone until it is retrained",
                    loaded.Name, loaded.ModelVersion, modelVersion);
                return null;
            }
            return loaded;
        }
        catch (InvalidDataException e)
        {
            logger.LogError(e, "The active re-ranker was refused; ranking by MF alone");
            return null;
        }
    }
}

/// <summary>The model and catalog are not loaded yet (start-up, or the database was away at start); callers answer 503.</summary>
public sealed class ServingNotReadyException() : InvalidOperationException("The serving state has not been loaded yet.");
