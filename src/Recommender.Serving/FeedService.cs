using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Recommender.Core;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>
/// One item of a feed page, with what a person needs to judge it and why it is there. <see cref="ExternalId"/> is the
/// id the platform gave the item, so a platform can map results back to its own catalog.
/// </summary>
public sealed record FeedItem(
    int Rank,
    long ItemId,
    string ExternalId,
    string Title,
    IReadOnlyList<string> Topics,
    string? Source,
    double? Credibility,
    int? Level,
    double? Stance,
    DateTimeOffset? PublishedAt,
    double Score,
    IReadOnlyDictionary<string, double> Components,
    IReadOnlyList<string> Reasons,
    ItemAttribution? Attribution = null,
    ItemProvenance? Provenance = null);

/// <summary>A feed page. <see cref="RequestId"/> names its audit record; <see cref="NextCursor"/> fetches the next page of the same ranking.</summary>
public sealed record Feed(
    Guid RequestId,
    string ObjectiveId,
    string ObjectiveName,
    string ObjectiveVersion,
    string ModelVersion,
    IReadOnlyList<FeedItem> Items,
    string? NextCursor);

/// <summary>A request the caller got wrong; <see cref="Field"/> names what to fix.</summary>
public sealed class FeedRequestException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>A feed asked for someone who does not exist (e.g. an account deleted while its cookie lives on).</summary>
public sealed class UnknownUserException(long userId) : Exception($"There is no user {userId}.")
{
    public long UserId { get; } = userId;
}

/// <summary>
/// Builds feeds: the user's settings, history and learning state (one round trip), the shared pipeline, and an audit
/// record for every page served. The same code serves the REST API and the web app.
/// While PostgreSQL is unreachable a feed is still served from the in-memory model and catalog, but without personal
/// data (which lives in the database): the default objective ranks as for a newcomer, every item says so in its
/// reasons, health reports it, and the audit record waits in the spool until the database is back.
/// </summary>
public sealed class FeedService(
    ServingState state,
    SettingsStore settings,
    RankingContextStore contexts,
    AccountStore accounts,
    AuditLog audit,
    ServedListStore served,
    RecommenderMetrics metrics,
    IOptions<ServingOptions> options)
{
    /// <summary>The reason every item of a feed served without the database carries first.</summary>
    public const string WithoutDatabaseReason = "Not personalised: your history and settings could not be read just now.";

    private readonly ServingOptions _options = options.Value;

    /// <summary>One page of the user's feed under their chosen objective; recorded in the audit log before it is returned.</summary>
    /// <exception cref="FeedRequestException">A bad page size or cursor.</exception>
    /// <exception cref="UnknownUserException">No such user.</exception>
    /// <exception cref="AuditBacklogFullException">The audit log cannot take the record.</exception>
    public async Task<Feed> GetFeedAsync(long userId, int? k = null, string? cursor = null, CancellationToken ct = default)
    {
        using var span = RecommenderMetrics.ActivitySource.StartActivity("feed");
        var page = ParsePage(k, cursor);
        RankingContext? context;
        try
        {
            context = await contexts.LoadAsync(userId, _options.HistoryLength, ct);
        }
        catch (Exception e) when (Database.IsUnavailable(e))
        {
            return await ServeWithoutDatabaseAsync(userId, null, page);
        }
        return await ServeAsync(context ?? throw new UnknownUserException(userId), page);
    }

    /// <summary>
    /// What each of <paramref name="topics"/> holds for the user (<see cref="TopicSupply"/>), read from their history and
    /// skills as a feed reads them, so the feed can say why a chosen topic has little on the page. Empty for no such user.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, TopicSupply>> TopicSupplyAsync(long userId, IReadOnlyList<string> topics, double credibilityFloor,
        double? masteredSuccess, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(topics);
        if (await contexts.LoadAsync(userId, _options.HistoryLength, ct) is not { } context)
            return new Dictionary<string, TopicSupply>();
        var user = new UserState(context.UserId, context.History, context.Skills);
        var catalog = state.Current.Pipeline.Catalog;
        return topics.Distinct(StringComparer.Ordinal).ToDictionary(t => t, t => TopicSupply.Of(catalog, user, t, credibilityFloor, masteredSuccess), StringComparer.Ordinal);
    }

    /// <summary>
    /// The page <paramref name="requestId"/> as it was served to the user, to show again after a feedback click: the
    /// reader stays on the list they were reading, and the click counts from their next page on. Null when the list is
    /// not theirs, not yet written from the audit spool to the database, or its goal is gone; the caller then serves a
    /// new page. Nothing new is served, so nothing new is recorded. Items removed from the catalog since are left out.
    /// </summary>
    public async Task<Feed?> RecordedFeedAsync(long userId, Guid requestId, CancellationToken ct = default)
    {
        var row = await served.GetAsync(requestId, userId, ct);
        var snapshot = state.Current;
        if (row is null || !snapshot.Pipeline.Objectives.TryGet(row.ObjectiveId, out var objective))
            return null;
        var items = row.ReadItems();
        // Ranks are places in the whole ranking, so the page's first rank says how deep it was; the next page follows it.
        var end = items.Count == 0 ? 0 : items[^1].Rank;
        var next = items.Count > 0 && end < _options.MaxFeedDepth ? EncodeCursor(row.Seed, end) : null;
        return new Feed(row.RequestId, objective.Id, objective.DisplayName, row.ObjectiveVersion, row.ModelVersion,
            Describe(snapshot, items.Where(i => snapshot.Pipeline.Catalog.Contains(i.ItemId))), next);
    }

    /// <summary>
    /// A feed for the platform's user <paramref name="externalId"/>, who is created on first sight like in events: the
    /// served list is recorded as theirs, and the audit record needs someone to belong to.
    /// </summary>
    /// <exception cref="FeedRequestException">A bad page size or cursor.</exception>
    /// <exception cref="AuditBacklogFullException">The audit log cannot take the record.</exception>
    public async Task<Feed> GetPlatformFeedAsync(string externalId, int? k = null, string? cursor = null, CancellationToken ct = default)
    {
        using var span = RecommenderMetrics.ActivitySource.StartActivity("feed");
        var page = ParsePage(k, cursor);
        RankingContext? context;
        try
        {
            context = await contexts.LoadByExternalIdAsync(externalId, _options.HistoryLength, ct)
                ?? await contexts.LoadAsync(await accounts.EnsureExternalAsync(externalId, ct), _options.HistoryLength, ct);
        }
        catch (Exception e) when (Database.IsUnavailable(e))
        {
            // The platform's id cannot be mapped to ours now; the audit writer maps it (creating the user) once it can.
            return await ServeWithoutDatabaseAsync(0, externalId, page);
        }
        return await ServeAsync(context ?? throw new InvalidOperationException($"The user '{externalId}' was created but cannot be read back."), page);
    }

    /// <summary>What an objective would show the user now, without changing their settings or the audit log (the settings page's preview).</summary>
    public async Task<IReadOnlyList<FeedItem>> PreviewAsync(long userId, string objectiveId, ObjectiveParameters parameters, int k, CancellationToken ct = default) =>
        (await PreviewerAsync(userId, ct))(objectiveId, parameters, k);

    /// <summary>
    /// Loads the person's context once and returns a ranker over it: previews of any goal with any settings, as the
    /// person changes them, without reading the database again. Nothing it ranks is served or audited.
    /// </summary>
    public async Task<Func<string, ObjectiveParameters, int, IReadOnlyList<FeedItem>>> PreviewerAsync(long userId, CancellationToken ct = default)
    {
        var context = await contexts.LoadAsync(userId, _options.HistoryLength, ct) ?? throw new UnknownUserException(userId);
        return (objectiveId, parameters, k) =>
        {
            var snapshot = state.Current;
            return Describe(snapshot, Rank(snapshot, context, objectiveId, parameters, k, seed: 0, DateTimeOffset.UtcNow).Items);
        };
    }

    /// <summary>
    /// The list the person of <paramref name="context"/> is served at <paramref name="now"/> under their chosen goal,
    /// ranked as a feed is, but neither recorded nor described: for a caller that writes the audit record itself with
    /// that time (the demo's simulated readers, whose history is served in the past).
    /// </summary>
    public ServedList RankAt(RankingContext context, DateTimeOffset now, int k, int seed)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (objectiveId, parameters) = Chosen(context.Settings);
        return Rank(state.Current, context, objectiveId, parameters, k, seed, now);
    }

    /// <summary>The user's objective and parameters, falling back to the default objective when none is chosen or the chosen one is gone.</summary>
    public async Task<(string ObjectiveId, ObjectiveParameters Parameters)> ChosenObjectiveAsync(long userId, CancellationToken ct = default) =>
        Chosen(await settings.GetAsync(userId, ct));

    /// <summary>The objective and parameters of someone who has chosen none.</summary>
    public (string ObjectiveId, ObjectiveParameters Parameters) DefaultObjective => Chosen(null);

    private (string ObjectiveId, ObjectiveParameters Parameters) Chosen(UserSettings? saved) =>
        saved is not null && state.Current.Pipeline.Objectives.TryGet(saved.ObjectiveId, out _)
            ? (saved.ObjectiveId, ObjectiveParameters.FromJson(saved.ParametersJson))
            : (_options.DefaultObjective, ObjectiveParameters.Empty);

    private (int Seed, int Offset, int Size) ParsePage(int? k, string? cursor)
    {
        var size = k ?? _options.DefaultFeedSize;
        if (size < 1 || size > _options.MaxFeedSize)
            throw new FeedRequestException("k", $"k must be between 1 and {_options.MaxFeedSize}.");
        var (seed, offset) = cursor is null ? (RandomNumberGenerator.GetInt32(int.MaxValue), 0) : DecodeCursor(cursor);
        // Compared without adding, so an offset near int.MaxValue cannot wrap round and pass.
        if (offset > _options.MaxFeedDepth - size)
            throw new FeedRequestException("cursor", $"The feed goes {_options.MaxFeedDepth} items deep; this page would pass that.");
        return (seed, offset, size);
    }

    private Task<Feed> ServeAsync(RankingContext context, (int Seed, int Offset, int Size) page)
    {
        var (objectiveId, parameters) = Chosen(context.Settings);
        var snapshot = state.Current;
        var (seed, offset, size) = page;
        var list = Timed(objectiveId, () => Rank(snapshot, context, objectiveId, parameters, offset + size, seed, DateTimeOffset.UtcNow));
        return RecordAsync(snapshot, list, context.UserId, null, page, withoutDatabase: false);
    }

    private Task<Feed> ServeWithoutDatabaseAsync(long userId, string? externalId, (int Seed, int Offset, int Size) page)
    {
        var snapshot = state.Current;
        var (seed, offset, size) = page;
        var list = Timed(_options.DefaultObjective, () => snapshot.Pipeline.Recommend(new RecommendationRequest(
            UserState.Anonymous, _options.DefaultObjective, ObjectiveParameters.Empty, offset + size, seed, DateTimeOffset.UtcNow)));
        list = list with { Items = [.. list.Items.Select(i => i with { Reasons = [WithoutDatabaseReason, .. i.Reasons.Take(1)] })] };
        return RecordAsync(snapshot, list, userId, externalId, page, withoutDatabase: true);
    }

    private async Task<Feed> RecordAsync(RankingSnapshot snapshot, ServedList list, long userId, string? externalId, (int Seed, int Offset, int Size) page, bool withoutDatabase)
    {
        var (seed, offset, size) = page;
        var shown = list with { Items = [.. list.Items.Skip(offset)] };
        var requestId = Guid.CreateVersion7();
        Activity.Current?.SetTag("recommender.request_id", requestId.ToString());
        using (RecommenderMetrics.ActivitySource.StartActivity("audit.record"))
        {
            // On disk before the feed leaves: a list that cannot be recorded is not served.
            await audit.RecordAsync(new AuditRecord(requestId, userId, shown, externalId));
        }
        metrics.FeedServed(shown.ObjectiveId, withoutDatabase);

        var objective = snapshot.Pipeline.Objectives[shown.ObjectiveId];
        var next = list.Items.Count == offset + size && offset + size < _options.MaxFeedDepth ? EncodeCursor(seed, offset + size) : null;
        return new Feed(requestId, objective.Id, objective.DisplayName, objective.Version, shown.ModelVersion, Describe(snapshot, shown.Items), next);
    }

    /// <summary>Ranks in a span of its own and records how long it took; previews are not timed, they serve nothing.</summary>
    private ServedList Timed(string objectiveId, Func<ServedList> rank)
    {
        using var span = RecommenderMetrics.ActivitySource.StartActivity("rank");
        span?.SetTag("recommender.objective", objectiveId);
        var started = Stopwatch.GetTimestamp();
        var list = rank();
        metrics.Ranked(Stopwatch.GetElapsedTime(started), objectiveId);
        span?.SetTag("recommender.items", list.Items.Count);
        return list;
    }

    private static ServedList Rank(RankingSnapshot snapshot, RankingContext context, string objectiveId, ObjectiveParameters parameters, int k, int seed,
        DateTimeOffset now)
    {
        // Chosen topics matter only while history is short.
        var topics = context.History.Count < snapshot.Pipeline.Options.InitialSignalsUntil ? context.Topics : null;
        var user = new UserState(context.UserId, context.History, context.Skills);
        return snapshot.Pipeline.Recommend(new RecommendationRequest(user, objectiveId, parameters, k, seed, now, InterestTopics: topics,
            ReaderTopics: context.Topics));
    }

    private static List<FeedItem> Describe(RankingSnapshot snapshot, IEnumerable<ServedItem> items)
    {
        var catalog = snapshot.Pipeline.Catalog;
        return [.. items.Select(i =>
        {
            var item = catalog[i.ItemId];
            return new FeedItem(i.Rank, i.ItemId, item.ExternalId, item.Title, item.Topics, item.Source, item.Credibility, item.Level, item.Stance,
                item.PublishedAt, i.Score, i.Components, i.Reasons, item.Attribution, item.Provenance ?? ItemProvenance.Unsigned);
        })];
    }

    // The cursor carries the seed, so the next page continues the same ranking rather than a reshuffled one.
    private static string EncodeCursor(int seed, int offset) =>
        Base64Url.EncodeToString(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{seed}:{offset}")));

    private static (int Seed, int Offset) DecodeCursor(string cursor)
    {
        try
        {
            var parts = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(cursor)).Split(':');
            if (parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var seed) &&
                int.TryParse(parts[1], CultureInfo.InvariantCulture, out var offset) && seed >= 0 && offset >= 0)
                return (seed, offset);
        }
        catch (FormatException)
        {
        }
        throw new FeedRequestException("cursor", "The cursor is not one this service issued.");
    }
}
