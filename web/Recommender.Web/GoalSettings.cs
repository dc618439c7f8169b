using System.Globalization;
using Recommender.Core;
using Recommender.Core.Objectives;

namespace Recommender.Web;

/// <summary>
/// Reads the few choices the pages offer out of an objective's parameters and a form (carrying them across a switch
/// is <see cref="Serving.SettingsService.Carry"/>'s job).
/// </summary>
public static class GoalSettings
{
    /// <summary>The topics the person chose, whichever goal holds them.</summary>
    public static IReadOnlyList<string> Topics(ObjectiveParameters parameters) => parameters.GetTextList(CommonParameters.Topics);

    /// <summary>The credibility floor in effect for a goal (the goal's default when the person set none).</summary>
    public static double CredibilityFloor(IObjective objective, ObjectiveParameters parameters) =>
        objective.Schema.Resolve(parameters).GetNumber(CommonParameters.CredibilityFloor);

    /// <summary>Parses a number typed in a form; the invariant culture, so "0.4" means the same everywhere.</summary>
    public static bool TryNumber(string? text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
}
