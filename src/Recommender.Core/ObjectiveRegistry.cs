using Recommender.Core.Objectives;

namespace Recommender.Core;

/// <summary>Every objective the host knows, built-in and plug-in, by id.</summary>
public sealed class ObjectiveRegistry
{
    private readonly Dictionary<string, IObjective> _byId;

    public ObjectiveRegistry(IEnumerable<IObjective> objectives)
    {
        ArgumentNullException.ThrowIfNull(objectives);
        _byId = new Dictionary<string, IObjective>(StringComparer.Ordinal);
        foreach (var objective in objectives)
        {
            // A plug-in must not silently replace a built-in: the audit log would then misattribute lists.
            if (!_byId.TryAdd(objective.Id, objective))
            {
                throw new InvalidOperationException($"Two objectives share the id '{objective.Id}'.");
            }
        }
        All = [.. _byId.Values.OrderBy(o => o.Id, StringComparer.Ordinal)];
    }

    /// <summary>The five built-in objectives.</summary>
    public static IReadOnlyList<IObjective> BuiltIn()
    {
        IObjective[] parts = [new EngagementObjective(), new LearningObjective(), new DiversityObjective(), new NoProfilingObjective()];
        return [.. parts, new BlendObjective(parts)];
    }

    public IReadOnlyList<IObjective> All { get; }

    public bool TryGet(string id, out IObjective objective) => _byId.TryGetValue(id, out objective!);

    public IObjective this[string id] => _byId.TryGetValue(id, out var o) ? o : throw new KeyNotFoundException($"No objective '{id}'.");
}
