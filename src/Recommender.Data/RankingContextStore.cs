using System.Globalization;
using Dapper;
using Npgsql;
using Recommender.Core;

namespace Recommender.Data;

/// <summary>What ranking a feed needs to know about one person.</summary>
/// <param name="UserId">The person's id.</param>
/// <param name="Settings">Their chosen objective and parameters; null when they never chose.</param>
/// <param name="Topics">Topics they said they care about (initial signals while their history is short).</param>
/// <param name="History">Their newest events, oldest first.</param>
/// <param name="Skills">Per-topic learning skill.</param>
public sealed record RankingContext(
    long UserId, UserSettings? Settings, IReadOnlyList<string> Topics, IReadOnlyList<Interaction> History, IReadOnlyDictionary<string, TopicSkill> Skills);

/// <summary>
/// Reads a <see cref="RankingContext"/> in one round trip: every feed needs settings, history and skills, and four
/// separate queries cost four times the latency and most of the database's time per feed.
/// </summary>
public sealed class RankingContextStore(NpgsqlDataSource dataSource)
{
    private static readonly string ById = Batch("id = @userId", "@userId");
    private static readonly string ByExternalId = Batch("external_id = @externalId", "(select id from users where external_id = @externalId)");

    /// <summary>The person's context, or null when there is no such person.</summary>
    public Task<RankingContext?> LoadAsync(long userId, int historyLength, CancellationToken ct = default) =>
        LoadAsync(ById, new { userId, limit = historyLength }, ct);

    /// <summary>The context of the platform's user <paramref name="externalId"/>, or null when the platform never sent them.</summary>
    public Task<RankingContext?> LoadByExternalIdAsync(string externalId, int historyLength, CancellationToken ct = default) =>
        LoadAsync(ByExternalId, new { externalId, limit = historyLength }, ct);

    private async Task<RankingContext?> LoadAsync(string sql, object args, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        // Npgsql sends the statements as one batch: one round trip.
        await using var grid = await conn.QueryMultipleAsync(new CommandDefinition(sql, args, cancellationToken: ct));
        var userId = await grid.ReadSingleOrDefaultAsync<long?>();
        var settings = await grid.ReadSingleOrDefaultAsync<SettingsStore.SettingsRow>();
        var history = await grid.ReadAsync<EventStore.HistoryRow>();
        var skills = await grid.ReadAsync<LearningStateStore.SkillRow>();
        if (userId is not { } id)
            return null;
        return new RankingContext(id, settings?.Settings, settings?.Topics ?? [], EventStore.ToHistory(id, history), LearningStateStore.ToSkills(skills));
    }

    private static string Batch(string findUser, string userId) =>
        string.Join(";\n",
            $"select id from users where {findUser}",
            string.Format(CultureInfo.InvariantCulture, SettingsStore.SettingsSql, userId),
            string.Format(CultureInfo.InvariantCulture, EventStore.HistorySql, userId),
            string.Format(CultureInfo.InvariantCulture, LearningStateStore.SkillsSql, userId));
}
