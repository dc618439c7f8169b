using System.Globalization;
using System.Text.Json;
using Dapper;
using Npgsql;
using Recommender.Core;

namespace Recommender.Data;

/// <summary>Evidence events in <see cref="EvidenceEvent.Order"/>, their items, and the priors in use: what a skill replay reads.</summary>
public sealed record EvidenceHistory(IReadOnlyList<EvidenceEvent> Events, IReadOnlyDictionary<long, ItemInfo> Items, SkillPriors Priors);

/// <summary>Per-(user, topic) learning skill, each user's general ability and per-item difficulty, kept up to date from evidence events with <see cref="SkillModel"/>.</summary>
public sealed class LearningStateStore(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyDictionary<string, TopicSkill>> SkillsAsync(long userId, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<SkillRow>(new CommandDefinition(
            string.Format(CultureInfo.InvariantCulture, SkillsSql, "@userId"), new { userId }, cancellationToken: ct));
        return ToSkills(rows);
    }

    /// <summary>Per-topic skill of the user whose id is the SQL expression <c>{0}</c>, and their general ability under <see cref="SkillModel.GeneralAbility"/>.</summary>
    internal const string SkillsSql = """
        select t.name as topic, ls.skill, ls.evidence_count as evidence from learning_state ls join topics t on t.id = ls.topic_id
        where ls.user_id = {0}
        union all
        select '' as topic, la.ability, la.evidence_count from learner_ability la where la.user_id = {0}
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

    /// <summary>The fitted priors in use, or the defaults when <c>skill rebuild</c> has not run yet.</summary>
    public static async Task<SkillPriors> PriorsAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, CancellationToken ct)
    {
        var json = await conn.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "select priors::text from skill_priors", transaction: tx, cancellationToken: ct));
        return json is null ? SkillPriors.Default : JsonSerializer.Deserialize<SkillPriors>(json) ?? SkillPriors.Default;
    }

    /// <summary>
    /// Applies newly recorded evidence events inside the caller's transaction through <see cref="SkillModel"/>, in
    /// <see cref="EvidenceEvent.Order"/>: each moves the user's skill in every topic of the item and the item's
    /// difficulty. Non-evidence events are ignored.
    /// </summary>
    public static Task ApplyEvidenceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<NewEvent> recorded, CancellationToken ct) =>
        ApplyAsync(conn, tx, [.. recorded.Where(e => e.Kind.IsLearningEvidence())
            .Select(e => new EvidenceEvent(e.UserId, e.ItemId, e.Kind, e.OccurredAt, e.IdempotencyKey))], ct);

    /// <summary>
    /// After an import's merge, inside its transaction: applies the evidence events that the import itself inserted
    /// (rows written by this transaction), exactly as live ingest would have.
    /// </summary>
    public static async Task ApplyImportedEvidenceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        var rows = await conn.QueryAsync<(long UserId, long ItemId, string Kind, DateTime At, string Key)>(new CommandDefinition("""
            select e.user_id, e.item_id, e.kind, e.occurred_at, e.idempotency_key
            from stg_events s
            join users u on u.external_id = s.user_external_id
            join events e on e.user_id = u.id and e.idempotency_key = s.idempotency_key
            where e.xmin = pg_current_xact_id()::xid and e.kind = any(@EvidenceKinds)
            """, new { EvidenceKinds }, tx, commandTimeout: 0, cancellationToken: ct));
        await ApplyAsync(conn, tx, [.. rows.Select(ToEvidence)], ct);
    }

    private static readonly string[] EvidenceKinds = [.. Enum.GetValues<EventKind>().Where(k => k.IsLearningEvidence()).Select(k => k.ToName())];

    private static EvidenceEvent ToEvidence((long UserId, long ItemId, string Kind, DateTime At, string Key) r) =>
        new(r.UserId, r.ItemId, EventKinds.TryParse(r.Kind, out var kind) ? kind : EventKind.View, new DateTimeOffset(r.At, TimeSpan.Zero), r.Key);

    private static async Task ApplyAsync(NpgsqlConnection conn, NpgsqlTransaction tx, List<EvidenceEvent> evidence, CancellationToken ct)
    {
        if (evidence.Count == 0)
            return;
        evidence.Sort(EvidenceEvent.Order);
        var itemIds = evidence.Select(e => e.ItemId).Distinct().ToArray();
        var userIds = evidence.Select(e => e.UserId).Distinct().ToArray();
        var rows = (await conn.QueryAsync<(long Id, short? Level, float? Difficulty, int Evidence, string[] Topics)>(new CommandDefinition("""
            select i.id, i.level, i.difficulty, i.difficulty_evidence,
                   coalesce(array(select t.name from item_topics it join topics t on t.id = it.topic_id where it.item_id = i.id order by t.name), '{}')
            from items i where i.id = any(@itemIds)
            order by i.id
            for update of i
            """, new { itemIds }, tx, cancellationToken: ct))).AsList();
        var items = rows.ToDictionary(r => r.Id, r => new ItemInfo(r.Id, "", "", r.Topics, r.Level, null, null, null, null));
        var replay = new SkillReplay(new SkillModel(await PriorsAsync(conn, tx, ct)), items);
        foreach (var r in rows.Where(r => r.Difficulty is not null))
            replay.Items[r.Id] = new ItemDifficulty(r.Difficulty!.Value, r.Evidence);
        // The learners' topics and general ability in one round trip.
        await using (var grid = await conn.QueryMultipleAsync(new CommandDefinition("""
            select ls.user_id, t.name, ls.skill, ls.evidence_count from learning_state ls join topics t on t.id = ls.topic_id
            where ls.user_id = any(@userIds)
            order by ls.user_id, ls.topic_id
            for update of ls;
            select user_id, '' as topic, ability, evidence_count from learner_ability where user_id = any(@userIds) order by user_id for update;
            """, new { userIds }, tx, cancellationToken: ct)))
        {
            for (var part = 0; part < 2; part++)
            {
                foreach (var s in await grid.ReadAsync<(long UserId, string Topic, float Skill, int Evidence)>())
                    replay.Learner(s.UserId)[s.Topic] = new TopicSkill(s.Topic, s.Skill, s.Evidence);
            }
        }

        var changedSkills = new HashSet<(long, string)>();
        var changedItems = new HashSet<long>();
        foreach (var e in evidence)
        {
            var step = replay.Apply(e.UserId, e.ItemId, e.Kind);
            foreach (var s in step.Skills)
                changedSkills.Add((e.UserId, s.Topic));
            if (step.Skills.Count > 0)
                changedItems.Add(e.ItemId);
        }
        await WriteAsync(conn, tx, replay, changedSkills, changedItems, ct);
    }

    /// <summary>
    /// Replays one learner's skill from their stored evidence events, inside the caller's transaction: what is left after
    /// one of their events was taken back (the feedback undo). Items keep their difficulty, which already counts these
    /// answers (as after <see cref="RebuildAsync"/>), so only the learner moves; the item's share of the retracted event
    /// stays until the next rebuild.
    /// </summary>
    public static async Task ReplayLearnerAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long userId, CancellationToken ct)
    {
        // Live ingest for this learner waits on these row locks.
        await conn.ExecuteAsync(new CommandDefinition("""
            select 1 from learning_state where user_id = @userId for update;
            select 1 from learner_ability where user_id = @userId for update;
            """, new { userId }, tx, cancellationToken: ct));
        var events = (await conn.QueryAsync<(long UserId, long ItemId, string Kind, DateTime At, string Key)>(new CommandDefinition("""
            select user_id, item_id, kind, occurred_at, idempotency_key from events where user_id = @userId and kind = any(@EvidenceKinds)
            """, new { userId, EvidenceKinds }, tx, cancellationToken: ct))).Select(ToEvidence).ToList();
        events.Sort(EvidenceEvent.Order);
        var ids = events.Select(e => e.ItemId).Distinct().ToArray();
        var items = await EvidenceItemsAsync(conn, tx, ids, null, ct);
        var replay = new SkillReplay(new SkillModel(await PriorsAsync(conn, tx, ct)), items);
        foreach (var (id, difficulty, evidence) in await conn.QueryAsync<(long, float, int)>(new CommandDefinition(
            "select id, difficulty, difficulty_evidence from items where id = any(@ids) and difficulty is not null", new { ids }, tx, cancellationToken: ct)))
            replay.Items[id] = new ItemDifficulty(difficulty, evidence);
        foreach (var e in events)
            replay.Apply(e.UserId, e.ItemId, e.Kind, calibrated: true);
        await conn.ExecuteAsync(new CommandDefinition("""
            delete from learning_state where user_id = @userId;
            delete from learner_ability where user_id = @userId;
            """, new { userId }, tx, cancellationToken: ct));
        await WriteAsync(conn, tx, replay, [.. replay.Learner(userId).Keys.Select(t => (userId, t))], [], ct);
    }

    private static async Task WriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, SkillReplay replay,
        IReadOnlyCollection<(long UserId, string Topic)> skills, IReadOnlyCollection<long> items, CancellationToken ct)
    {
        var changed = skills.Where(k => k.Topic != SkillModel.GeneralAbility).Select(k => (k.UserId, Skill: replay.Learners[k.UserId][k.Topic])).ToArray();
        var general = skills.Where(k => k.Topic == SkillModel.GeneralAbility).Select(k => (k.UserId, Ability: replay.Learners[k.UserId][k.Topic])).ToArray();
        await conn.ExecuteAsync(new CommandDefinition("""
            insert into learning_state (user_id, topic_id, skill, evidence_count, updated_at)
            select s.user_id, t.id, s.skill, s.evidence, now()
            from unnest(@users, @topics, @skillValues, @evidence) as s(user_id, topic, skill, evidence) join topics t on t.name = s.topic
            on conflict (user_id, topic_id) do update set skill = excluded.skill, evidence_count = excluded.evidence_count, updated_at = excluded.updated_at;
            insert into learner_ability (user_id, ability, evidence_count, updated_at)
            select a.user_id, a.ability, a.evidence, now() from unnest(@abilityUsers, @abilities, @abilityEvidence) as a(user_id, ability, evidence)
            on conflict (user_id) do update set ability = excluded.ability, evidence_count = excluded.evidence_count, updated_at = excluded.updated_at;
            """, new
        {
            users = changed.Select(c => c.UserId).ToArray(),
            topics = changed.Select(c => c.Skill.Topic).ToArray(),
            skillValues = changed.Select(c => (float)c.Skill.Rating).ToArray(),
            evidence = changed.Select(c => c.Skill.Evidence).ToArray(),
            abilityUsers = general.Select(g => g.UserId).ToArray(),
            abilities = general.Select(g => (float)g.Ability.Rating).ToArray(),
            abilityEvidence = general.Select(g => g.Ability.Evidence).ToArray(),
        }, tx, commandTimeout: 0, cancellationToken: ct));
        var ids = items.ToArray();
        await conn.ExecuteAsync(new CommandDefinition("""
            update items i set difficulty = d.difficulty, difficulty_evidence = d.evidence
            from unnest(@ids, @values, @counts) as d(id, difficulty, evidence) where i.id = d.id
            """, new
        {
            ids,
            values = ids.Select(id => (float)replay.Items[id].Rating).ToArray(),
            counts = ids.Select(id => replay.Items[id].Evidence).ToArray(),
        }, tx, commandTimeout: 0, cancellationToken: ct));
    }

    /// <summary>What <see cref="RebuildAsync"/> did.</summary>
    public sealed record RebuildResult(long Events, int Learners, int TopicSkills, int Items, SkillPriors Priors);

    /// <summary>
    /// Rebuilds all learner and item state from the stored evidence events in one transaction: fits
    /// <see cref="SkillPriors"/> to them, forgets the current state and replays every event in
    /// <see cref="EvidenceEvent.Order"/> through the same <see cref="SkillModel"/> live ingest uses. The result depends
    /// only on the stored events, so running it twice changes nothing.
    /// </summary>
    public async Task<RebuildResult> RebuildAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Live ingest waits on these locks, so no event slips in between the read and the write.
        await conn.ExecuteAsync(new CommandDefinition("lock table learning_state, learner_ability, items in share row exclusive mode", transaction: tx, cancellationToken: ct));
        var events = await EvidenceAsync(conn, tx, null, 0, ct);
        var items = await EvidenceItemsAsync(conn, tx, [.. events.Select(e => e.ItemId).Distinct()], 0, ct);

        var fit = SkillFit.Fit(events, items);
        var priors = fit.Priors;
        var replay = fit.Replay(items, events);

        await conn.ExecuteAsync(new CommandDefinition("""
            delete from learning_state;
            delete from learner_ability;
            update items set difficulty = null, difficulty_evidence = 0 where difficulty is not null or difficulty_evidence <> 0;
            insert into skill_priors (id, priors, fitted_at) values (true, @json::jsonb, now())
            on conflict (id) do update set priors = excluded.priors, fitted_at = excluded.fitted_at;
            """, new { json = JsonSerializer.Serialize(priors) }, tx, commandTimeout: 0, cancellationToken: ct));
        var skills = replay.Learners.SelectMany(l => l.Value.Keys.Select(t => (l.Key, t))).ToList();
        await WriteAsync(conn, tx, replay, skills, replay.Items.Keys.ToList(), ct);
        await tx.CommitAsync(ct);
        return new RebuildResult(events.Count, replay.Learners.Count(l => l.Value.Count > 0), skills.Count(s => s.t != SkillModel.GeneralAbility), replay.Items.Count, priors);
    }

    /// <summary>
    /// What replaying skill up to <paramref name="before"/> takes: every evidence event before it in
    /// <see cref="EvidenceEvent.Order"/>, the levels and topics of their items, and the fitted priors in use. Skill is
    /// not stored over time, so the outcome check replays it through the same <see cref="SkillModel"/>.
    /// </summary>
    public async Task<EvidenceHistory> EvidenceBeforeAsync(DateTimeOffset before, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var events = await EvidenceAsync(conn, null, before, null, ct);
        var items = await EvidenceItemsAsync(conn, null, [.. events.Select(e => e.ItemId).Distinct()], null, ct);
        return new EvidenceHistory(events, items, await PriorsAsync(conn, null, ct));
    }

    /// <summary>Evidence events (before <paramref name="before"/> when given), in <see cref="EvidenceEvent.Order"/>; <paramref name="timeout"/> 0 waits as long as it takes (a rebuild).</summary>
    private static async Task<List<EvidenceEvent>> EvidenceAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, DateTimeOffset? before, int? timeout, CancellationToken ct)
    {
        var events = (await conn.QueryAsync<(long UserId, long ItemId, string Kind, DateTime At, string Key)>(new CommandDefinition("""
            select user_id, item_id, kind, occurred_at, idempotency_key from events
            where kind = any(@EvidenceKinds) and (@before::timestamptz is null or occurred_at < @before::timestamptz)
            """, new { EvidenceKinds, before = before?.UtcDateTime }, tx, timeout, cancellationToken: ct))).Select(ToEvidence).ToList();
        events.Sort(EvidenceEvent.Order);
        return events;
    }

    /// <summary>Level and topic names of the items, as <see cref="SkillModel"/> reads them.</summary>
    private static async Task<Dictionary<long, ItemInfo>> EvidenceItemsAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long[] ids, int? timeout, CancellationToken ct) =>
        (await conn.QueryAsync<(long Id, short? Level, string[] Topics)>(new CommandDefinition("""
            select i.id, i.level, coalesce(array(select t.name from item_topics it join topics t on t.id = it.topic_id where it.item_id = i.id order by t.name), '{}')
            from items i where i.id = any(@ids)
            """, new { ids }, tx, timeout, cancellationToken: ct)))
            .ToDictionary(r => r.Id, r => new ItemInfo(r.Id, "", "", r.Topics, r.Level, null, null, null, null));
}
