using Dapper;
using Recommender.Core;
using Recommender.Data.Import;
using Recommender.Testing;

namespace Recommender.Data.Tests;

public sealed class EventAndSettingsStoreTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();
    private long _user;
    private long[] _items = [];

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        var batch = new ImportBatch();
        batch.Items.Add(new ItemRow(2, "a", "A", null, null, null, null, null, null, ["Oceans"]));
        batch.Items.Add(new ItemRow(3, "b", "B", null, null, null, null, null, null, ["Physics"]));
        await new CatalogImporter(_db.DataSource).ImportAsync(batch);
        _user = (await new AccountStore(_db.DataSource).UpsertAsync("ada", "Ada", "user", "correct horse battery")).Id;
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        _items = [.. await conn.QueryAsync<long>("select id from items order by external_id")];
    }

    public Task DisposeAsync() => _db.DisposeAsync();

    private NewEvent Event(int item, EventKind kind, string key, int minute) =>
        new(_user, _items[item], kind, kind == EventKind.Rating ? 8 : null, new DateTimeOffset(2026, 1, 1, 10, minute, 0, TimeSpan.Zero), key);

    [Fact]
    public async Task AppendAsync_same_keys_twice_records_once()
    {
        var store = new EventStore(_db.DataSource);
        NewEvent[] batch = [Event(0, EventKind.Click, "k1", 1), Event(1, EventKind.Rating, "k2", 2)];

        var first = await store.AppendAsync(batch);
        var retry = await store.AppendAsync([.. batch, Event(1, EventKind.Like, "k3", 3)]);

        Assert.Equal(new AppendResult(2, 0), first);
        Assert.Equal(new AppendResult(1, 2), retry);
        var history = await store.HistoryAsync(_user, 10);
        Assert.Equal([EventKind.Click, EventKind.Rating, EventKind.Like], history.Select(h => h.Kind));
        Assert.Equal(8f, history[1].Value);
    }

    [Fact]
    public async Task HistoryAsync_limit_keeps_the_most_recent_oldest_first()
    {
        var store = new EventStore(_db.DataSource);
        await store.AppendAsync([Event(0, EventKind.View, "a", 5), Event(1, EventKind.View, "b", 1), Event(0, EventKind.Like, "c", 9)]);

        var history = await store.HistoryAsync(_user, 2);

        Assert.Equal([5, 9], history.Select(h => h.OccurredAt.Minute));
    }

    [Fact]
    public async Task FindUnknownItemsAsync_names_positions_of_missing_items()
    {
        var unknown = await new EventStore(_db.DataSource).FindUnknownItemsAsync(
            [Event(0, EventKind.View, "a", 1), Event(0, EventKind.View, "b", 1) with { ItemId = -5 }]);

        Assert.Equal([1], unknown);
    }

    [Fact]
    public async Task SetAsync_replaces_settings_and_keeps_history_newest_first()
    {
        var store = new SettingsStore(_db.DataSource);
        Assert.Null(await store.GetAsync(_user));

        await store.SetAsync(_user, "engagement", "{}");
        await store.SetAsync(_user, "learning", """{"topics":["Oceans"]}""");

        var current = await store.GetAsync(_user);
        Assert.Equal("learning", current!.ObjectiveId);
        Assert.Contains("Oceans", current.ParametersJson, StringComparison.Ordinal);
        Assert.Equal(["learning", "engagement"], (await store.HistoryAsync(_user, 10)).Select(h => h.ObjectiveId));
    }

    [Fact]
    public async Task AppendAsync_evidence_moves_topic_skill_once_even_when_retried()
    {
        var store = new EventStore(_db.DataSource);
        NewEvent[] batch = [Event(0, EventKind.QuizCorrect, "q1", 1), Event(0, EventKind.Learned, "q2", 2), Event(1, EventKind.Click, "c", 3)];

        await store.AppendAsync(batch);
        var once = await new LearningStateStore(_db.DataSource).SkillsAsync(_user);
        await store.AppendAsync(batch);
        var afterRetry = await new LearningStateStore(_db.DataSource).SkillsAsync(_user);

        var oceans = Assert.Single(Core.SkillModel.Topics(once));
        Assert.Equal(("Oceans", 2), (oceans.Topic, oceans.Evidence));
        // The general ability counts the two answers once as well, and a retry leaves it alone.
        Assert.Equal(2, once[Core.SkillModel.GeneralAbility].Evidence);
        Assert.Equal(once[Core.SkillModel.GeneralAbility], afterRetry[Core.SkillModel.GeneralAbility]);
        Assert.True(oceans.Rating > Core.EloLearningModel.InitialSkill, $"two successes should raise skill above {Core.EloLearningModel.InitialSkill}, got {oceans.Rating}");
        Assert.Equal(oceans, afterRetry["Oceans"]);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var difficulty = await conn.ExecuteScalarAsync<float?>("select difficulty from items where id = @id", new { id = _items[0] });
        Assert.True(difficulty < Core.EloLearningModel.UnknownDifficulty, "an item learners pass gets easier");
    }

    [Fact]
    public async Task VerifyAsync_checks_the_password()
    {
        var accounts = new AccountStore(_db.DataSource);

        Assert.Equal(_user, (await accounts.VerifyAsync("ada", "correct horse battery"))!.Id);
        Assert.Null(await accounts.VerifyAsync("ada", "wrong"));
        Assert.Null(await accounts.VerifyAsync("nobody", "correct horse battery"));
    }

    [Fact]
    public async Task EnsureExternal_remembers_platform_users_until_they_are_deleted()
    {
        var accounts = new AccountStore(_db.DataSource);

        var first = await accounts.EnsureExternalAsync(["p-1", "p-2", "p-1"]);
        var again = await accounts.EnsureExternalAsync(["p-2", "p-1", "p-3"]);
        Assert.True(await accounts.DeleteAsync(first["p-1"]));
        var afterDelete = await accounts.EnsureExternalAsync(["p-1"]);

        Assert.Equal(first["p-1"], again["p-1"]);
        Assert.Equal(first["p-2"], again["p-2"]);
        Assert.NotEqual(again["p-1"], again["p-3"]);
        Assert.NotEqual(first["p-1"], afterDelete["p-1"]);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(afterDelete["p-1"], await conn.ExecuteScalarAsync<long>("select id from users where external_id = 'p-1'"));
    }
}
