using System.Globalization;
using Recommender.Core;
using Recommender.Core.Objectives;

namespace Recommender.Web;

/// <summary>Turns an item's reasons and score components into the plain-language "why this" a person reads.</summary>
public static class Explanations
{
    // Component names are what objectives put in the audit log. Each has the few words a reader sees in their own record
    // and what it measures, for the audit tables. What the reader is told about an item ("mostly because …") is
    // composed once, when the list is ranked, by WhyThis.
    private static readonly Dictionary<string, (string ForReader, string Measures)> Components = new(StringComparer.Ordinal)
    {
        ["relevance"] = ("matches your tastes", "how well it matches the person's tastes (popularity for someone the model does not know)"),
        ["zone_fit"] = ("fits your level", "how close its predicted difficulty is to the person's learning zone"),
        ["topic_match"] = ("topic you chose", "its share of topics among those chosen"),
        ["novelty"] = ("new to you", "how unlike it is to what the person read"),
        // Not "credible source": the part is there for every source, the badge's "mixed" ones too.
        ["credibility"] = ("its source's credibility", "its source's credibility"),
        ["popularity"] = ("liked by many", "how many people liked it"),
        ["recency"] = ("recent", "how recent it is"),
        ["topic_balance"] = ("topic already shown above", "penalty for topics already in the list"),
        ["redundancy"] = ("unlike the items above it", "how unlike it is to the items above it"),
        ["calibration"] = ("rounds out your mix of topics", "how it moves the list towards the person's mix of topics"),
        ["viewpoint"] = ("another side of a debate", "whether it brings another side of a debate on one of its topics"),
        ["author_repeat"] = ("author already shown above", "penalty for an author already in the list"),
    };

    /// <summary>What a score component measures, for audit tables (blend parts are named by their goal).</summary>
    public static string Measure(string component, ObjectiveRegistry objectives) =>
        Components.TryGetValue(component, out var words) ? words.Measures
        : objectives.TryGet(component, out var part) ? $"the rank the goal \u201c{part.DisplayName}\u201d gives it"
        : component.Replace('_', ' ');

    /// <summary>A score component in the reader's words ("fits your level"); a blend's part is its goal by name.</summary>
    public static string Component(string component, ObjectiveRegistry objectives) =>
        Components.TryGetValue(component, out var words) ? words.ForReader
        : objectives.TryGet(component, out var part) ? $"\u201c{part.DisplayName}\u201d"
        : component.Replace('_', ' ');

    public static string Credibility(double? credibility) => WhyThis.CredibilityLabel(credibility);

    /// <summary>
    /// What a card's credibility badge rests on, on hover: "Source credibility 0.58 on a 0–1 scale"; for an unrated
    /// source, that it is unrated; for an item that names no source (a platform may add one without), that there is
    /// nothing to rate, rather than "Source credibility unknown on a 0–1 scale".
    /// </summary>
    public static string CredibilityTitle(string? source, double? credibility) => (source, credibility) switch
    {
        (_, { } c) => $"Source credibility {Number(c)} on a 0–1 scale",
        (null, null) => "It names no source, so there is no source's credibility to go by",
        _ => "Its source has no credibility rating yet",
    };

    public static string CredibilityClass(double? credibility) => credibility switch
    {
        null => "cred-unknown",
        >= WhyThis.CredibleFrom => "cred-high",
        >= WhyThis.MixedFrom => "cred-mid",
        _ => "cred-low",
    };

    /// <summary>
    /// An item's level as a place on the catalog's scale of 1 to 5 and nothing more: a level may come from a publisher or
    /// from the text's readability (the card's "what its level rests on" says which), so the label does not call it
    /// "beginner" or "expert", which would be a judgement nobody made.
    /// </summary>
    public static string Level(int? level) => level is { } l
        ? string.Create(CultureInfo.InvariantCulture, $"level {l} of {Recommender.Data.Import.CatalogRules.MaxLevel}")
        : "level not known";

    private static readonly string[] PreferredOrder = ["learning", "diversity", "engagement", "no_profiling", "blend"];

    /// <summary>Goals in the order people meet them: learning first, the advanced mix last, plug-ins in between.</summary>
    public static IEnumerable<IObjective> GoalOrder(ObjectiveRegistry objectives) =>
        objectives.All.OrderBy(o => Array.IndexOf(PreferredOrder, o.Id) is var i && i >= 0 ? (o.Id == "blend" ? 1000 : i) : 100).ThenBy(o => o.Id, StringComparer.Ordinal);

    /// <summary>A mix's weights in the order of the goals they weigh, as the goal cards show them.</summary>
    public static IReadOnlyList<ParameterSpec> WeightsInGoalOrder(ObjectiveRegistry objectives, ParameterSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var order = GoalOrder(objectives).Select(o => o.Id).ToList();
        return [.. schema.Weights.OrderBy(w => order.IndexOf(w.Weighs!))];
    }

    /// <summary>
    /// Saved settings in words: "topics: Oceans, Physics · credibility floor: 0.4"; "defaults" when nothing is set. A
    /// blend's weight is named by its goal ("“More of what I enjoy”: 0.5") and a sub-topic as its card shows it.
    /// </summary>
    public static string Settings(string parametersJson, ObjectiveRegistry objectives, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(objectives);
        ArgumentNullException.ThrowIfNull(catalog);
        var values = ObjectiveParameters.FromJson(parametersJson).Values;
        if (values.Count == 0)
            return "defaults";
        return string.Join(" · ", values.Select(v => $"{SettingName(v.Key, objectives)}: {Value(v.Key, v.Value, catalog)}"));
    }

    /// <summary>
    /// Saved settings as a reader reads them: each setting as its goal's schema explains it ("Items you would almost
    /// surely find easy count as mastered and are not shown again."), with its value in words. A setting the goal does
    /// not declare keeps its name.
    /// </summary>
    public static IReadOnlyList<(string Setting, string Value)> SettingsForReader(string parametersJson, string objectiveId, ObjectiveRegistry objectives, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(objectives);
        ArgumentNullException.ThrowIfNull(catalog);
        var schema = objectives.TryGet(objectiveId, out var objective) ? objective.Schema : ParameterSchema.Empty;
        // What the reader changed: a setting at its goal's default is one they never had to think about.
        return [.. ObjectiveParameters.FromJson(parametersJson).Values
            .Where(v => !schema.TryGet(v.Key, out var spec) || !IsDefault(spec, v.Value))
            .Select(v => (
            schema.TryGet(v.Key, out var spec) ? FirstSentence(spec.Description) : SettingName(v.Key, objectives),
            Value(v.Key, v.Value, catalog)))];
    }

    /// <summary>
    /// A setting's description up to its first full stop: the name of the setting in the reader's words. What follows
    /// (what happens with none chosen, what 0 means) is for the form, not for a list of what was chosen.
    /// </summary>
    public static string FirstSentence(string description)
    {
        ArgumentNullException.ThrowIfNull(description);
        var end = description.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? description : description[..(end + 1)];
    }

    private static bool IsDefault(ParameterSpec spec, object value) => (spec.Default, value) switch
    {
        (double d, double v) => d == v,
        (bool d, bool v) => d == v,
        (IEnumerable<string> d, IEnumerable<string> v) => d.SequenceEqual(v, StringComparer.Ordinal),
        var (d, v) => Equals(d, v),
    };

    private static string Value(string key, object value, Catalog catalog) => value switch
    {
        double d => Number(d),
        bool b => b ? "yes" : "no",
        IEnumerable<string> list when key == CommonParameters.Topics => list.Any() ? string.Join(", ", list.Select(catalog.Label)) : "none",
        IEnumerable<string> list => list.Any() ? string.Join(", ", list) : "none",
        var other => Convert.ToString(other, CultureInfo.InvariantCulture) ?? "",
    };

    private static string SettingName(string key, ObjectiveRegistry objectives) =>
        key.EndsWith("_weight", StringComparison.Ordinal) && objectives.TryGet(key[..^"_weight".Length], out var goal)
            ? $"\u201c{goal.DisplayName}\u201d"
            : key.Replace('_', ' ');

    /// <summary>
    /// Whether a later score in a list is higher than an earlier one as <see cref="Measure(double)"/> shows them: a list
    /// ranked greedily (diversity's picks against those above them) or with the chosen topics taking turns (learning's).
    /// </summary>
    public static bool OutOfScoreOrder(IReadOnlyList<ServedItem> items) =>
        items.Zip(items.Skip(1)).Any(p => Measure(p.Second.Score) != Measure(p.First.Score) && p.Second.Score > p.First.Score);

    /// <summary>
    /// Why a list is <see cref="OutOfScoreOrder"/>, in the words of the goal that ranked it: to an auditor about "the
    /// reader", to the reader about themselves.
    /// </summary>
    public static string ScoreOrderReason(IObjective? goal, bool toReader = false) => goal is { BalancesChosenTopics: true }
        ? $"“{goal.DisplayName}” gives the {(toReader ? "topics you chose" : "chosen topics")} places in turn, each to the best-scored item at {(toReader ? "your" : "the reader’s")} level in the topic with the fewest places so far; a topic with nothing left at that level hands its turns to the others, and the rest follow by score. So an item lower down can have a higher score than one above it."
        : "The items were picked one at a time, each scored against those already above it, so an item lower down can have a higher score than one above it.";

    /// <summary>Up to three decimals; a value that rounds to zero is "0", never "-0".</summary>
    public static string Number(double value)
    {
        var text = value.ToString("0.###", CultureInfo.InvariantCulture);
        return text == "-0" ? "0" : text;
    }

    /// <summary>
    /// A measure (NDCG@10, RMSE, diversity, overlap…) to three decimals, as every admin page writes one: in a column
    /// ("0.080" over "0.071", not "0.08"), beside its error, in a sentence, a chart and its hover, so the same figure
    /// never reads "0" in one place and "0.000" in another, nor "0" beside "0.194"; a list's scores in a column likewise
    /// ("3.600" above "3.552"). A tiny negative that rounds to zero is 0.
    /// </summary>
    public static string Measure(double value) => value.ToString("0.000;-0.000;0.000", CultureInfo.InvariantCulture);

    /// <summary>"1053.6": a figure to a tenth, as the report gives skill in Elo points and topics per person.</summary>
    public static string Tenths(double value) => value.ToString("0.0;-0.0;0.0", CultureInfo.InvariantCulture);

    /// <summary>
    /// The change from one figure to another as the two read in <see cref="Tenths"/>: "−0.1" for 1053.6 → 1053.5, worked
    /// out from the figures shown, not the ones stored (1053.56 → 1053.54 is −0.02, which read "0.0" beside two figures
    /// that differ). Signed, with a true minus sign.
    /// </summary>
    public static string TenthsChange(double start, double end) => SignedTenths(DifferenceAsWritten(end, start, Tenths));

    /// <summary>"+0.3", "−0.1", "0.0": a difference to a tenth.</summary>
    public static string SignedTenths(double value) => value.ToString("+0.0;−0.0;0.0", CultureInfo.InvariantCulture);

    /// <summary>"+0.125", "−0.050", "0.000": a difference to three decimals, as <see cref="Measure(double)"/> writes a figure.</summary>
    public static string SignedMeasure(double value) => value.ToString("+0.000;−0.000;0.000", CultureInfo.InvariantCulture);

    /// <summary>
    /// A figure and its standard error at one precision: "0.105 ± 0.060", never "0.105 ± 0.06", which reads as if the
    /// error were known less finely than the figure.
    /// </summary>
    public static string PlusMinus(double value, double error) => $"{Measure(value)} ± {Measure(error)}";

    /// <summary>
    /// A figure as <paramref name="format"/> writes it (<see cref="Measure(double)"/>, <see cref="Tenths"/>), read back. A
    /// verdict written beside figures is decided on these, not on the unrounded ones, so a reader can check it against the
    /// page: "more than chance" beside "0.115 ± 0.019", "unlikely to be chance" beside an interval "+0.1 to +0.6",
    /// "158% better" from "0.188" and "0.073". Rounding moves a figure by half its last place at most, so only a verdict
    /// on that edge changes.
    /// </summary>
    public static double AsWritten(double value, Func<double, string> format)
    {
        ArgumentNullException.ThrowIfNull(format);
        return double.Parse(format(value), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The difference of two figures as <paramref name="format"/> writes them, itself as written: what a reader gets
    /// subtracting one from the other on the page (1053.6 − 1053.5 is 0.1, where the unrounded 1053.56 − 1053.54 reads
    /// 0.0), without the binary remainder the subtraction can carry (5.3 − 5.1).
    /// </summary>
    public static double DifferenceAsWritten(double figure, double less, Func<double, string> format) =>
        AsWritten(AsWritten(figure, format) - AsWritten(less, format), format);
}
