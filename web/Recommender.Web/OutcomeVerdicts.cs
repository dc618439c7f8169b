using Recommender.Core.Objectives;
using Recommender.Serving;

namespace Recommender.Web;

/// <summary>
/// The objective report's outcome checks in words: whether learners learned, and whether diversity readers read more
/// widely. Each verdict is decided on its figures as the page writes them, not on the unrounded ones: an auditor checks
/// "unlikely to be chance" against the interval printed beside it, and an interval written "0.0 to +0.6" includes no
/// difference, whatever its unrounded lower end. The rounding moves an interval's ends by half a last place at most, far
/// less than the interval is wide, so only a verdict on that edge changes, and it changes to the cautious one.
/// </summary>
public static class OutcomeVerdicts
{
    /// <summary>
    /// From the skill table: the difference is the learners' change less everyone else's as the table writes them (to a
    /// tenth of a point), the interval's ends to a tenth.
    /// </summary>
    public static string Skill(SkillCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        if (check.LearningAhead is not { } ahead)
            return "Too few people in one of the groups to say whether learners improved more than everyone else.";
        var shown = Written(Change(check, LearningObjective.ObjectiveId), Change(check, OutcomeChecks.OtherGoals), ahead, Explanations.Tenths);
        string Signed(double v) => Explanations.SignedTenths(v);
        return shown.Ahead switch
        {
            true => $"Learners improved by {Signed(shown.Difference)} points more than people on other goals (95% interval {Signed(shown.Low)} to {Signed(shown.High)}): unlikely to be chance. People chose their own goal, so this says learners gained more, not that the goal alone made them.",
            false => $"Learners fell behind people on other goals by {Explanations.Tenths(-shown.Difference)} points (95% interval {Signed(shown.Low)} to {Signed(shown.High)}).",
            null => $"Learners changed by {Signed(shown.Difference)} points relative to people on other goals, but the 95% interval ({Signed(shown.Low)} to {Signed(shown.High)}) includes no difference: not enough evidence yet.",
        };
    }

    /// <summary>
    /// From the breadth table: the difference is diversity readers' topics per person in the window less everyone else's
    /// as the table writes them (to three decimals, <see cref="Explanations.Measure(double)"/>), the interval's ends likewise.
    /// </summary>
    public static string Breadth(BreadthCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        if (check.DiversityAhead is not { } ahead)
            return "Too few people in one of the groups to say whether diversity readers read more widely than everyone else.";
        double? Topics(string group) => check.Summary.FirstOrDefault(s => s.Group == group)?.TopicsInWindow;
        var shown = Written(Topics(DiversityObjective.ObjectiveId), Topics(OutcomeChecks.OtherGoals), ahead, Explanations.Measure);
        var unit = ReportCharts.Unit(check.Buckets);
        string Signed(double v) => Explanations.SignedMeasure(v);
        return shown.Ahead switch
        {
            true => $"Over the window, diversity readers read {Signed(shown.Difference)} more topics per person than people on other goals (95% interval {Signed(shown.Low)} to {Signed(shown.High)}): unlikely to be chance. People chose their own goal, so this says they read more widely, not that the goal alone made them.",
            false => $"Over the window, diversity readers read {Explanations.Measure(-shown.Difference)} fewer topics per person than people on other goals (95% interval {Signed(shown.Low)} to {Signed(shown.High)}).",
            null => $"Over the window, diversity readers read {Signed(shown.Difference)} topics per person relative to people on other goals, but the 95% interval ({Signed(shown.Low)} to {Signed(shown.High)}) includes no difference: not enough evidence yet. The figure per {unit} can point the other way, as it averages over the {unit}s each person was active.",
        };
    }

    /// <summary>A difference and its interval as written, and which way the interval as written says it goes (null: it includes 0).</summary>
    private sealed record Shown(double Difference, double Low, double High)
    {
        public bool? Ahead => Low > 0 ? true : High < 0 ? false : null;
    }

    /// <summary>
    /// The difference of the two figures as <paramref name="format"/> writes them (the unrounded difference, so written,
    /// when a group's figure is missing), and the interval's ends as it writes them.
    /// </summary>
    private static Shown Written(double? group, double? others, (double Difference, double Low, double High) ahead, Func<double, string> format) =>
        new(group is { } g && others is { } o ? Explanations.DifferenceAsWritten(g, o, format) : Explanations.AsWritten(ahead.Difference, format),
            Explanations.AsWritten(ahead.Low, format), Explanations.AsWritten(ahead.High, format));

    /// <summary>A group's change in skill as the table writes it: its end less its start, each to a tenth (<see cref="Explanations.TenthsChange"/>).</summary>
    private static double? Change(SkillCheck check, string group) =>
        check.Summary.FirstOrDefault(s => s.Group == group) is { SkillAtStart: { } start, SkillAtEnd: { } end }
            ? Explanations.DifferenceAsWritten(end, start, Explanations.Tenths)
            : null;
}
