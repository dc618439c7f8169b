using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Recommender.Core;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>One item of a feed page, with what a person needs to judge it and why it is there.</summary>
public sealed record FeedItem(
    int Rank,
    long ItemId,
    string Title,
    IReadOnlyList<string> Topics,
    string? Source,
    double? Credibility,
    int? Level,
    double? Stance,
    DateTimeOffset? PublishedAt,
    double Score,
    IReadOnlyDictionary<string, double> Components,
    IReadOnlyList<string> Reasons);

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

/// <summary>
/// Builds feeds: the user's settings, history and learning state, the shared pipeline, and an audit record for every
/// page served. The same code serves the REST API and the web app.
/// </summary>
public sealed class FeedService(
    ServingState state,
    SettingsStore settings,
    EventStore events,
    LearningStateStore learning,
    AuditLog audit,
    IOptions<ServingOptions> options)
{
    private readonly ServingOptions _options = options.Value;

    /// <summary>One page of the user's feed under their chosen objective; recorded in the audit log before it is returned.</summary>
    /// <exception cref="FeedRequestException">A bad page size or cursor.</exception>
    /// <exception cref="AuditBacklogFullException">The audit log cannot take the record.</exception>
    public async Task<Feed> GetFeedAsync(long userId, int? k = null, string? cursor = null, CancellationToken ct = default)
    {
        var size = k ?? _options.DefaultFeedSize;
        if (size < 1 || size > _options.MaxFeedSize)
            throw new FeedRequestException("k", $"k must be between 1 and {_options.MaxFeedSize}.");
        var (seed, offset) = cursor is null ? (RandomNumberGenerator.GetInt32(int.MaxValue), 0) : DecodeCursor(cursor);
        if (offset + size > _options.MaxFeedDepth)
            throw new FeedRequestException("cursor", $"The feed goes {_options.MaxFeedDepth} items deep; this page would pass that.");

        var (objectiveId, parameters) = await ChosenObjectiveAsync(userId, ct);
        var snapshot = state.Current;
        var list = await RankAsync(snapshot, userId, objectiveId, parameters, offset + size, seed, ct);
        var page = list with { Items = [.. list.Items.Skip(offset)] };
        var requestId = Guid.CreateVersion7();
        audit.Enqueue(new AuditRecord(requestId, userId, page));

        var objective = snapshot.Pipeline.Objectives[page.ObjectiveId];
        var next = list.Items.Count == offset + size && offset + size < _options.MaxFeedDepth ? EncodeCursor(seed, offset + size) : null;
        return new Feed(requestId, objective.Id, objective.DisplayName, objective.Version, page.ModelVersion, Describe(snapshot, page), next);
    }

    /// <summary>What an objective would show the user now, without changing their settings or the audit log (the settings page's preview).</summary>
    public async Task<IReadOnlyList<FeedItem>> PreviewAsync(long userId, string objectiveId, ObjectiveParameters parameters, int k, CancellationToken ct = default)
    {
        var snapshot = state.Current;
        var list = await RankAsync(snapshot, userId, objectiveId, parameters, k, seed: 0, ct);
        return Describe(snapshot, list);
    }

    /// <summary>The user's objective and parameters, falling back to the default objective when none is chosen or the chosen one is gone.</summary>
    public async Task<(string ObjectiveId, ObjectiveParameters Parameters)> ChosenObjectiveAsync(long userId, CancellationToken ct = default)
    {
        var saved = await settings.GetAsync(userId, ct);
        if (saved is not null && state.Current.Pipeline.Objectives.TryGet(saved.ObjectiveId, out _))
            return (saved.ObjectiveId, ObjectiveParameters.FromJson(saved.ParametersJson));
        return (_options.DefaultObjective, ObjectiveParameters.Empty);
    }

    private async Task<ServedList> RankAsync(RankingSnapshot snapshot, long userId, string objectiveId, ObjectiveParameters parameters, int k, int seed, CancellationToken ct)
    {
        var history = await events.HistoryAsync(userId, _options.HistoryLength, ct);
        var skills = await learning.SkillsAsync(userId, ct);
        // Chosen topics matter only while history is short, so only then are they read.
        var topics = history.Count < snapshot.Pipeline.Options.InitialSignalsUntil ? await settings.TopicsAsync(userId, ct) : null;
        var user = new UserState(userId, history, skills);
        return snapshot.Pipeline.Recommend(new RecommendationRequest(user, objectiveId, parameters, k, seed, DateTimeOffset.UtcNow, InterestTopics: topics));
    }

    private static List<FeedItem> Describe(RankingSnapshot snapshot, ServedList list)
    {
        var catalog = snapshot.Pipeline.Catalog;
        return [.. list.Items.Select(i =>
        {
            var item = catalog[i.ItemId];
            return new FeedItem(i.Rank, i.ItemId, item.Title, item.Topics, item.Source, item.Credibility, item.Level, item.Stance,
                item.PublishedAt, i.Score, i.Components, i.Reasons);
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
