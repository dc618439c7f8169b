using System.Globalization;
using Recommender.Core;
using Recommender.Data;
using Recommender.Data.Models;

namespace Recommender.Web;

/// <summary>People, models and times as the admin pages say them: names, not ids; times exact and in words.</summary>
public static class AdminText
{
    /// <summary>"Ada Lovelace (ada)"; the login alone when the name says nothing more.</summary>
    public static string Person(Account account) =>
        string.IsNullOrWhiteSpace(account.DisplayName) || account.DisplayName == account.Login ? account.Login : $"{account.DisplayName} ({account.Login})";

    /// <summary>"model v3, trained 7 December 2026, 18:26 UTC, RMSE 0.810"; "…, NDCG@10 0.016" for a ranking model (one-class, on ratings of 7 or more or on activity); neither when nothing was measured.</summary>
    public static string Model(ModelPoint model) =>
        $"model v{model.Version}, trained {Exact(model.TrainedAt)}" + (model.TestRmse is { } rmse ? $", RMSE {Explanations.Measure(rmse)}"
            : model.TestNdcg is { } ndcg ? $", NDCG@10 {Explanations.Measure(ndcg)}" : "");

    /// <summary>
    /// What the model's holdout figure is measured against, in the figure's own terms: the global mean's RMSE for a rating
    /// model, popularity's NDCG@10 for a ranking model; null when neither was recorded.
    /// </summary>
    public static string? Baseline(ModelPoint model) =>
        model.TestRmse is not null && model.GlobalMeanRmse is { } mean ? $"the global mean scores {Explanations.Measure(mean)}; lower is better{Measured(model)}"
        : model.TestNdcg is not null && model.PopularityNdcg is { } popularity
            ? $"popularity scores {Explanations.Measure(popularity)}{(popularity == 0 ? ", as none of its top 10 was among what people went on to use" : "")}; higher is better{Measured(model)}"
        : null;

    /// <summary>
    /// Why the quality gate decided as it did, in its own words without the verdict ("holdout NDCG@10 0.0000 does not
    /// beat popularity's 0.0000 on 14 held-out pairs"); null for a model trained before the gate's words were kept.
    /// </summary>
    public static string? GateReason(ModelPoint model) => model.Decision is { } d ? Reason(d) : null;

    /// <summary>A training decision ("rejected: …", "not trained: …") without its verdict: the reason alone.</summary>
    public static string Reason(string decision) =>
        decision.IndexOf(": ", StringComparison.Ordinal) is var colon and > 0 ? decision[(colon + 2)..] : decision;

    /// <summary>Held-out rows below which a holdout comparison is said to rest on little: a few hits either way move NDCG@10 a lot.</summary>
    public const long FewHeldOut = 1000;

    /// <summary>
    /// Whether the holdout can tell the model from its baseline. With the lead's standard error recorded: "; the lead,
    /// 0.105 ± 0.031 over 57 people's 338 held-out pairs, is more than chance", or "; the gap, 0.004 ± 0.006 over …, is
    /// too small to tell the two apart with confidence" (within twice its standard error). Without it (a rating model,
    /// or a ranking model from before it was recorded): "; measured on only 93 held-out pairs, too few to tell the two
    /// apart with confidence", where the run recorded that few.
    /// </summary>
    /// <remarks>
    /// Decided on the figures as written, as the report's verdicts are (<see cref="Explanations.AsWritten"/>): the lead
    /// is the model's and popularity's figures as the sentence gives them, subtracted ("0.188 … popularity scores 0.073 …
    /// the lead, 0.115", where the unrounded lead reads 0.114), and it is more than chance when it is more than twice its
    /// error as written.
    /// </remarks>
    private static string Measured(ModelPoint model)
    {
        var pairs = model.Data?.HeldOut ?? 0;
        if (model.Gap is { } gap && model.TestNdcg is { } ndcg)
        {
            var lead = model.PopularityNdcg is { } popularity
                ? Explanations.DifferenceAsWritten(ndcg, popularity, Explanations.Measure)
                : Explanations.AsWritten(gap.Lead, Explanations.Measure);
            var error = Explanations.AsWritten(gap.StandardError, Explanations.Measure);
            var over = string.Create(CultureInfo.InvariantCulture,
                $"{Explanations.PlusMinus(lead, error)} over {gap.People:N0} {(gap.People == 1 ? "person's" : "people's")} {pairs:N0} held-out pairs");
            return lead > 2 * error ? $"; the lead, {over}, is more than chance" : $"; the gap, {over}, is too small to tell the two apart with confidence";
        }
        return pairs is > 0 and < FewHeldOut
            ? string.Create(CultureInfo.InvariantCulture, $"; measured on only {pairs:N0} held-out pairs, too few to tell the two apart with confidence")
            : "";
    }

    /// <summary>
    /// Said beside a popularity NDCG@10 of exactly 0, which reads like a missing figure but is a measured one: the
    /// newest tenth of activity can be all on items few people had used before (new questions, say), none of them among
    /// the ten most used, while the model still finds some.
    /// </summary>
    public const string PopularityZero = "Measured, not missing: none of the items people went on to use in the held-out newest 10% was among the 10 most used before it, so ranking by popularity found none of them.";

    /// <summary>
    /// "rank 32, λ 0.05, 14 iterations, chosen on a validation split (RMSE 0.912)", or "…, as given"; a ranking
    /// (one-class) model also names α and is chosen by NDCG@10: "rank 8, λ 50, α 2, 20 iterations, chosen on a validation
    /// split (NDCG@10 0.077)"; "…, the defaults (80 validation pairs were too few to tune on)" when a search ran short of
    /// data. A dash when unknown.
    /// </summary>
    public static string Settings(ModelSettings? settings) => settings is null
        ? "—"
        : $"rank {settings.Rank}, λ {Explanations.Number(settings.Lambda)}, "
          + (settings.Alpha is { } alpha ? $"α {Explanations.Number(alpha)}, " : "")
          + $"{settings.Iterations} iterations, "
          + (settings.Chosen
              ? "chosen on a validation split" + (settings.ValidationRmse is { } rmse ? $" (RMSE {Explanations.Measure(rmse)})"
                  : settings.ValidationNdcg is { } ndcg ? $" (NDCG@10 {Explanations.Measure(ndcg)})" : "")
              : settings.TooFewValidationPairs is { } pairs ? $"the defaults ({pairs:N0} validation pairs were too few to tune on)"
              : "as given");

    /// <summary>
    /// A served list's model as the models page names it: "v3" for a trained version. Popularity, whose stored id is a
    /// hash of the counts, is said with why it ranked the list: a goal that never personalises (no-profiling) is ranked
    /// by popularity by design, whatever model is active; a goal that does personalise got it only because no trained
    /// model had passed its gate. A goal this host no longer knows says neither.
    /// </summary>
    public static string ModelName(string? version, IObjective? goal) => version switch
    {
        null or "" => "—",
        _ when version.All(char.IsAsciiDigit) => $"v{version}",
        _ when version.StartsWith("popularity-", StringComparison.Ordinal) => goal switch
        {
            null => "popularity",
            _ when !goal.Sources.HasFlag(CandidateSources.Personal) => "popularity (this goal does not personalise)",
            _ => "popularity (no trained model)",
        },
        _ => version,
    };

    /// <summary>
    /// Whether a served list's trained model is the one serving now, said after its name on an audit record: "the model
    /// serving now", or "not the model serving now: v3 is" (or "…: none is, lists rank by popularity"). Null for a list
    /// ranked by popularity, which names no version to compare.
    /// </summary>
    public static string? ServingNow(string? servedVersion, int? servingNow) =>
        servedVersion is null || !int.TryParse(servedVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var served) ? null
        : served == servingNow ? "the model serving now"
        : servingNow is { } now ? $"not the model serving now: v{now} is"
        : "not the model serving now: none is, lists rank by popularity";

    /// <summary>
    /// The model quality chart's title as its finding: how the active model's holdout figure compares with its baseline
    /// ("Holdout NDCG@10: the active model v3 scores 0.186, 154% better than popularity"); what is charted when there is
    /// no active model with a figure. Each figure is joined to the word before it by a no-break space, so a title that
    /// wraps never leaves a number on a line apart from what it counts ("scores" and "0.000" stay together).
    /// </summary>
    /// <remarks>
    /// The comparison is decided and the percentage worked out on the figures as the page writes them (<see
    /// cref="Explanations.AsWritten"/>), as the report's verdicts are: 0.188 against popularity's 0.073 is 158% better,
    /// whatever the unrounded figures give; a popularity written 0.000 is said as such, never a percentage of it.
    /// </remarks>
    public static string QualityTitle(ModelPoint? active, bool ranking) => ranking
        ? active is { TestNdcg: { } ndcg } model
            ? $"Holdout NDCG@10: the active model\u00A0v{model.Version} scores\u00A0{Explanations.Measure(ndcg)}"
              + (model.PopularityNdcg is { } popularity ? Versus(Written(ndcg), Written(popularity)) : "")
            : "Holdout NDCG@10 per model version"
        : active is { TestRmse: { } rmse } rated
            ? $"Holdout RMSE: the active model\u00A0v{rated.Version} errs by\u00A0{Explanations.Measure(rmse)} rating points" + (Written(rated.GlobalMeanRmse) switch
            {
                null or <= 0 => "",
                { } mean when Written(rmse) < mean => $", {Percent(1 - Written(rmse) / mean)}\u00A0less than the global mean",
                _ => ", no better than the global mean",
            })
            : "Holdout RMSE per model version";

    private static string Versus(double ndcg, double popularity) => popularity switch
    {
        <= 0 => $", where popularity scores\u00A0{Explanations.Measure(0)}",
        _ when ndcg > popularity => $", {Percent(ndcg / popularity - 1)}\u00A0better than popularity",
        _ => ", no better than popularity",
    };

    private static double Written(double figure) => Explanations.AsWritten(figure, Explanations.Measure);

    private static double? Written(double? figure) => figure is { } f ? Written(f) : null;

    private static string Percent(double share) => (100 * share).ToString("0", CultureInfo.InvariantCulture) + "%";

    /// <summary>
    /// The model quality chart's caption: what it measures and what to look for — the line of versions against the
    /// dashed baseline once there are two versions; with only one there is no line yet, so its mark against the baseline's.
    /// </summary>
    public static string QualityCaption(bool ranking, int versions)
    {
        var measured = ranking
            ? "How well each model ranked what people went on to like or do in the newest 10% of ratings or activity, held out in time."
            : "Error on the newest 10% of ratings, held out in time.";
        var (better, baseline) = ranking ? ("above", "popularity") : ("below", "the global mean");
        var lookFor = versions > 1
            ? $"Look for the solid blue line of model versions staying {better} the dashed line of {baseline}."
            : $"With one model version there are no lines yet: look for its mark {better} the black mark of {baseline}; each version trained from now on adds a point to both lines.";
        var gate = ranking
            ? "A new model is activated only if it beats popularity and is within 2% of the active one."
            : "A new model is activated only within 2% of the active one.";
        return $"{measured} {lookFor} {gate}";
    }

    /// <summary>
    /// Who last made a model active, said after the time: " by ada", " by ada through the REST API", " from the command
    /// line", " by training, as it passed its gate"; empty for one activated before who did it was recorded.
    /// </summary>
    public static string Activator(ModelPoint model) => model.ActivatedBy switch
    {
        null => "",
        { Via: ModelActivator.Training } => " by training, as it passed its gate",
        { Via: ModelActivator.CommandLine } => " from the command line",
        { Via: ModelActivator.Api, Login: var login } => $" by {login ?? "an admin"} through the REST API",
        { Login: var login } => $" by {login ?? "an admin"}",
    };

    /// <summary>
    /// "41,200 ratings from 1,530 people on 880 items (4,577 newer held out to measure it)": what a model learned from,
    /// in the feedback it was trained on. A dash when the run recorded nothing.
    /// </summary>
    public static string TrainedOn(TrainingData? data) => data is null
        ? "—"
        : string.Create(CultureInfo.InvariantCulture, $"{data.Trained:N0} {FeedbackNoun(data.Feedback)} from {data.People:N0} people on {data.Items:N0} items")
          + (data.HeldOut > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({data.HeldOut:N0} newer held out to measure it)") : "");

    private static string FeedbackNoun(string feedback) => feedback switch
    {
        Training.ModelMetrics.Activity => "actions (answers, favourites and the like)",
        Training.ModelMetrics.PositiveRatings => string.Create(CultureInfo.InvariantCulture, $"ratings of {ImplicitFeedback.PositiveRating} or more"),
        _ => "ratings",
    };

    /// <summary>
    /// The one way the admin pages write a time: exact, to the minute, in words and in UTC, "7 December 2026, 18:26 UTC".
    /// Auditors line times up with records and logs, which "13 minutes ago" cannot do and a page read later gets wrong; a
    /// month in words cannot be read day-first or month-first. In markup, <c>&lt;When&gt;</c> puts it in a
    /// <c>&lt;time&gt;</c> with the instant to the second.
    /// </summary>
    public static string Exact(DateTime utc) => ReaderTime.ToMinute(utc) + " UTC";

    /// <inheritdoc cref="Exact(DateTime)"/>
    public static string Exact(DateTimeOffset when) => Exact(when.UtcDateTime);

    /// <summary>"7 December 2026, 18:26:38 UTC": the same to the second, on hover and where lists served within a minute must tell apart.</summary>
    public static string ExactToSecond(DateTime utc) => ReaderTime.ToSecond(utc) + " UTC";

    /// <summary>The text with its first letter upper case, for a phrase that starts a sentence.</summary>
    public static string Capital(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    /// <summary>
    /// "…d12ca6e": a served list's id short enough for a table. Its end, not its start: list ids are ordered by time
    /// (UUID version 7), so lists served within the same minutes share their first digits and differ in the last.
    /// </summary>
    public static string ShortId(Guid id) => "…" + id.ToString("N", CultureInfo.InvariantCulture)[^8..];

    /// <summary>For a <c>?user=</c> in the address that is not a person's number.</summary>
    public const string UnreadablePerson = "“user” in the address must be a person's number, for example 42; or search by login or name instead.";

    /// <summary>
    /// What the overview's people-per-goal table counts, added up from its rows: "34 people with a login: 32 simulated
    /// readers and 2 other accounts (1 admin). 2 never chose a goal and count under Help me learn, the default."
    /// </summary>
    public static string PeopleCounted(IReadOnlyList<ObjectiveUsage> usage, string defaultGoal)
    {
        ArgumentNullException.ThrowIfNull(usage);
        long total = usage.Sum(u => u.People), simulated = usage.Sum(u => u.Simulated), admins = usage.Sum(u => u.Admins), neverChose = usage.Sum(u => u.NeverChose);
        if (total == 0)
            return "Nobody has a login yet.";
        var others = total - simulated;
        var adminsPart = admins == 0 ? "" : $" ({Count(admins, "admin")})";
        var who = (simulated, others) switch
        {
            (0, _) => $"{People(total)} with a login{adminsPart}.",
            (_, 0) => $"{People(total)} with a login, all simulated readers.",
            _ => $"{People(total)} with a login: {Count(simulated, "simulated reader")} and {Count(others, "other account")}{adminsPart}.",
        };
        return neverChose == 0 ? who : $"{who} {neverChose.ToString("N0", CultureInfo.InvariantCulture)} never chose a goal and {(neverChose == 1 ? "counts" : "count")} under {defaultGoal}, the default.";
    }

    private static string People(long n) => n == 1 ? "1 person" : $"{n.ToString("N0", CultureInfo.InvariantCulture)} people";

    /// <summary>"1 feed", "1,204 feeds".</summary>
    public static string Count(long n, string unit) => n == 1 ? $"1 {unit}" : $"{n.ToString("N0", CultureInfo.InvariantCulture)} {unit}s";
}
