using System.Globalization;
using Dapper;
using Npgsql;
using Recommender.Core;

namespace Recommender.Data;

/// <summary>Per-(user, topic) learning skill and per-item difficulty, kept up to date from evidence events with <see cref="EloLearningModel"/>.</summary>
public sealed class LearningStateStore(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyDictionary<string, TopicSkill>> SkillsAsync(long userId, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<SkillRow>(new CommandDefinition(
            string.Format(CultureInfo.InvariantCulture, SkillsSql, "@userId"), new { userId }, cancellationToken: ct));
        return ToSkills(rows);
    }

    /// <summary>Per-topic skill of the user whose id is the SQL expression <c>{0}</c>.</summary>
    internal const string SkillsSql = """
        select t.name as topic, ls.skill, ls.evidence_count as evidence from learning_state ls join topics t on t.id = ls.topic_id
        where ls.user_id = {0}
        """;

    internal static Dictionary<string, TopicSkill> ToSkills(IEnumerable<SkillRow> rows) =>
        rows.ToDictionary(r => r.Topic, r => new TopicSkill(r.Topic, r.Skill, r.Evidence), StringComparer.Ordinal);

    internal sealed record SkillRow(string Topic, float Skill, int Evidence);

    /// <summary>Skill over time for one user, as (topic, skill, evidence, when) — the outcome check for learners.</summary>
    public async Task<IReadOnlyList<(string Topic, double Skill, int Evidence, DateTime UpdatedAt)>> SnapshotAsync(long userId, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(string, double, int, DateTime)>(new CommandDefinition("""
            select t.name, ls.skill::float8, ls.evidence_count, ls.updated_at from learning_state ls join topics t on t.id = ls.topic_id
            where ls.user_id = @userId order by t.name
            """, new { userId }, cancellationToken: ct));
        return rows.AsList();
    }

    /// <summary>
    /// Applies newly recorded evidence events, in time order, inside the caller's transaction: each moves the user's
    /// skill in every topic of the item and the item's difficulty (Elo). Non-evidence events are ignored.
    /// </summary>
    public static async Task ApplyEvidenceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<NewEvent> recorded, CancellationToken ct)
    {
        var evidence = recorded.Where(e => e.Kind.IsLearningEvidence()).OrderBy(e => e.OccurredAt).ThenBy(e => e.IdempotencyKey, StringComparer.Ordinal).ToList();
        if (evidence.Count == 0)
            return;
        var itemIds = evidence.Select(e => e.ItemId).Distinct().ToArray();
        var userIds = evidence.Select(e => e.UserId).Distinct().ToArray();
        var items = (await conn.QueryAsync<(long Id, short? Level, float? Difficulty, string[] Topics)>(new CommandDefinition("""
            select i.id, i.level, i.difficulty,
                   coalesce(array(select t.name from item_topics it join topics t on t.id = it.topic_id where it.item_id = i.id), '{}')
            from items i where i.id = any(@itemIds)
            for update of i
            """, new { itemIds }, tx, cancellationToken: ct))).ToDictionary(r => r.Id);
        var skills = (await conn.QueryAsync<(long UserId, string Topic, float Skill, int Evidence)>(new CommandDefinition("""
            select ls.user_id, t.name, ls.skill, ls.evidence_count from learning_state ls join topics t on t.id = ls.topic_id
            where ls.user_id = any(@userIds)
            for update of ls
            """, new { userIds }, tx, cancellationToken: ct)))
            .GroupBy(r => r.UserId)
            .ToDictionary(g => g.Key, g => g.ToDictionary(r => r.Topic, r => new TopicSkill(r.Topic, r.Skill, r.Evidence), StringComparer.Ordinal));

        var difficulty = items.ToDictionary(p => p.Key, p => (double?)p.Value.Difficulty ?? EloLearningModel.DifficultyFromLevel(p.Value.Level));
        var elo = EloLearningModel.Default;
        var changedKeys = new HashSet<(long, string)>();
        foreach (var e in evidence)
        {
            if (!items.TryGetValue(e.ItemId, out var item) || item.Topics.Length == 0)
                continue;
            var current = skills.TryGetValue(e.UserId, out var s) ? s : skills[e.UserId] = new Dictionary<string, TopicSkill>(StringComparer.Ordinal);
            var info = new ItemInfo(item.Id, "", "", item.Topics, item.Level, null, null, null, null);
            var step = elo.Observe(current, info, difficulty[e.ItemId], e.Kind);
            foreach (var updated in step.Skills)
            {
                current[updated.Topic] = updated;
                changedKeys.Add((e.UserId, updated.Topic));
            }
            difficulty[e.ItemId] = step.Difficulty;
        }

        var changed = changedKeys.Select(k => (Key: k.Item1, v: skills[k.Item1][k.Item2])).ToArray();
        await conn.ExecuteAsync(new CommandDefinition("""
            insert into learning_state (user_id, topic_id, skill, evidence_count, updated_at)
            select s.user_id, t.id, s.skill, s.evidence, now()
            from unnest(@users, @topics, @skillValues, @evidence) as s(user_id, topic, skill, evidence) join topics t on t.name = s.topic
            on conflict (user_id, topic_id) do update set skill = excluded.skill, evidence_count = excluded.evidence_count, updated_at = excluded.updated_at
            """, new
        {
            users = changed.Select(c => c.Key).ToArray(),
            topics = changed.Select(c => c.v.Topic).ToArray(),
            skillValues = changed.Select(c => (float)c.v.Rating).ToArray(),
            evidence = changed.Select(c => c.v.Evidence).ToArray(),
        }, tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition(
            "update items i set difficulty = d.difficulty from unnest(@ids, @values) as d(id, difficulty) where i.id = d.id",
            new { ids = difficulty.Keys.ToArray(), values = difficulty.Values.Select(v => (float)v).ToArray() }, tx, cancellationToken: ct));
    }
}
