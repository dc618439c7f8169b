using System.Globalization;
using Dapper;
using Npgsql;

namespace Recommender.Data;

/// <summary>A user's chosen objective and its parameters (canonical JSON).</summary>
public sealed record UserSettings(string ObjectiveId, string ParametersJson, DateTime UpdatedAt);

/// <summary>A person's goal (the default for someone who never chose), its parameters (JSON) and the topics chosen at onboarding.</summary>
public sealed record PersonGoal(long UserId, string ObjectiveId, string ParametersJson, IReadOnlyList<string> OnboardingTopics);

/// <summary>
/// How many people with a login are on each goal: <paramref name="People"/> in all, of whom <paramref name="Simulated"/>
/// are the demo's simulated readers, <paramref name="Admins"/> admins, and <paramref name="NeverChose"/> people who never
/// chose a goal and so count under the default.
/// </summary>
public sealed record ObjectiveUsage(string ObjectiveId, long People, long Simulated, long Admins, long NeverChose);

/// <summary>Per-user objective settings and the history of every change.</summary>
public sealed class SettingsStore(NpgsqlDataSource dataSource)
{
    public async Task<UserSettings?> GetAsync(long userId, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<SettingsRow>(new CommandDefinition(
            string.Format(CultureInfo.InvariantCulture, SettingsSql, "@userId"), new { userId }, cancellationToken: ct));
        return row?.Settings;
    }

    /// <summary>The settings and chosen topics of the user whose id is the SQL expression <c>{0}</c>.</summary>
    internal const string SettingsSql = """
        select objective_id, parameters::text as parameters_json, updated_at, topics from user_settings where user_id = {0}
        """;

    // Settable properties, not a positional record: Npgsql reports text[] as System.Array, which Dapper cannot match to a constructor.
    internal sealed class SettingsRow
    {
        public string ObjectiveId { get; init; } = "";

        public string ParametersJson { get; init; } = "{}";

        public DateTime UpdatedAt { get; init; }

        public string[]? Topics { get; init; }

        public UserSettings Settings => new(ObjectiveId, ParametersJson, UpdatedAt);
    }

    /// <summary>
    /// Replaces the settings and appends the change to the history, in one transaction. The goal's parameters are also
    /// remembered under its id, so that coming back to it later restores them.
    /// </summary>
    public async Task<UserSettings> SetAsync(long userId, string objectiveId, string parametersJson, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var saved = await conn.QuerySingleAsync<UserSettings>(new CommandDefinition("""
            insert into user_settings (user_id, objective_id, parameters, updated_at, remembered)
            values (@userId, @objectiveId, @parametersJson::jsonb, now(), jsonb_build_object(@objectiveId, @parametersJson::jsonb))
            on conflict (user_id) do update set objective_id = excluded.objective_id, parameters = excluded.parameters, updated_at = excluded.updated_at,
                remembered = user_settings.remembered || excluded.remembered
            returning objective_id, parameters::text as parameters_json, updated_at
            """, new { userId, objectiveId, parametersJson }, tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition(
            "insert into settings_history (user_id, objective_id, parameters, changed_at) values (@userId, @objectiveId, @parametersJson::jsonb, @UpdatedAt)",
            new { userId, objectiveId, parametersJson, saved.UpdatedAt }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return saved;
    }

    /// <summary>The parameters the person last chose for each goal they have used (canonical JSON by objective id); empty when none.</summary>
    public async Task<IReadOnlyDictionary<string, string>> RememberedAsync(long userId, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(string ObjectiveId, string ParametersJson)>(new CommandDefinition(
            "select key, value::text from user_settings, jsonb_each(remembered) where user_id = @userId", new { userId }, cancellationToken: ct));
        return rows.ToDictionary(r => r.ObjectiveId, r => r.ParametersJson, StringComparer.Ordinal);
    }

    /// <summary>The topics the person said they care about, used as initial signals until they have history; empty when none.</summary>
    public async Task<IReadOnlyList<string>> TopicsAsync(long userId, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<SettingsRow>(new CommandDefinition(
            string.Format(CultureInfo.InvariantCulture, SettingsSql, "@userId"), new { userId }, cancellationToken: ct));
        return row?.Topics ?? [];
    }

    /// <summary>Sets those topics; a person without settings yet gets the <paramref name="defaultObjective"/> with its defaults.</summary>
    public async Task SetTopicsAsync(long userId, IReadOnlyList<string> topics, string defaultObjective, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("""
            insert into user_settings (user_id, objective_id, topics) values (@userId, @defaultObjective, @topics)
            on conflict (user_id) do update set topics = excluded.topics
            """, new { userId, defaultObjective, topics = topics.Distinct().ToArray() }, cancellationToken: ct));
    }

    /// <summary>Changes, newest first.</summary>
    public async Task<IReadOnlyList<UserSettings>> HistoryAsync(long userId, int limit, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<UserSettings>(new CommandDefinition("""
            select objective_id, parameters::text as parameters_json, changed_at as updated_at from settings_history
            where user_id = @userId order by id desc limit @limit
            """, new { userId, limit }, cancellationToken: ct));
        return rows.AsList();
    }

    /// <summary>The goal of each of these people; someone without settings has <paramref name="defaultObjective"/> with no parameters.</summary>
    public async Task<IReadOnlyList<PersonGoal>> GoalsOfAsync(IReadOnlyCollection<long> userIds, string defaultObjective, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(long Id, string ObjectiveId, string Parameters, string[] Onboarding)>(new CommandDefinition("""
            select u.id, coalesce(s.objective_id, @defaultObjective), coalesce(s.parameters::text, '{}'), coalesce(s.topics, '{}')
            from users u left join user_settings s on s.user_id = u.id
            where u.id = any(@ids)
            """, new { ids = userIds.ToArray(), defaultObjective }, cancellationToken: ct));
        return [.. rows.Select(r => new PersonGoal(r.Id, r.ObjectiveId, r.Parameters, r.Onboarding))];
    }

    /// <summary>People who can sign in, per goal, most chosen first.</summary>
    public async Task<IReadOnlyList<ObjectiveUsage>> PeoplePerGoalAsync(string defaultObjective, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<ObjectiveUsage>(new CommandDefinition("""
            select coalesce(s.objective_id, @defaultObjective) as objective_id, count(*) as people,
                   count(*) filter (where u.simulated) as simulated, count(*) filter (where u.role = 'admin') as admins,
                   count(*) filter (where s.user_id is null) as never_chose
            from users u left join user_settings s on s.user_id = u.id
            where u.login is not null
            group by 1 order by 2 desc, 1
            """, new { defaultObjective }, cancellationToken: ct));
        return rows.AsList();
    }

    /// <summary>Everyone's onboarding topics, by person; people who chose none are absent.</summary>
    public async Task<IReadOnlyDictionary<long, string[]>> OnboardingTopicsAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var topics = new Dictionary<long, string[]>();
        // Read directly: Npgsql reports text[] as System.Array, which Dapper cannot match to a record.
        await using var cmd = new NpgsqlCommand("select user_id, topics from user_settings", conn);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            topics[reader.GetInt64(0)] = reader.GetFieldValue<string[]>(1);
        return topics;
    }
}
