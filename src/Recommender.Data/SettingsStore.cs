using System.Globalization;
using Dapper;
using Npgsql;

namespace Recommender.Data;

/// <summary>A user's chosen objective and its parameters (canonical JSON).</summary>
public sealed record UserSettings(string ObjectiveId, string ParametersJson, DateTime UpdatedAt);

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
}
