using Dapper;
using Recommender.Core;
using Recommender.Data.Import;
using Recommender.Testing;

namespace Recommender.Data.Tests;

/// <summary>The same answers give the same learner and item state whether they came live, by import, or by a rebuild.</summary>
public sealed class LearningStateTests : IAsyncLifetime
{
    private readonly TestDatabase _live = new();
    private readonly TestDatabase _imported = new();

    public async Task InitializeAsync()
    {
        await _live.InitializeAsync();
        await _imported.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _live.DisposeAsync();
        await _imported.DisposeAsync();
    }

    private static readonly DateTimeOffset Start = new(2026, 1, 5, 9, 0, 0, TimeSpan.Zero);

    /// <summary>Eight learners answering 40 questions each on three topics; who gets what right follows a fixed hash.</summary>
    private static ImportBatch Answers(bool withEvents)
    {
        var batch = new ImportBatch();
        string[] topics = ["algebra", "biology", "chemistry"];
        for (var i = 0; i < 30; i++)
            batch.Items.Add(new ItemRow(i + 2, $"q{i}", $"Question {i}", null, null, null, (short)(i % 5 + 1), null, null,
                i % 10 == 9 ? [topics[i % 3], topics[(i + 1) % 3]] : [topics[i % 3]]));
        if (!withEvents)
            return batch;
        var line = 2;
        for (var step = 0; step < 40; step++)
        {
            for (var u = 0; u < 8; u++)
            {
                var item = (step * 7 + u * 3) % 30;
                var right = (step * 31 + u * 17 + item * 13) % 10 < 4 + u % 4 + step / 10;
                var kind = step % 13 == 12 ? EventKind.TooEasy : right ? EventKind.QuizCorrect : EventKind.QuizWrong;
                var at = Start.AddMinutes(step * 10 + u);
                batch.Events.Add(new EventRow(line++, $"u{u}", $"q{item}", kind, null, at, ImportBatch.DerivedKey(kind, $"q{item}", at)));
            }
        }
        return batch;
    }

    private sealed record State(List<(string User, string Topic, float Skill, int Evidence)> Skills, List<(string Item, float? Difficulty, int Evidence)> Items,
        List<(string User, float Ability, int Evidence)> General);

    private static async Task<State> StateAsync(TestDatabase db)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var skills = (await conn.QueryAsync<(string, string, float, int)>("""
            select u.external_id, t.name, ls.skill, ls.evidence_count from learning_state ls
            join users u on u.id = ls.user_id join topics t on t.id = ls.topic_id order by 1, 2
            """)).AsList();
        var items = (await conn.QueryAsync<(string, float?, int)>(
            "select external_id, difficulty, difficulty_evidence from items order by external_id")).AsList();
        var general = (await conn.QueryAsync<(string, float, int)>("""
            select u.external_id, la.ability, la.evidence_count from learner_ability la join users u on u.id = la.user_id order by 1
            """)).AsList();
        return new State(skills, items, general);
    }

    /// <summary>Live ingest: the catalog by import, then the answers through the event store in batches, in time order.</summary>
    private async Task IngestLiveAsync()
    {
        var all = Answers(withEvents: true);
        await new CatalogImporter(_live.DataSource).ImportAsync(Answers(withEvents: false));
        await using var conn = await _live.DataSource.OpenConnectionAsync();
        var users = new Dictionary<string, long>();
        foreach (var name in all.Events.Select(e => e.UserExternalId).Distinct())
            users[name] = await conn.ExecuteScalarAsync<long>("insert into users (external_id, display_name) values (@name, @name) returning id", new { name });
        var items = (await conn.QueryAsync<(string, long)>("select external_id, id from items")).ToDictionary(r => r.Item1, r => r.Item2);
        var store = new EventStore(_live.DataSource);
        foreach (var batch in all.Events.Chunk(37))
        {
            await store.AppendAsync([.. batch.Select(e => new NewEvent(users[e.UserExternalId], items[e.ItemExternalId], e.Kind, e.Value, e.OccurredAt, e.IdempotencyKey))]);
        }
    }

    private static void AssertSame(State expected, State actual, double tolerance)
    {
        Assert.Equal(expected.Skills.Count, actual.Skills.Count);
        Assert.Equal(expected.Items.Count, actual.Items.Count);
        foreach (var (e, a) in expected.Skills.Zip(actual.Skills))
        {
            Assert.Equal((e.User, e.Topic, e.Evidence), (a.User, a.Topic, a.Evidence));
            Assert.True(Math.Abs(e.Skill - a.Skill) <= tolerance, $"{e.User}/{e.Topic}: {e.Skill} vs {a.Skill}");
        }
        Assert.Equal(expected.General.Count, actual.General.Count);
        foreach (var (e, a) in expected.General.Zip(actual.General))
        {
            Assert.Equal((e.User, e.Evidence), (a.User, a.Evidence));
            Assert.True(Math.Abs(e.Ability - a.Ability) <= tolerance, $"{e.User}: general ability {e.Ability} vs {a.Ability}");
        }
        foreach (var (e, a) in expected.Items.Zip(actual.Items))
        {
            Assert.Equal((e.Item, e.Evidence, e.Difficulty is null), (a.Item, a.Evidence, a.Difficulty is null));
            Assert.True(Math.Abs((e.Difficulty ?? 0) - (a.Difficulty ?? 0)) <= tolerance, $"{e.Item}: {e.Difficulty} vs {a.Difficulty}");
        }
    }

    [Fact]
    public async Task Taking_back_an_answer_takes_it_out_of_that_learners_skill_and_no_one_elses()
    {
        await IngestLiveAsync();
        var before = await StateAsync(_live);
        var all = Answers(withEvents: true);
        var last = all.Events.Last(e => e.UserExternalId == "u0");
        var topics = all.Items.Single(i => i.ExternalId == last.ItemExternalId).Topics;
        await using var conn = await _live.DataSource.OpenConnectionAsync();
        var u0 = await conn.ExecuteScalarAsync<long>("select id from users where external_id = 'u0'");
        var store = new EventStore(_live.DataSource);

        Assert.True(await store.RetractAsync(u0, last.IdempotencyKey));

        var after = await StateAsync(_live);
        // u0's skill in the answer's topics rests on one answer fewer, and so does their general ability.
        foreach (var (b, a) in before.Skills.Where(s => s.User == "u0").Zip(after.Skills.Where(s => s.User == "u0")))
            Assert.Equal((b.Topic, topics.Contains(b.Topic) ? b.Evidence - 1 : b.Evidence), (a.Topic, a.Evidence));
        Assert.Equal(before.General.Single(g => g.User == "u0").Evidence - 1, after.General.Single(g => g.User == "u0").Evidence);
        Assert.NotEqual(before.Skills.Single(s => s.User == "u0" && s.Topic == topics[0]).Skill, after.Skills.Single(s => s.User == "u0" && s.Topic == topics[0]).Skill);
        // Everyone else, and every item, exactly as they were.
        Assert.Equal(before.Skills.Where(s => s.User != "u0"), after.Skills.Where(s => s.User != "u0"));
        Assert.Equal(before.General.Where(g => g.User != "u0"), after.General.Where(g => g.User != "u0"));
        Assert.Equal(before.Items, after.Items);

        // A learner whose only answer is taken back is where they started: no skill at all.
        var solo = await conn.ExecuteScalarAsync<long>("insert into users (external_id, display_name) values ('solo', 'Solo') returning id");
        var item = await conn.ExecuteScalarAsync<long>("select id from items where external_id = 'q3'");
        await store.AppendAsync([new NewEvent(solo, item, EventKind.TooEasy, null, Start.AddDays(2), "solo-1")]);
        Assert.Contains((await StateAsync(_live)).Skills, s => s.User == "solo");
        Assert.True(await store.RetractAsync(solo, "solo-1"));
        var end = await StateAsync(_live);
        Assert.DoesNotContain(end.Skills, s => s.User == "solo");
        Assert.DoesNotContain(end.General, g => g.User == "solo");
        Assert.False(await store.RetractAsync(solo, "solo-1"));
    }

    [Fact]
    public async Task Live_ingest_import_and_rebuild_end_in_the_same_state()
    {
        await IngestLiveAsync();
        await new CatalogImporter(_imported.DataSource).ImportAsync(Answers(withEvents: true));

        var live = await StateAsync(_live);
        var imported = await StateAsync(_imported);
        // 8 learners with 40 answers each, in every topic; an answer on a two-topic item counts in both.
        Assert.Equal(24, live.Skills.Count);
        var topics = Answers(withEvents: false).Items.ToDictionary(i => i.ExternalId, i => i.Topics.Length);
        Assert.Equal(Answers(withEvents: true).Events.Sum(e => topics[e.ItemExternalId]), live.Skills.Sum(s => s.Evidence));
        Assert.All(live.Items, i => Assert.True(i.Evidence > 0, $"{i.Item} was answered"));
        // Each learner's general ability counts their 40 answers once, and has moved from the population's.
        Assert.Equal(8, live.General.Count);
        Assert.All(live.General, g => Assert.Equal(40, g.Evidence));
        Assert.Contains(live.General, g => Math.Abs(g.Ability) > 1);
        // Live batches store skills as real (float) between batches; the import keeps doubles throughout.
        AssertSame(live, imported, tolerance: 0.01);

        var liveRebuild = await new LearningStateStore(_live.DataSource).RebuildAsync();
        var importedRebuild = await new LearningStateStore(_imported.DataSource).RebuildAsync();
        Assert.Equal(320, liveRebuild.Events);
        Assert.Equal(liveRebuild.Priors.Guess, importedRebuild.Priors.Guess);
        Assert.Equal(liveRebuild.Priors.StartSkill, importedRebuild.Priors.StartSkill);
        var rebuilt = await StateAsync(_live);
        AssertSame(rebuilt, await StateAsync(_imported), tolerance: 0);
        Assert.NotEqual(live.Skills.Select(s => s.Skill), rebuilt.Skills.Select(s => s.Skill));

        await new LearningStateStore(_live.DataSource).RebuildAsync();
        AssertSame(rebuilt, await StateAsync(_live), tolerance: 0);
    }

    [Fact]
    public async Task Rebuild_stores_the_fitted_priors_that_live_ingest_then_starts_from()
    {
        await new CatalogImporter(_imported.DataSource).ImportAsync(Answers(withEvents: true));
        var result = await new LearningStateStore(_imported.DataSource).RebuildAsync();

        await using var conn = await _imported.DataSource.OpenConnectionAsync();
        var stored = await LearningStateStore.PriorsAsync(conn, null, default);
        Assert.Equal(320, stored.Answers);
        Assert.Equal(result.Priors.StartSkill, stored.StartSkill, 6);
        Assert.Equal(["algebra", "biology", "chemistry"], stored.TopicStart.Keys.Order());
        Assert.NotEqual(SkillPriors.Default.StartSkill, stored.StartSkill);

        // A new learner's first answer starts from the fitted start of the topic, not the built-in default.
        var userId = await conn.ExecuteScalarAsync<long>("insert into users (external_id, display_name) values ('new', 'New') returning id");
        var itemId = await conn.ExecuteScalarAsync<long>("select id from items where external_id = 'q0'");
        var difficulty = await conn.ExecuteScalarAsync<float>("select difficulty from items where external_id = 'q0'");
        var evidence = await conn.ExecuteScalarAsync<int>("select difficulty_evidence from items where external_id = 'q0'");
        await new EventStore(_imported.DataSource).AppendAsync([new NewEvent(userId, itemId, EventKind.QuizWrong, null, Start.AddDays(1), "k1")]);
        var skill = (await new LearningStateStore(_imported.DataSource).SkillsAsync(userId))["algebra"];

        var expected = new SkillModel(stored).Observe(new Dictionary<string, TopicSkill>(),
            new ItemInfo(itemId, "q0", "", ["algebra"], 1, null, null, null, null), new ItemDifficulty(difficulty, evidence), EventKind.QuizWrong);
        Assert.Equal(expected.Skills[0].Rating, skill.Rating, 2);
        Assert.True(skill.Rating < stored.Start("algebra"));

        // Ranking predicts with the same fitted priors: the catalog the service loads carries them.
        var catalog = await new CatalogStore(_imported.DataSource).LoadRankingCatalogAsync();
        Assert.Equal(stored.StartSkill, catalog.Skill.Priors.StartSkill, 6);
        Assert.Equal(stored.Start("algebra"), catalog.Skill.Priors.Start("algebra"), 6);
        Assert.Equal(stored.LevelDifficulty, catalog.Skill.Priors.LevelDifficulty);
    }
}
