using Recommender.Core;
using Recommender.Core.Objectives;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>A person's goal as it stands: the objective in effect, its settings, when they were saved and the topics they chose first.</summary>
public sealed record CurrentSettings(string ObjectiveId, ObjectiveParameters Parameters, DateTime? UpdatedAt, IReadOnlyList<string> Topics);

/// <summary>
/// What came of a change: the saved settings, or the errors that kept them from being saved, each naming its field as the
/// REST API names it (<c>objectiveId</c>, <c>parameters.credibility_floor</c>, <c>topics</c>; an unknown topic by its
/// place, <c>topics[2]</c> or <c>parameters.topics[0]</c>).
/// </summary>
public sealed record SettingsChange(UserSettings? Saved, IReadOnlyList<ParameterError> Errors)
{
    public bool Succeeded => Saved is not null;

    /// <summary>The errors by field, as a validation problem lists them.</summary>
    public Dictionary<string, string[]> ErrorsByField() =>
        Errors.GroupBy(e => e.Field, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray(), StringComparer.Ordinal);

    internal static SettingsChange Refused(IEnumerable<ParameterError> errors) => new(null, [.. errors]);
}

/// <summary>
/// The one settings workflow: reading a person's goal, switching it, changing its settings, all checked against the
/// objective's schema. The REST API and the web forms call these same methods, so a page and its endpoint cannot disagree.
/// </summary>
public sealed class SettingsService(ObjectiveRegistry objectives, FeedService feeds, SettingsStore store, CatalogBrowser catalog)
{
    /// <summary>The most topics a person may choose, each 1 to <see cref="TopicLength"/> characters.</summary>
    public const int MaxTopics = 20;

    public const int TopicLength = 100;

    /// <summary>Choices every goal that has them shares, carried across a switch.</summary>
    private static readonly string[] Shared = [CommonParameters.Topics, CommonParameters.CredibilityFloor];

    public async Task<CurrentSettings> GetAsync(long userId, CancellationToken ct = default)
    {
        var (objectiveId, parameters) = await feeds.ChosenObjectiveAsync(userId, ct);
        var saved = await store.GetAsync(userId, ct);
        return new CurrentSettings(objectiveId, parameters, saved?.UpdatedAt, await store.TopicsAsync(userId, ct));
    }

    /// <summary>What <see cref="GetAsync"/> answers for someone who has chosen nothing: the default goal, no topics.</summary>
    public CurrentSettings Unchosen()
    {
        var (objectiveId, parameters) = feeds.DefaultObjective;
        return new CurrentSettings(objectiveId, parameters, null, []);
    }

    /// <summary>Earlier settings, newest first.</summary>
    public Task<IReadOnlyList<UserSettings>> HistoryAsync(long userId, int limit, CancellationToken ct = default) =>
        store.HistoryAsync(userId, limit, ct);

    /// <summary>The topics the person gave first (at onboarding, or as <c>topics</c> of a settings change).</summary>
    public Task<IReadOnlyList<string>> FirstTopicsAsync(long userId, CancellationToken ct = default) => store.TopicsAsync(userId, ct);

    /// <summary>What the person last chose for each goal they have used, by objective id (JSON parameters).</summary>
    public Task<IReadOnlyDictionary<string, string>> RememberedAsync(long userId, CancellationToken ct = default) =>
        store.RememberedAsync(userId, ct);

    /// <summary>
    /// Sets the goal and its settings as given (nothing carried over); <paramref name="topics"/>, when given, become the
    /// person's first topics, the signals every goal starts from until there is history.
    /// </summary>
    public Task<SettingsChange> SetAsync(long userId, string? objectiveId, ObjectiveParameters parameters, IReadOnlyList<string>? topics,
        CancellationToken ct = default) =>
        SetAsync(_ => Task.FromResult(userId), objectiveId, parameters, topics, ct);

    /// <summary>
    /// As <see cref="SetAsync(long, string?, ObjectiveParameters, IReadOnlyList{string}?, CancellationToken)"/>, for
    /// someone who may not exist yet: <paramref name="person"/> (which may create them) is called only once the choice
    /// passes its checks, so a refused choice stores nobody.
    /// </summary>
    public async Task<SettingsChange> SetAsync(Func<CancellationToken, Task<long>> person, string? objectiveId, ObjectiveParameters parameters,
        IReadOnlyList<string>? topics, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(person);
        ArgumentNullException.ThrowIfNull(parameters);
        var errors = new List<ParameterError>();
        if (string.IsNullOrWhiteSpace(objectiveId) || !objectives.TryGet(objectiveId, out var objective))
            errors.Add(new ParameterError("objectiveId", $"must be one of: {string.Join(", ", objectives.All.Select(o => o.Id))}"));
        else
            errors.AddRange(objective.Validate(parameters).Select(e => e with { Field = $"parameters.{e.Field}" }));
        errors.AddRange(TopicErrors(topics, "topics"));
        if (errors.Count == 0)
            errors.AddRange(await TopicProblemsAsync(topics, parameters, [], ct));
        if (errors.Count > 0)
            return SettingsChange.Refused(errors);
        return await SaveAsync(await person(ct), objectiveId!, parameters, topics?.Select(t => t.Trim()).ToList(), ct);
    }

    /// <summary>
    /// Switches to <paramref name="objectiveId"/> with what the person last chose for it, and the choices goals share
    /// (topics, credibility floor) from the goal they leave; <paramref name="topics"/> (onboarding) replace the topics.
    /// </summary>
    public async Task<SettingsChange> SwitchAsync(long userId, string? objectiveId, IReadOnlyList<string> topics, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(topics);
        if (string.IsNullOrWhiteSpace(objectiveId) || !objectives.TryGet(objectiveId, out var target))
            return SettingsChange.Refused([new ParameterError("objectiveId", "Please choose one of the goals.")]);
        if (await TopicProblemsAsync(topics, ObjectiveParameters.Empty, [], ct) is { Count: > 0 } topicErrors)
            return SettingsChange.Refused(topicErrors);
        var (currentId, current) = await feeds.ChosenObjectiveAsync(userId, ct);
        // A goal without a topics setting (engagement) would refuse them: they stay first topics only.
        if (topics.Count > 0 && target.Schema.TryGet(CommonParameters.Topics, out _))
            current = current.With(CommonParameters.Topics, topics);
        var parameters = Carry(target, currentId, current, await store.RememberedAsync(userId, ct), await store.TopicsAsync(userId, ct));
        if (target.Validate(parameters) is { Count: > 0 } errors)
            return SettingsChange.Refused(errors.Select(e => e with { Field = $"parameters.{e.Field}" }));
        return await SaveAsync(userId, target.Id, parameters, topics.Count > 0 ? topics : null, ct);
    }

    /// <summary>
    /// Changes settings of <paramref name="objectiveId"/> (null: the current goal; another one then becomes current):
    /// <paramref name="edit"/> gets the settings the goal would have now and returns them changed, or an error naming a field.
    /// </summary>
    public async Task<SettingsChange> ChangeAsync(long userId, string? objectiveId,
        Func<IObjective, ObjectiveParameters, (ObjectiveParameters Parameters, ParameterError? Error)> edit, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(edit);
        var (currentId, current) = await feeds.ChosenObjectiveAsync(userId, ct);
        if (!objectives.TryGet(objectiveId ?? currentId, out var objective))
            return SettingsChange.Refused([new ParameterError("objectiveId", $"must be one of: {string.Join(", ", objectives.All.Select(o => o.Id))}")]);
        var before = Carry(objective, currentId, current, await store.RememberedAsync(userId, ct), await store.TopicsAsync(userId, ct));
        var (parameters, error) = edit(objective, before);
        if (error is not null)
            return SettingsChange.Refused([error with { Field = $"parameters.{error.Field}" }]);
        if (objective.Validate(parameters) is { Count: > 0 } errors)
            return SettingsChange.Refused(errors.Select(e => e with { Field = $"parameters.{e.Field}" }));
        // Topics the edit brings are checked as a PUT checks them; those the goal had already are kept as they are.
        if (await TopicProblemsAsync(null, parameters, OwnTopics(before), ct) is { Count: > 0 } topicErrors)
            return SettingsChange.Refused(topicErrors);
        return await SaveAsync(userId, objective.Id, parameters, null, ct);
    }

    /// <summary>
    /// Parameters for <paramref name="target"/>: its current values when it is the current goal, else what the person
    /// last chose for it (<paramref name="remembered"/>, by objective id); then the shared choices of the current goal
    /// where it has them, since those are the newest. A choice the current goal does not hold (diversity has no topics)
    /// stays as the target last had it. A goal with topics that has never had any, from itself or the goal left, starts
    /// from the person's <paramref name="firstTopics"/>: someone who ticked topics at the start under "More of what I
    /// enjoy" (which has no topics setting) and then turns to "Help me learn" means to learn those.
    /// </summary>
    public static ObjectiveParameters Carry(IObjective target, string currentId, ObjectiveParameters current, IReadOnlyDictionary<string, string> remembered,
        IReadOnlyList<string>? firstTopics = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(remembered);
        var result = target.Id == currentId
            ? current
            : remembered.TryGetValue(target.Id, out var json) ? ObjectiveParameters.FromJson(json) : ObjectiveParameters.Empty;
        foreach (var name in Shared)
        {
            if (target.Schema.TryGet(name, out _) && current.Values.TryGetValue(name, out var value))
                result = result.WithValue(name, value);
        }
        if (firstTopics is { Count: > 0 } && target.Schema.TryGet(CommonParameters.Topics, out _) && !result.Values.ContainsKey(CommonParameters.Topics))
            result = result.With(CommonParameters.Topics, firstTopics);
        return result;
    }

    /// <summary>
    /// What is wrong with the topics of a change, by the same rules whichever way it came (a REST PUT, onboarding, a goal
    /// switch, the settings form): the first topics (<paramref name="topics"/>) and the goal's own each at most
    /// <see cref="MaxTopics"/>, each 1 to <see cref="TopicLength"/> characters, and each one the catalog has, named by its
    /// place (<c>topics[2]</c>, <c>parameters.topics[0]</c>). Topics in <paramref name="kept"/> are not looked up.
    /// </summary>
    private async Task<IReadOnlyList<ParameterError>> TopicProblemsAsync(IReadOnlyList<string>? topics, ObjectiveParameters parameters,
        IReadOnlyCollection<string> kept, CancellationToken ct)
    {
        var own = OwnTopics(parameters);
        var field = $"parameters.{CommonParameters.Topics}";
        if (TopicErrors(topics, "topics").Concat(TopicErrors(own, field)).ToList() is { Count: > 0 } errors)
            return errors;
        return await catalog.UnknownTopicErrorsAsync([("topics", topics ?? []), (field, own)], kept, ct);
    }

    private static IReadOnlyList<string> OwnTopics(ObjectiveParameters parameters) =>
        parameters.Values.ContainsKey(CommonParameters.Topics) ? parameters.GetTextList(CommonParameters.Topics) : [];

    private static IEnumerable<ParameterError> TopicErrors(IReadOnlyList<string>? topics, string field)
    {
        if (topics is not null && (topics.Count > MaxTopics || topics.Any(t => string.IsNullOrWhiteSpace(t) || t.Trim().Length > TopicLength)))
            yield return new ParameterError(field, $"at most {MaxTopics} topics, each 1 to {TopicLength} characters");
    }

    private async Task<SettingsChange> SaveAsync(long userId, string objectiveId, ObjectiveParameters parameters, IReadOnlyList<string>? topics, CancellationToken ct)
    {
        var saved = await store.SetAsync(userId, objectiveId, parameters.ToCanonicalJson(), ct);
        if (topics is not null)
            await store.SetTopicsAsync(userId, topics, saved.ObjectiveId, ct);
        return new SettingsChange(saved, []);
    }
}
