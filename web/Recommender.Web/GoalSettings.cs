using System.Globalization;
using Recommender.Core;
using Recommender.Core.Objectives;

namespace Recommender.Web;

/// <summary>
/// Builds an objective's parameters from the few choices the pages offer, carrying the choices goals share (topics,
/// credibility floor) across a switch so that changing goal never silently forgets what the person picked.
/// </summary>
public static class GoalSettings
{
    private static readonly string[] Shared = [CommonParameters.Topics, CommonParameters.CredibilityFloor];

    /// <summary>
    /// Parameters for <paramref name="target"/>: its current values when it is the current goal, else what the person
    /// last chose for it (<paramref name="remembered"/>, by objective id); then the shared choices of the current goal
    /// where it has them, since those are the newest. A choice the current goal does not hold (diversity has no topics)
    /// stays as the target last had it.
    /// </summary>
    public static ObjectiveParameters Carry(IObjective target, string currentId, ObjectiveParameters current, IReadOnlyDictionary<string, string> remembered)
    {
        var result = target.Id == currentId
            ? current
            : remembered.TryGetValue(target.Id, out var json) ? ObjectiveParameters.FromJson(json) : ObjectiveParameters.Empty;
        foreach (var name in Shared)
        {
            if (target.Schema.TryGet(name, out _) && current.Values.TryGetValue(name, out var value))
                result = result.WithValue(name, value);
        }
        return result;
    }

    /// <summary>The topics the person chose, whichever goal holds them.</summary>
    public static IReadOnlyList<string> Topics(ObjectiveParameters parameters) => parameters.GetTextList(CommonParameters.Topics);

    /// <summary>The credibility floor in effect for a goal (the goal's default when the person set none).</summary>
    public static double CredibilityFloor(IObjective objective, ObjectiveParameters parameters) =>
        objective.Schema.Resolve(parameters).GetNumber(CommonParameters.CredibilityFloor);

    /// <summary>Parses a number typed in a form; the invariant culture, so "0.4" means the same everywhere.</summary>
    public static bool TryNumber(string? text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
}
