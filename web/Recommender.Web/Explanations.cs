using System.Globalization;
using Recommender.Core;

namespace Recommender.Web;

/// <summary>Turns an item's reasons and score components into the plain-language "why this" a person reads.</summary>
public static class Explanations
{
    // Component names are what objectives put in the audit log; people see what they mean.
    private static readonly Dictionary<string, string> Factors = new(StringComparer.Ordinal)
    {
        ["relevance"] = "it matches what you have enjoyed",
        ["zone_fit"] = "it is at the right level for you",
        ["topic_match"] = "it is in a topic you chose",
        ["novelty"] = "it is new to you",
        ["credibility"] = "it comes from a credible source",
        ["popularity"] = "many people like it",
        ["recency"] = "it is recent",
        ["topic_balance"] = "it keeps the topics balanced",
        ["redundancy"] = "it is unlike the items above it",
        ["calibration"] = "it fits the mix of topics you read",
        ["viewpoint"] = "it brings another viewpoint",
    };

    /// <summary>The two components that pushed the item up most, in plain words (blend parts are named by their goal).</summary>
    public static IReadOnlyList<string> MainFactors(IReadOnlyDictionary<string, double> components, ObjectiveRegistry objectives) =>
        [.. components.Where(c => c.Value > 0).OrderByDescending(c => c.Value).Take(2).Select(c => Factor(c.Key, objectives))];

    public static string Factor(string component, ObjectiveRegistry objectives) =>
        Factors.TryGetValue(component, out var text) ? text
        : objectives.TryGet(component, out var part) ? $"your goal \u201c{part.DisplayName}\u201d ranks it high"
        : component.Replace('_', ' ');

    public static string Credibility(double? credibility) => credibility switch
    {
        null => "credibility unknown",
        >= 0.7 => "credible source",
        >= 0.4 => "mixed credibility",
        _ => "low credibility",
    };

    public static string CredibilityClass(double? credibility) => credibility switch
    {
        null => "cred-unknown",
        >= 0.7 => "cred-high",
        >= 0.4 => "cred-mid",
        _ => "cred-low",
    };

    public static string Level(int? level) => level switch
    {
        null => "any level",
        1 => "level 1 · beginner",
        2 => "level 2 · easy",
        3 => "level 3 · intermediate",
        4 => "level 4 · advanced",
        _ => string.Create(CultureInfo.InvariantCulture, $"level {level} · expert"),
    };

    private static readonly string[] PreferredOrder = ["learning", "diversity", "engagement", "no_profiling", "blend"];

    /// <summary>Goals in the order people meet them: learning first, the advanced mix last, plug-ins in between.</summary>
    public static IEnumerable<IObjective> GoalOrder(ObjectiveRegistry objectives) =>
        objectives.All.OrderBy(o => Array.IndexOf(PreferredOrder, o.Id) is var i && i >= 0 ? (o.Id == "blend" ? 1000 : i) : 100).ThenBy(o => o.Id, StringComparer.Ordinal);

    /// <summary>Saved settings in words: "topics: Oceans, Physics · credibility floor: 0.4"; "defaults" when nothing is set.</summary>
    public static string Settings(string parametersJson)
    {
        var values = ObjectiveParameters.FromJson(parametersJson).Values;
        if (values.Count == 0)
            return "defaults";
        return string.Join(" · ", values.Select(v => $"{v.Key.Replace('_', ' ')}: {v.Value switch
        {
            double d => Number(d),
            bool b => b ? "yes" : "no",
            IEnumerable<string> list => list.Any() ? string.Join(", ", list) : "none",
            var other => Convert.ToString(other, CultureInfo.InvariantCulture),
        }}"));
    }

    public static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
