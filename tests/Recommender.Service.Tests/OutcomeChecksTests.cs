using Dapper;
using Microsoft.Extensions.Options;
using Recommender.Core;
using Recommender.Data;
using Recommender.Serving;
using Recommender.Testing;

namespace Recommender.Service.Tests;

/// <summary>
/// The outcome checks credit each goal with what happened while it was in force, read from the lists served: someone
/// who changes settings does not carry their past to their new goal. Each test has its own window, far from the other's.
/// </summary>
public sealed class OutcomeChecksTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();
    private IReadOnlyDictionary<string, long> _items = null!;

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        _items = await SmallWorld.SeedAsync(_db.DataSource);
    }

    public Task DisposeAsync() => _db.DisposeAsync();

    private OutcomeChecks Checks() => new(new LearningStateStore(_db.DataSource), new EventStore(_db.DataSource), new SettingsStore(_db.DataSource),
        new ServedListStore(_db.DataSource), Options.Create(new ServingOptions()));

    [Fact]
    public async Task SkillAsync_credits_each_goal_with_the_evidence_given_while_it_was_served()
    {
        var end = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var day = (int d, int hour) => new DateTimeOffset(2026, 2, d, hour, 0, 0, TimeSpan.Zero);
        // Items 5, 21, 37, 53 and 69 are about Physics only.
        var switcher = await PersonAsync("learning then engagement", "engagement", "{}");
        await ServeAsync(switcher, "learning", """{"topics":["Physics"]}""", day(15, 0));
        await EvidenceAsync(switcher, EventKind.QuizCorrect, ("item-5", day(21, 12)), ("item-21", day(22, 12)), ("item-37", day(23, 12)));
        await ServeAsync(switcher, "engagement", "{}", day(25, 6));
        await EvidenceAsync(switcher, EventKind.QuizCorrect, ("item-53", day(26, 12)), ("item-69", day(27, 12)));
        var learner = await PersonAsync("always learning", "learning", """{"topics":["Physics"]}""");
        await ServeAsync(learner, "learning", """{"topics":["Physics"]}""", day(15, 0));
        await EvidenceAsync(learner, EventKind.QuizCorrect, ("item-5", day(21, 12)), ("item-21", day(23, 12)));
        var engaged = await PersonAsync("always engagement", "engagement", "{}");
        await ServeAsync(engaged, "engagement", "{}", day(15, 0));
        await EvidenceAsync(engaged, EventKind.QuizWrong, ("item-5", day(22, 12)));

        var check = await Checks().SkillAsync(end.AddDays(-9), end);

        var learning = check.Summary.Single(s => s.Group == "learning");
        var others = check.Summary.Single(s => s.Group == OutcomeChecks.OtherGoals);
        // The switcher's three answers under learning stay with learning; their two later ones go to engagement.
        Assert.Equal((2, 5), (learning.People, learning.Evidence));
        Assert.Equal((2, 3), (others.People, others.Evidence));
        Assert.True(learning.Change > 0, $"correct answers raise the learners' skill: {learning.Change}");
        Assert.NotNull(learning.ChangeLow);
        // Each bucket counts people by the goal in force at its end: the switcher is a learner until the 25th.
        var series = check.Series.ToDictionary(s => s.Group);
        var index = (int d) => check.Buckets.IndexOf(day(d, 12));
        Assert.Equal(2, series["learning"].People[index(24)]);
        Assert.Equal(1, series["learning"].People[index(26)]);
        Assert.Equal(2, series[OutcomeChecks.OtherGoals].People[index(26)]);
        // What the learners had at the end of their learning evidence, both in the summary and on the 24th's point.
        Assert.Equal(series["learning"].Values[index(24)]!.Value, learning.SkillAtEnd!.Value, 6);
    }

    [Fact]
    public async Task BreadthAsync_counts_each_consumption_toward_the_goal_it_was_served_under()
    {
        var end = new DateTimeOffset(2025, 11, 1, 0, 0, 0, TimeSpan.Zero);
        var day = (int d, int hour) => new DateTimeOffset(2025, 10, d, hour, 0, 0, TimeSpan.Zero);
        // Items 1, 6 and 11 cover all four topics between them; 0, 16 and 32 are about Oceans only.
        var switcher = await PersonAsync("diversity then engagement", "engagement", "{}");
        await ServeAsync(switcher, "diversity", "{}", day(20, 0));
        await EvidenceAsync(switcher, EventKind.Click, ("item-1", day(27, 9)), ("item-6", day(27, 10)), ("item-11", day(27, 11)));
        await ServeAsync(switcher, "engagement", "{}", day(28, 0));
        await EvidenceAsync(switcher, EventKind.Click, ("item-0", day(29, 9)), ("item-16", day(29, 10)));
        // Never served a list: what is stored now stands in.
        var unserved = await PersonAsync("diversity, never served", "diversity", "{}");
        await EvidenceAsync(unserved, EventKind.Click, ("item-32", day(27, 9)));

        var check = await Checks().BreadthAsync(end.AddDays(-7), end);

        var diversity = check.Summary.Single(s => s.Group == "diversity");
        var others = check.Summary.Single(s => s.Group == OutcomeChecks.OtherGoals);
        Assert.Equal((2, 2.5), (diversity.People, diversity.TopicsInWindow));
        Assert.Equal((1, 1.0), (others.People, others.TopicsInWindow));
        var series = check.Series.ToDictionary(s => s.Group);
        Assert.Equal(2.5, series["diversity"].Values[check.Buckets.IndexOf(day(27, 0))]);
        Assert.Null(series["diversity"].Values[check.Buckets.IndexOf(day(29, 0))]);
        Assert.Equal(1.0, series[OutcomeChecks.OtherGoals].Values[check.Buckets.IndexOf(day(29, 0))]);
    }

    [Fact]
    public async Task BreadthAsync_says_how_sure_the_difference_between_diversity_readers_and_the_rest_is()
    {
        var end = new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);
        // Items 1, 6 and 11 cover all four topics between them, item 2 three of them; 0, 16 and 32 are about Oceans only.
        foreach (var (name, wide) in new[] { ("wide 1", new[] { "item-1", "item-6", "item-11" }), ("wide 2", ["item-1", "item-6"]), ("wide 3", ["item-6", "item-11", "item-2"]) })
        {
            var reader = await PersonAsync(name, "diversity", "{}");
            await ServeAsync(reader, "diversity", "{}", end.AddDays(-6));
            await EvidenceAsync(reader, EventKind.Click, [.. wide.Select((item, i) => (item, end.AddDays(-5).AddHours(i)))]);
        }
        foreach (var (name, narrow) in new[] { ("narrow 1", new[] { "item-0" }), ("narrow 2", ["item-16", "item-32"]), ("narrow 3", ["item-0", "item-16"]) })
        {
            var reader = await PersonAsync(name, "engagement", "{}");
            await ServeAsync(reader, "engagement", "{}", end.AddDays(-6));
            await EvidenceAsync(reader, EventKind.Click, [.. narrow.Select((item, i) => (item, end.AddDays(-5).AddHours(i)))]);
        }

        var check = await Checks().BreadthAsync(end.AddDays(-7), end);

        var (difference, low, high) = Assert.NotNull(check.DiversityAhead).ToTuple();
        Assert.True(low > 0 && low < difference && difference < high, $"{difference} ({low} to {high})");
        var diversity = check.Summary.Single(s => s.Group == "diversity");
        var others = check.Summary.Single(s => s.Group == OutcomeChecks.OtherGoals);
        Assert.Equal(diversity.TopicsInWindow!.Value - others.TopicsInWindow!.Value, difference, 9);
    }

    [Fact]
    public async Task BreadthAsync_leaves_out_the_week_still_in_progress_so_it_does_not_read_as_a_fall()
    {
        // Monday 7 September 2026, 05:00: a 30-day window is counted in weeks, and the week begun at midnight has five hours in it.
        var end = new DateTimeOffset(2026, 9, 7, 5, 0, 0, TimeSpan.Zero);
        var reader = await PersonAsync("reads every week", "diversity", "{}");
        await ServeAsync(reader, "diversity", "{}", end.AddDays(-20));
        await EvidenceAsync(reader, EventKind.Click, ("item-5", end.AddDays(-5)), ("item-6", end.AddDays(-5)), ("item-21", end.AddHours(-2)));

        var check = await Checks().BreadthAsync(end.AddDays(-30), end);

        Assert.Equal(TimeBuckets.Week, check.Buckets.Width);
        Assert.Equal(check.Buckets.Count - 1, check.Buckets.InProgressAt(end));
        var diversity = Assert.Single(check.Series, s => s.Group == "diversity");
        // The last whole week holds the two clicks; the week in progress has no point, though the window counts its click.
        Assert.Equal(2.0, diversity.Values[^2]);
        Assert.Null(diversity.Values[^1]);
        var summary = Assert.Single(check.Summary, s => s.Group == "diversity");
        Assert.Equal((2.0, 2.0), (summary.TopicsPerBucket, summary.TopicsInWindow));
        // One diversity reader: too few to say how sure a difference is.
        Assert.Null(check.DiversityAhead);

        // A window inside one day has only the day in progress, which is shown as it stands.
        var today = await Checks().BreadthAsync(end.AddHours(-4), end);
        Assert.Equal(1, today.Buckets.Count);
        Assert.Equal(1.0, Assert.Single(today.Series, s => s.Group == "diversity").Values[0]);
    }

    [Fact]
    public async Task GoalChangesAsync_returns_only_the_lists_that_changed_goal_or_settings()
    {
        var at = new DateTimeOffset(2024, 6, 1, 0, 0, 0, TimeSpan.Zero);
        var person = await PersonAsync("changes twice", "learning", "{}");
        await ServeAsync(person, "learning", """{"topics":["Physics"]}""", at);
        await ServeAsync(person, "learning", """{"topics":["Physics"]}""", at.AddHours(1));
        await ServeAsync(person, "learning", """{"topics":["Music"]}""", at.AddHours(2));
        await ServeAsync(person, "engagement", "{}", at.AddHours(3));
        await ServeAsync(person, "engagement", "{}", at.AddHours(4));
        await ServeAsync(person, "diversity", "{}", at.AddHours(5));

        var changes = await new ServedListStore(_db.DataSource).GoalChangesAsync([person], at.AddHours(5));

        Assert.Equal([(0, "learning"), (2, "learning"), (3, "engagement")],
            changes.Select(c => ((int)(c.At - at.UtcDateTime).TotalHours, c.ObjectiveId)));
    }

    private async Task<long> PersonAsync(string name, string objectiveId, string parametersJson)
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var id = await conn.ExecuteScalarAsync<long>("insert into users (display_name) values (@name) returning id", new { name });
        await new SettingsStore(_db.DataSource).SetAsync(id, objectiveId, parametersJson);
        return id;
    }

    private async Task ServeAsync(long userId, string objectiveId, string parametersJson, DateTimeOffset at)
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("""
            insert into served_lists (user_id, request_id, objective_id, objective_version, parameters_hash, parameters, seed, model_version, candidates_considered, items, created_at)
            values (@userId, @requestId, @objectiveId, '1', 'hash', @parametersJson::jsonb, 1, 'popularity', 0, '[]', @at)
            """, new { userId, requestId = Guid.NewGuid(), objectiveId, parametersJson, at = at.UtcDateTime });
    }

    private Task EvidenceAsync(long userId, EventKind kind, params (string Item, DateTimeOffset At)[] events) =>
        new EventStore(_db.DataSource).AppendAsync([.. events.Select(e => new NewEvent(userId, _items[e.Item], kind, null, e.At, $"outcome-{Guid.NewGuid():N}"))]);
}
