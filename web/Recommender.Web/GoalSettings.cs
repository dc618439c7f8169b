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

    /// <summary>Parameters for <paramref name="target"/>: its own earlier values when it is the current goal, plus the shared choices.</summary>
    public static ObjectiveParameters Carry(IObjective target, string currentId, ObjectiveParameters current)
    {
        var result = target.Id == currentId ? current : ObjectiveParameters.Empty;
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
