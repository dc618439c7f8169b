using System.Globalization;
using Microsoft.AspNetCore.WebUtilities;
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

    /// <summary>
    /// What a page says after a goal switch, whose redirect carries the goal's id: said only while that goal is the
    /// reader's goal, and naming it, so a made-up link, or a bookmark or reload after another switch, claims nothing untrue.
    /// </summary>
    public static string? SwitchedMessage(string? changed, string currentObjectiveId, ObjectiveRegistry objectives)
    {
        ArgumentNullException.ThrowIfNull(objectives);
        return changed == currentObjectiveId && objectives.TryGet(currentObjectiveId, out var goal) ? $"Done — your feed now follows “{goal.DisplayName}”." : null;
    }

    /// <summary>The credibility floor in effect for a goal (the goal's default when the person set none).</summary>
    public static double CredibilityFloor(IObjective objective, ObjectiveParameters parameters) =>
        objective.Schema.Resolve(parameters).GetNumber(CommonParameters.CredibilityFloor);

    /// <summary>The longest text kept of one weight box when a refused mix goes back to the page.</summary>
    private const int TypedLength = 32;

    /// <summary>The weight boxes of a posted mix as typed (each cut to a few characters), as a query string to seal.</summary>
    public static string TypedWeights(IObjective blend, IFormCollection form)
    {
        ArgumentNullException.ThrowIfNull(blend);
        ArgumentNullException.ThrowIfNull(form);
        return QueryString.Create(blend.Schema.Weights.Select(spec => KeyValuePair.Create(spec.Name, (string?)Cut(form[spec.Name].ToString())))).ToUriComponent();
    }

    /// <summary>What <see cref="TypedWeights"/> sealed, read back: weight name to the text its box held.</summary>
    public static Dictionary<string, string> ReadTypedWeights(IObjective blend, string? typed)
    {
        ArgumentNullException.ThrowIfNull(blend);
        var query = QueryHelpers.ParseQuery(typed);
        return blend.Schema.Weights.Where(spec => query.ContainsKey(spec.Name))
            .ToDictionary(spec => spec.Name, spec => Cut(query[spec.Name].ToString()), StringComparer.Ordinal);
    }

    private static string Cut(string text) => text.Length <= TypedLength ? text : text[..TypedLength];

    /// <summary>
    /// What is wrong with a mix's weight box, named as the reader knows the goal ("The weight of “Help me learn” must be
    /// at most 1."), or null when the box is fine. An empty box is fine: it keeps the weight the mix has now.
    /// </summary>
    public static string? WeightProblem(ParameterSpec spec, string? text, ObjectiveRegistry objectives)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(objectives);
        if (string.IsNullOrWhiteSpace(text))
            return null;
        var name = spec.Weighs is { } goal && objectives.TryGet(goal, out var weighed) ? $"The weight of \u201c{weighed.DisplayName}\u201d" : "This weight";
        var (min, max) = (spec.Min ?? 0, spec.Max ?? 1);
        var range = $"{Explanations.Number(min)} to {Explanations.Number(max)}";
        if (!TryNumber(text, out var weight))
            return $"{name} must be a number from {range}, such as 0.25.";
        if (weight < min)
            return $"{name} must be at least {Explanations.Number(min)}.";
        if (weight > max)
            return $"{name} must be at most {Explanations.Number(max)}.";
        return null;
    }

    /// <summary>Parses a number typed in a form; the invariant culture, so "0.4" means the same everywhere.</summary>
    public static bool TryNumber(string? text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
}
