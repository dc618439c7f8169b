using Microsoft.Extensions.Options;
using Recommender.Core;
using Recommender.Core.Objectives;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>A group of people in an outcome check, with one value per time bucket.</summary>
/// <param name="Group">An objective id (the goal in force when the lists were served), or <see cref="OutcomeChecks.OtherGoals"/>.</param>
/// <param name="Values">Per bucket; null where nobody in the group counts.</param>
/// <param name="People">Per bucket, how many people the value is the mean over.</param>
public sealed record OutcomeSeries(string Group, IReadOnlyList<double?> Values, IReadOnlyList<int> People);

/// <summary>
/// One group's learning over the whole window. The unit is a person on a goal: someone who switched between the groups
/// in the window counts once in each, with what they gained while on it.
/// </summary>
/// <param name="Group">As in <see cref="OutcomeSeries.Group"/>.</param>
/// <param name="People">People with evidence in their topics while on this group's goal during the window.</param>
/// <param name="Evidence">Those evidence events.</param>
/// <param name="SkillAtStart">Their mean skill in that goal's topics just before their first evidence under it in the window (a topic not yet practised counts where <see cref="SkillModel.Skill"/> would start it).</param>
/// <param name="SkillAtEnd">That plus the change gained under the goal.</param>
/// <param name="ChangeLow">Lower end of the 95% interval of the mean change per person on the goal (normal approximation); null under two people.</param>
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
/// <param name="TopicsPerBucket">Distinct topics per person per bucket, over the whole buckets in which each was active (not the one still in progress, <see cref="TimeBuckets.InProgressAt"/>).</param>
/// <param name="TopicsInWindow">Distinct topics per person over the whole window.</param>
public sealed record BreadthSummary(string Group, int People, double? TopicsPerBucket, double? TopicsInWindow);

/// <summary>Whether people who chose diversity read more widely: distinct topics per person per day or week.</summary>
/// <param name="Buckets">The days or weeks of the window.</param>
/// <param name="Series">Per group, distinct topics per person in each bucket.</param>
/// <param name="Summary">Per group, over the whole window.</param>
/// <param name="DiversityAhead">
/// How many more distinct topics over the window a diversity reader read than someone on another goal, per person, with
/// its 95% interval (normal approximation); null when a group has under two people.
/// </param>
public sealed record BreadthCheck(TimeBuckets Buckets, IReadOnlyList<OutcomeSeries> Series, IReadOnlyList<BreadthSummary> Summary,
    (double Difference, double Low, double High)? DiversityAhead = null);

/// <summary>
/// Outcome checks: did the people who chose a goal get what they asked for? Learners' skill in their chosen topics,
/// and diversity readers' breadth, each against everyone on another goal. Evidence counts toward the goal in force when
/// it happened: that of the latest list served to the person at or before it, with that list's chosen topics (else their
/// onboarding topics as stored now), read from the audit log. So a change of settings does not rewrite the past. Before a
/// person's first served list, what is stored now stands in (people who never chose count under the default).
/// </summary>
public sealed class OutcomeChecks(LearningStateStore learningState, EventStore events, SettingsStore settings, ServedListStore servedLists, IOptions<ServingOptions> options)
{
    public const string OtherGoals = "other goals";

    /// <summary>
    /// Skill is not stored over time, so it is replayed: every evidence event up to the window's end, in
    /// <see cref="EvidenceEvent.Order"/>, goes through the same <see cref="SkillModel"/> (with the fitted priors in use)
    /// as the stored learning state. Each event in the window credits the goal in force at it with how much it moved the
    /// person's mean skill in that goal's topics (those chosen, else at onboarding, else every topic practised); for
    /// someone who never switched, these add up to their change over the window. Each bucket's point counts people by the
    /// goal in force at the bucket's end, from their first evidence in its topics. How sure: the 95% interval of each
    /// group's mean change per person on the goal, and of the difference between the learning group and the rest
    /// (treated as independent, though someone who switched is in both).
    /// </summary>
    public async Task<SkillCheck> SkillAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default)
    {
        var buckets = TimeBuckets.ForTrends(from, to);
        var history = await learningState.EvidenceBeforeAsync(to, ct);
        var evidence = history.Events.Select(e => (e.UserId, e.ItemId, e.Kind, At: e.OccurredAt.UtcDateTime)).ToList();
        var items = history.Items;
        var goals = await GoalsAsync([.. evidence.Select(e => e.UserId).Distinct()], to, ct);

        var model = new SkillModel(history.Priors);
        var replay = new SkillReplay(model, items);
        var learners = goals.ToDictionary(p => p.Key, p => new Learner(p.Value, model, replay.Learner(p.Key)));
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
                var goal = b > 0 ? learner.Goals.At(e.At) : null;
                var before = goal is null ? 0 : learner.Focus(goal.Topics);
                replay.Apply(e.UserId, e.ItemId, e.Kind);
                learner.Practise(item.Topics);
                if (goal is not null)
                    learner.Credit(Group(goal.ObjectiveId, LearningObjective.ObjectiveId), before, learner.Focus(goal.Topics), goal.Covers(item.Topics));
            }
            if (b == 0)
                continue;
            var end = until.UtcDateTime;
            foreach (var group in learners.Values.Select(l => (Learner: l, Goal: l.Goals.At(end))).Where(l => l.Learner.HasPractised(l.Goal.Topics))
                         .GroupBy(l => Group(l.Goal.ObjectiveId, LearningObjective.ObjectiveId)))
            {
                values[group.Key][b - 1] = group.Average(l => l.Learner.Focus(l.Goal.Topics));
                counts[group.Key][b - 1] = group.Count();
            }
        }

        var changes = groups.ToDictionary(g => g, g => learners.Values
            .Select(l => l.Shares.GetValueOrDefault(g)).OfType<GoalShare>().Where(s => s.Evidence > 0).ToList());
        var summary = groups.Select(g =>
        {
            var active = changes[g];
            var (mean, error) = MeanAndError([.. active.Select(s => s.Change)]);
            return new SkillSummary(g, active.Count, active.Sum(s => s.Evidence),
                active.Count == 0 ? null : active.Average(s => s.AtStart),
                active.Count == 0 ? null : active.Average(s => s.AtStart + s.Change),
                error is null ? null : mean - 1.96 * error, error is null ? null : mean + 1.96 * error);
        }).ToList();
        var (learning, learningError) = MeanAndError([.. changes[LearningObjective.ObjectiveId].Select(s => s.Change)]);
        var (others, othersError) = MeanAndError([.. changes[OtherGoals].Select(s => s.Change)]);
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
    /// week for windows of four weeks and more, averaged over the people active in that bucket. Each consumption counts
    /// toward the goal in force at it, so someone who switched counts in both groups, with what they read under each.
    /// </summary>
    public async Task<BreadthCheck> BreadthAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default)
    {
        var buckets = TimeBuckets.ForBreadth(from, to);
        // The week (or day) still in progress counts over the whole window but has no point of its own until it ends.
        var inProgress = buckets.InProgressAt(to);
        var consumed = await events.TopicsConsumedAsync(buckets.Width, TimeBuckets.Origin, buckets.Start, to, ct);
        // Only consumptions before a person's first served list need what is stored now.
        var now = (await settings.GoalsOfAsync([.. consumed.Where(r => r.ObjectiveId is null).Select(r => r.UserId).Distinct()], options.Value.DefaultObjective, ct))
            .ToDictionary(r => r.UserId, r => r.ObjectiveId);
        var rows = consumed
            .Select(r => (r.UserId, r.Bucket, Goal: r.ObjectiveId ?? now.GetValueOrDefault(r.UserId), r.TopicIds))
            .Where(r => r.Goal is not null)
            .GroupBy(r => (r.UserId, r.Bucket, Group: Group(r.Goal!, DiversityObjective.ObjectiveId)))
            .Select(g => (g.Key.UserId, g.Key.Bucket, g.Key.Group, TopicIds: g.SelectMany(r => r.TopicIds).Distinct().ToArray()))
            .ToList();

        var groups = new[] { DiversityObjective.ObjectiveId, OtherGoals };
        var series = new List<OutcomeSeries>();
        var summary = new List<BreadthSummary>();
        var perPerson = new Dictionary<string, (double Mean, double? Error)>();
        foreach (var group in groups)
        {
            var mine = rows.Where(r => r.Group == group).ToList();
            var whole = mine.Where(r => buckets.IndexOf(new DateTimeOffset(r.Bucket, TimeSpan.Zero)) is var i && i >= 0 && i != inProgress).ToList();
            var perBucket = whole.GroupBy(r => buckets.IndexOf(new DateTimeOffset(r.Bucket, TimeSpan.Zero)))
                .ToDictionary(g => g.Key, g => (Mean: g.Average(r => r.TopicIds.Length), People: g.Count()));
            series.Add(new OutcomeSeries(group,
                [.. Enumerable.Range(0, buckets.Count).Select(i => perBucket.TryGetValue(i, out var v) ? v.Mean : (double?)null)],
                [.. Enumerable.Range(0, buckets.Count).Select(i => perBucket.TryGetValue(i, out var v) ? v.People : 0)]));
            var window = mine.GroupBy(r => r.UserId).Select(g => g.SelectMany(r => r.TopicIds).Distinct().Count()).ToList();
            perPerson[group] = MeanAndError([.. window.Select(n => (double)n)]);
            summary.Add(new BreadthSummary(group, window.Count,
                whole.Count == 0 ? null : whole.Average(r => r.TopicIds.Length),
                window.Count == 0 ? null : window.Average()));
        }
        var (diversity, others) = (perPerson[DiversityObjective.ObjectiveId], perPerson[OtherGoals]);
        (double, double, double)? ahead = diversity.Error is { } de && others.Error is { } oe
            ? (diversity.Mean - others.Mean, diversity.Mean - others.Mean - 1.96 * Math.Sqrt(de * de + oe * oe), diversity.Mean - others.Mean + 1.96 * Math.Sqrt(de * de + oe * oe))
            : null;
        return new BreadthCheck(buckets, series, summary, ahead);
    }

    /// <summary>The group a goal counts in: <paramref name="goal"/> itself, or <see cref="OtherGoals"/>.</summary>
    private static string Group(string objectiveId, string goal) => objectiveId == goal ? goal : OtherGoals;

    /// <summary>
    /// Each person's goals over time up to <paramref name="before"/>: one per change in their served lists (one query for
    /// everyone), and what is stored now for the time before their first list.
    /// </summary>
    private async Task<Dictionary<long, GoalTimeline>> GoalsAsync(long[] ids, DateTimeOffset before, CancellationToken ct)
    {
        var current = await settings.GoalsOfAsync(ids, options.Value.DefaultObjective, ct);
        var served = (await servedLists.GoalChangesAsync(ids, before, ct)).ToLookup(c => c.UserId);
        return current.ToDictionary(r => r.UserId, r => new GoalTimeline(
            Goal.Of(r.ObjectiveId, r.ParametersJson, r.OnboardingTopics),
            [.. served[r.UserId].Select(c => c.At.Ticks)],
            [.. served[r.UserId].Select(c => Goal.Of(c.ObjectiveId, c.ParametersJson, r.OnboardingTopics))]));
    }

    /// <summary>A goal as the checks read it: the objective, and its topics (null: none chosen, so every topic practised).</summary>
    private sealed record Goal(string ObjectiveId, HashSet<string>? Topics)
    {
        /// <summary>The topics chosen in <paramref name="parametersJson"/>, else <paramref name="onboarding"/>.</summary>
        public static Goal Of(string objectiveId, string parametersJson, IReadOnlyList<string> onboarding)
        {
            var chosen = ObjectiveParameters.FromJson(parametersJson).GetTextList(CommonParameters.Topics);
            IReadOnlyList<string> topics = chosen.Count > 0 ? chosen : onboarding;
            return new Goal(objectiveId, topics.Count > 0 ? topics.ToHashSet(StringComparer.Ordinal) : null);
        }

        /// <summary>Whether an item on <paramref name="itemTopics"/> is evidence in this goal's topics.</summary>
        public bool Covers(IReadOnlyCollection<string> itemTopics) => Topics is null || itemTopics.Any(Topics.Contains);
    }

    /// <summary>One person's goals: <paramref name="goals"/> from each of <paramref name="since"/> (ticks, ascending) on, and <paramref name="stored"/> before the first.</summary>
    private sealed class GoalTimeline(Goal stored, long[] since, Goal[] goals)
    {
        /// <summary>The goal of the latest change at or before <paramref name="time"/>.</summary>
        public Goal At(DateTime time)
        {
            int low = 0, high = since.Length;
            while (low < high)
            {
                var middle = (low + high) / 2;
                if (since[middle] <= time.Ticks)
                    low = middle + 1;
                else
                    high = middle;
            }
            return low == 0 ? stored : goals[low - 1];
        }
    }

    /// <summary>What one person gained while on one group's goal in the window.</summary>
    private sealed class GoalShare(double atStart)
    {
        /// <summary>Their mean skill in the goal's topics just before their first evidence under it in the window.</summary>
        public double AtStart { get; } = atStart;

        public double Change { get; set; }

        /// <summary>Evidence in the goal's topics.</summary>
        public int Evidence { get; set; }
    }

    private sealed class Learner(GoalTimeline goals, SkillModel model, Dictionary<string, TopicSkill> skills)
    {
        private readonly HashSet<string> _practised = new(StringComparer.Ordinal);
        private bool _anyEvidence;

        public GoalTimeline Goals { get; } = goals;

        public Dictionary<string, GoalShare> Shares { get; } = [];

        public void Practise(IReadOnlyCollection<string> topics)
        {
            _anyEvidence = true;
            _practised.UnionWith(topics);
        }

        /// <summary>Whether they have evidence in <paramref name="topics"/> yet (in any topic, when null).</summary>
        public bool HasPractised(HashSet<string>? topics) => topics is null ? _anyEvidence : topics.Overlaps(_practised);

        /// <summary>Credits <paramref name="group"/> with one event's move from <paramref name="before"/> to <paramref name="after"/>.</summary>
        public void Credit(string group, double before, double after, bool inTopics)
        {
            if (!Shares.TryGetValue(group, out var share))
                share = Shares[group] = new GoalShare(before);
            share.Change += after - before;
            if (inTopics)
                share.Evidence++;
        }

        /// <summary>Mean skill over <paramref name="topics"/> (one not yet practised is where the model would start it), else over every topic practised.</summary>
        public double Focus(HashSet<string>? topics)
        {
            var chosen = topics ?? SkillModel.Topics(skills).Select(s => s.Topic);
            var values = chosen.Select(t => model.Skill(skills, t)).ToList();
            return values.Count == 0 ? model.Priors.StartSkill : values.Average();
        }
    }
}
