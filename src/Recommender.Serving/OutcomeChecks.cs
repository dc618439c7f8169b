using Microsoft.Extensions.Options;
using Recommender.Core;
using Recommender.Core.Objectives;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>A group of people in an outcome check, with one value per time bucket.</summary>
/// <param name="Group">An objective id (the goal the people have now), or <see cref="OutcomeChecks.OtherGoals"/>.</param>
/// <param name="Values">Per bucket; null where nobody in the group counts.</param>
/// <param name="People">Per bucket, how many people the value is the mean over.</param>
public sealed record OutcomeSeries(string Group, IReadOnlyList<double?> Values, IReadOnlyList<int> People);

/// <summary>One group's learning over the whole window.</summary>
/// <param name="Group">As in <see cref="OutcomeSeries.Group"/>.</param>
/// <param name="People">People with evidence in their topics during the window.</param>
/// <param name="Evidence">Their evidence events in the window.</param>
/// <param name="SkillAtStart">Their mean skill in their topics when the window began (a topic not yet practised counts where <see cref="SkillModel.Skill"/> would start it).</param>
/// <param name="SkillAtEnd">The same when it ended.</param>
/// <param name="ChangeLow">Lower end of the 95% interval of the mean change per person (normal approximation); null under two people.</param>
/// <param name="ChangeHigh">Upper end of that interval.</param>
public sealed record SkillSummary(string Group, int People, int Evidence, double? SkillAtStart, double? SkillAtEnd, double? ChangeLow = null, double? ChangeHigh = null)
{
    public double? Change => SkillAtEnd - SkillAtStart;

    /// <summary>Whether the interval excludes zero: the group's skill surely rose (true), surely fell (false), or it cannot say (null).</summary>
    public bool? SurelyRose => ChangeLow > 0 ? true : ChangeHigh < 0 ? false : null;
}

/// <summary>Whether learners get better in the topics they chose: mean skill per hour or day, and per group over the window.</summary>
/// <param name="Buckets"></param>
/// <param name="Series"></param>
/// <param name="Summary"></param>
/// <param name="LearningAhead">How much more the learning group's mean change is than the other goals', with its 95% interval; null when a group has under two people.</param>
public sealed record SkillCheck(TimeBuckets Buckets, IReadOnlyList<OutcomeSeries> Series, IReadOnlyList<SkillSummary> Summary,
    (double Difference, double Low, double High)? LearningAhead = null);

/// <summary>One group's breadth over the whole window.</summary>
/// <param name="Group">As in <see cref="OutcomeSeries.Group"/>.</param>
/// <param name="People">People who consumed anything in the window.</param>
/// <param name="TopicsPerBucket">Distinct topics per person per bucket, over the buckets in which each was active.</param>
/// <param name="TopicsInWindow">Distinct topics per person over the whole window.</param>
public sealed record BreadthSummary(string Group, int People, double? TopicsPerBucket, double? TopicsInWindow);

/// <summary>Whether people who chose diversity read more widely: distinct topics per person per day or week.</summary>
public sealed record BreadthCheck(TimeBuckets Buckets, IReadOnlyList<OutcomeSeries> Series, IReadOnlyList<BreadthSummary> Summary);

/// <summary>
/// Outcome checks: did the people who chose a goal get what they asked for? Learners' skill in their chosen topics,
/// and diversity readers' breadth, each against everyone on another goal. People are grouped by the goal they have
/// now (people who never chose count under the default).
/// </summary>
public sealed class OutcomeChecks(LearningStateStore learningState, EventStore events, SettingsStore settings, IOptions<ServingOptions> options)
{
    public const string OtherGoals = "other goals";

    /// <summary>
    /// Skill is not stored over time, so it is replayed: every evidence event up to the window's end, in
    /// <see cref="EvidenceEvent.Order"/>, goes through the same <see cref="SkillModel"/> (with the fitted priors in use)
    /// as the stored learning state. A person counts from their first evidence in their topics: those they chose for
    /// their goal, else at onboarding, else every topic they practised. How sure: the 95% interval of each group's mean
    /// change per person, and of the difference between the learning group and the rest.
    /// </summary>
    public async Task<SkillCheck> SkillAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default)
    {
        var buckets = TimeBuckets.ForTrends(from, to);
        var history = await learningState.EvidenceBeforeAsync(to, ct);
        var evidence = history.Events.Select(e => (e.UserId, e.ItemId, e.Kind, At: e.OccurredAt.UtcDateTime)).ToList();
        var items = history.Items;
        var people = await PeopleAsync([.. evidence.Select(e => e.UserId).Distinct()], LearningObjective.ObjectiveId, ct);

        var model = new SkillModel(history.Priors);
        var replay = new SkillReplay(model, items);
        var learners = people.ToDictionary(p => p.Key, p => new Learner(p.Value.Group, p.Value.Topics, model, replay.Learner(p.Key)));
        var groups = new[] { LearningObjective.ObjectiveId, OtherGoals };
        var values = groups.ToDictionary(g => g, _ => new double?[buckets.Count]);
        var counts = groups.ToDictionary(g => g, _ => new int[buckets.Count]);
        var next = 0;
        for (var b = 0; b <= buckets.Count; b++)
        {
            // b = 0 brings everyone up to the window's start; then bucket b - 1 is measured at its end.
            var until = buckets[b];
            for (; next < evidence.Count && evidence[next].At < until.UtcDateTime; next++)
            {
                var e = evidence[next];
                if (!items.TryGetValue(e.ItemId, out var item) || !learners.TryGetValue(e.UserId, out var learner))
                    continue;
                replay.Apply(e.UserId, e.ItemId, e.Kind);
                if (learner.Chosen is null || item.Topics.Any(learner.Chosen.Contains))
                {
                    learner.Practised = true;
                    if (b > 0)
                        learner.EvidenceInWindow++;
                }
            }
            if (b == 0)
            {
                foreach (var learner in learners.Values)
                    learner.AtStart = learner.Focus();
                continue;
            }
            foreach (var group in learners.Values.Where(l => l.Practised).GroupBy(l => l.Group))
            {
                values[group.Key][b - 1] = group.Average(l => l.Focus());
                counts[group.Key][b - 1] = group.Count();
            }
        }

        var changes = groups.ToDictionary(g => g, g => learners.Values.Where(l => l.Group == g && l.EvidenceInWindow > 0).ToList());
        var summary = groups.Select(g =>
        {
            var active = changes[g];
            var (mean, error) = MeanAndError([.. active.Select(l => l.Focus() - l.AtStart)]);
            return new SkillSummary(g, active.Count, active.Sum(l => l.EvidenceInWindow),
                active.Count == 0 ? null : active.Average(l => l.AtStart),
                active.Count == 0 ? null : active.Average(l => l.Focus()),
                error is null ? null : mean - 1.96 * error, error is null ? null : mean + 1.96 * error);
        }).ToList();
        var (learning, learningError) = MeanAndError([.. changes[LearningObjective.ObjectiveId].Select(l => l.Focus() - l.AtStart)]);
        var (others, othersError) = MeanAndError([.. changes[OtherGoals].Select(l => l.Focus() - l.AtStart)]);
        (double, double, double)? ahead = learningError is { } le && othersError is { } oe
            ? (learning - others, learning - others - 1.96 * Math.Sqrt(le * le + oe * oe), learning - others + 1.96 * Math.Sqrt(le * le + oe * oe))
            : null;
        return new SkillCheck(buckets, [.. groups.Select(g => new OutcomeSeries(g, values[g], counts[g]))], summary, ahead);
    }

    /// <summary>Mean and its standard error; the error is null under two values.</summary>
    private static (double Mean, double? Error) MeanAndError(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
            return (0, null);
        var mean = values.Average();
        if (values.Count < 2)
            return (mean, null);
        var variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
        return (mean, Math.Sqrt(variance / values.Count));
    }

    /// <summary>
    /// Distinct topics of what each person consumed (anything but impressions and "not interested") per day, or per
    /// week for windows of four weeks and more, averaged over the people active in that bucket.
    /// </summary>
    public async Task<BreadthCheck> BreadthAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default)
    {
        var buckets = TimeBuckets.ForBreadth(from, to);
        var rows = await events.TopicsConsumedAsync(buckets.Width, TimeBuckets.Origin, buckets.Start, to, ct);
        var people = await PeopleAsync([.. rows.Select(r => r.UserId).Distinct()], DiversityObjective.ObjectiveId, ct);

        var groups = new[] { DiversityObjective.ObjectiveId, OtherGoals };
        var series = new List<OutcomeSeries>();
        var summary = new List<BreadthSummary>();
        foreach (var group in groups)
        {
            var mine = rows.Where(r => people.TryGetValue(r.UserId, out var person) && person.Group == group).ToList();
            var perBucket = mine.GroupBy(r => buckets.IndexOf(new DateTimeOffset(r.Bucket, TimeSpan.Zero))).Where(g => g.Key >= 0)
                .ToDictionary(g => g.Key, g => (Mean: g.Average(r => r.TopicIds.Length), People: g.Count()));
            series.Add(new OutcomeSeries(group,
                [.. Enumerable.Range(0, buckets.Count).Select(i => perBucket.TryGetValue(i, out var v) ? v.Mean : (double?)null)],
                [.. Enumerable.Range(0, buckets.Count).Select(i => perBucket.TryGetValue(i, out var v) ? v.People : 0)]));
            var window = mine.GroupBy(r => r.UserId).Select(g => g.SelectMany(r => r.TopicIds).Distinct().Count()).ToList();
            summary.Add(new BreadthSummary(group, window.Count,
                mine.Count == 0 ? null : mine.Average(r => r.TopicIds.Length),
                window.Count == 0 ? null : window.Average()));
        }
        return new BreadthCheck(buckets, series, summary);
    }

    /// <summary>Each person's group (<paramref name="goal"/> or <see cref="OtherGoals"/>) and chosen topics (null: none chosen).</summary>
    private async Task<Dictionary<long, (string Group, HashSet<string>? Topics)>> PeopleAsync(long[] ids, string goal, CancellationToken ct)
    {
        var rows = await settings.GoalsOfAsync(ids, options.Value.DefaultObjective, ct);
        return rows.ToDictionary(r => r.UserId, r =>
        {
            var chosen = ObjectiveParameters.FromJson(r.ParametersJson).GetTextList(CommonParameters.Topics);
            IReadOnlyList<string> topics = chosen.Count > 0 ? chosen : r.OnboardingTopics;
            return (r.ObjectiveId == goal ? goal : OtherGoals, topics.Count > 0 ? topics.ToHashSet(StringComparer.Ordinal) : null);
        });
    }

    private sealed class Learner(string group, HashSet<string>? chosen, SkillModel model, Dictionary<string, TopicSkill> skills)
    {
        public string Group { get; } = group;

        public HashSet<string>? Chosen { get; } = chosen;

        public Dictionary<string, TopicSkill> Skills { get; } = skills;

        public bool Practised { get; set; }

        public int EvidenceInWindow { get; set; }

        public double AtStart { get; set; }

        /// <summary>Mean skill over the chosen topics (one not yet practised is where the model would start it), else over every topic practised.</summary>
        public double Focus()
        {
            var topics = Chosen ?? SkillModel.Topics(Skills).Select(s => s.Topic);
            var skills = topics.Select(t => model.Skill(Skills, t)).ToList();
            return skills.Count == 0 ? model.Priors.StartSkill : skills.Average();
        }
    }
}
