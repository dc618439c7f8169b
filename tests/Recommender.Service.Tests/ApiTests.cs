using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Recommender.Core;
using Recommender.Data.Models;
using Recommender.Serving;
using Recommender.Training;

namespace Recommender.Service.Tests;

public sealed class ApiTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private static object Event(long itemId, string kind, string key, double? value = null) =>
        new { itemId, kind, value, idempotencyKey = key, occurredAt = DateTimeOffset.UtcNow.AddMinutes(-1) };

    private static async Task<JsonNode> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task SignIn_repeated_failures_are_rate_limited_with_429()
    {
        using var limited = service.WithWebHostBuilder(b => b.UseSetting("Recommender:SignInPermitsPerMinute", "3"));
        var client = limited.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
            statuses.Add((await client.PostAsJsonAsync("/api/auth/sign-in", new { login = "alice", password = "wrong" })).StatusCode);

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task SignIn_with_a_wrong_password_is_401_saying_the_login_or_password_is_not_right()
    {
        var account = await new Data.AccountStore(service.DataSource).UpsertAsync("eve-" + Guid.NewGuid().ToString("N")[..6], "Eve", "user", ServiceFixture.Password);
        var client = service.CreateClient();

        using var wrong = await client.PostAsJsonAsync("/api/auth/sign-in", new { login = account.Login, password = "not the password" });
        using var unknown = await client.PostAsJsonAsync("/api/auth/sign-in", new { login = "nobody-" + Guid.NewGuid().ToString("N"), password = "x" });

        var problems = new List<JsonNode>();
        foreach (var response in new[] { wrong, unknown })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            problems.Add(JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
        }
        Assert.Equal("The login or password is not right", problems[0]["title"]!.GetValue<string>());
        Assert.DoesNotContain("API key", problems[0]["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        // An unknown login reads the same, so the answer does not say which logins exist.
        Assert.Equal((problems[0]["title"]!.GetValue<string>(), problems[0]["detail"]!.GetValue<string>()),
            (problems[1]["title"]!.GetValue<string>(), problems[1]["detail"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Events_stamped_up_to_a_day_ahead_are_taken_and_later_ones_refused_saying_so()
    {
        var platform = await service.WithApiKeyAsync("events");
        var key = "ahead-" + Guid.NewGuid().ToString("N");
        object Stamped(string suffix, DateTimeOffset at) => new { userId = "clock-skew", itemId = "item-1", kind = "view", idempotencyKey = key + suffix, occurredAt = at };

        var soon = await JsonAsync(await platform.PostAsJsonAsync("/api/platform/events", new[] { Stamped("a", DateTimeOffset.UtcNow.AddHours(12)) }));
        using var late = await platform.PostAsJsonAsync("/api/platform/events", new[] { Stamped("b", DateTimeOffset.UtcNow.AddDays(2)) });

        Assert.Equal(1, soon["recorded"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.BadRequest, late.StatusCode);
        // The message states the rule the service applies: an event a few hours ahead was just taken, so not "not in the future".
        Assert.Equal("must be from 1970 to no more than a day ahead of now",
            JsonNode.Parse(await late.Content.ReadAsStringAsync())!["errors"]!["[0].occurredAt"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Events_a_bad_field_is_named_by_its_place_in_the_array_on_both_routes_whether_unreadable_or_refused()
    {
        // The body is a JSON array, so its second event's time is [1].occurredAt: the same name for a value that cannot
        // be read as a time and for one read and refused, on a person's route and a platform's.
        var person = await service.SignedInAsync(service.Bob);
        var platform = await service.WithApiKeyAsync("events");
        var key = "paths-" + Guid.NewGuid().ToString("N");
        JsonArray Batch(JsonNode? item, string? user, JsonNode at) => [.. new[] { "a", "b" }.Select((suffix, i) =>
        {
            var e = new JsonObject { ["itemId"] = item?.DeepClone(), ["kind"] = "view", ["idempotencyKey"] = key + suffix };
            if (user is not null)
                e["userId"] = user;
            if (i == 1)
                e["occurredAt"] = at.DeepClone();
            return (JsonNode)e;
        })];
        var later = JsonValue.Create(DateTimeOffset.UtcNow.AddDays(2).ToString("O"))!;
        var unreadable = JsonValue.Create("yesterday")!;
        var sent = new List<HttpResponseMessage>
        {
            await person.PostAsJsonAsync("/api/me/events", Batch(service.Items["item-1"], null, later)),
            await person.PostAsJsonAsync("/api/me/events", Batch(service.Items["item-1"], null, unreadable)),
            await platform.PostAsJsonAsync("/api/platform/events", Batch("item-1", "paths", later)),
            await platform.PostAsJsonAsync("/api/platform/events", Batch("item-1", "paths", unreadable)),
        };
        var empty = new[] { await person.PostAsJsonAsync("/api/me/events", new JsonArray()), await platform.PostAsJsonAsync("/api/platform/events", new JsonArray()) };

        foreach (var response in sent)
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(["[1].occurredAt"], JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]!.AsObject().Select(e => e.Key));
        }
        foreach (var response in empty)
            Assert.Equal(["body"], JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]!.AsObject().Select(e => e.Key));
        await using var conn = await service.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("select count(*) from events where idempotency_key like @k", new { k = key + "%" }));
    }

    [Fact]
    public async Task Events_same_batch_twice_records_once()
    {
        var client = await service.SignedInAsync(service.Bob);
        var key = Guid.NewGuid().ToString("N");
        object[] batch = [Event(service.Items["item-1"], "click", key + "a"), Event(service.Items["item-2"], "rating", key + "b", 9)];

        var first = await JsonAsync(await client.PostAsJsonAsync("/api/me/events", batch));
        var second = await JsonAsync(await client.PostAsJsonAsync("/api/me/events", batch));

        Assert.Equal((2, 0), (first["recorded"]!.GetValue<int>(), first["duplicates"]!.GetValue<int>()));
        Assert.Equal((0, 2), (second["recorded"]!.GetValue<int>(), second["duplicates"]!.GetValue<int>()));
        await using var conn = await service.DataSource.OpenConnectionAsync();
        Assert.Equal(2, await conn.ExecuteScalarAsync<long>("select count(*) from events where user_id = @id and idempotency_key like @k", new { id = service.Bob.Id, k = key + "%" }));
    }

    [Fact]
    public async Task Events_key_reused_for_a_different_event_is_409_naming_it_and_records_nothing()
    {
        var events = await service.WithApiKeyAsync("events");
        var user = "keys-" + Guid.NewGuid().ToString("N")[..8];
        object Sent(string item, string kind, string key) => new { userId = user, itemId = item, kind, idempotencyKey = key };

        var first = await events.PostAsJsonAsync("/api/platform/events", new[] { Sent("item-1", "like", "e1") });
        var retried = await events.PostAsJsonAsync("/api/platform/events", new[] { Sent("item-1", "like", "e1") });
        var reused = await events.PostAsJsonAsync("/api/platform/events", new[] { Sent("item-2", "click", "e2"), Sent("item-4", "click", "e1") });
        var withinBatch = await events.PostAsJsonAsync("/api/platform/events", new[] { Sent("item-2", "click", "e3"), Sent("item-4", "like", "e3") });

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, retried.StatusCode));
        Assert.Equal(1, (await JsonAsync(retried))["duplicates"]!.GetValue<int>());
        Assert.Equal((HttpStatusCode.Conflict, HttpStatusCode.Conflict), (reused.StatusCode, withinBatch.StatusCode));
        Assert.Equal(["[1].idempotencyKey"], JsonNode.Parse(await reused.Content.ReadAsStringAsync())!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Equal(["[1].idempotencyKey"], JsonNode.Parse(await withinBatch.Content.ReadAsStringAsync())!["errors"]!.AsObject().Select(e => e.Key));
        await using var conn = await service.DataSource.OpenConnectionAsync();
        Assert.Equal(["e1"], await conn.QueryAsync<string>(
            "select idempotency_key from events e join users u on u.id = e.user_id where u.external_id = @user", new { user }));
    }

    [Fact]
    public async Task Events_bad_input_is_400_naming_the_field_and_stores_nothing()
    {
        var client = await service.SignedInAsync(service.Bob);
        var key = Guid.NewGuid().ToString("N");
        object[] batch =
        [
            Event(service.Items["item-1"], "click", key + "ok"),
            Event(service.Items["item-1"], "shared", key + "bad-kind"),
            Event(service.Items["item-1"], "rating", key + "bad-rating", 11),
            Event(987654321, "view", key + "no-item"),
        ];

        var response = await client.PostAsJsonAsync("/api/me/events", batch);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Contains("[1].kind", errors.Select(e => e.Key));
        Assert.Contains("[2].value", errors.Select(e => e.Key));
        await using var conn = await service.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("select count(*) from events where idempotency_key like @k", new { k = key + "%" }));

        var unknownItem = await client.PostAsJsonAsync("/api/me/events", new[] { Event(987654321, "view", key + "x") });
        Assert.Contains("[0].itemId", await unknownItem.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var tooMany = await client.PostAsJsonAsync("/api/me/events", Enumerable.Range(0, 1001).Select(i => Event(service.Items["item-1"], "view", $"{key}-{i}")).ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        var malformed = await client.PostAsync("/api/me/events", new StringContent("[{\"itemId\": \"not a number\"}]", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }

    [Fact]
    public async Task Settings_change_shows_in_the_very_next_feed()
    {
        var client = await service.SignedInAsync(service.Bob);
        var put = await client.PutAsJsonAsync("/api/me/settings", new { objectiveId = "engagement", parameters = new { } });
        await JsonAsync(put);
        var before = await JsonAsync(await client.GetAsync("/api/me/feed?k=5"));

        await JsonAsync(await client.PutAsJsonAsync("/api/me/settings", new { objectiveId = "learning", parameters = new { topics = new[] { "Physics" } } }));
        var after = await JsonAsync(await client.GetAsync("/api/me/feed?k=5"));

        Assert.Equal("engagement", before["objectiveId"]!.GetValue<string>());
        Assert.Equal("learning", after["objectiveId"]!.GetValue<string>());
        var items = after["items"]!.AsArray();
        Assert.NotEmpty(items);
        Assert.All(items, i => Assert.NotEmpty(i!["reasons"]!.AsArray()));
        Assert.Contains(items, i => i!["topics"]!.AsArray().Any(t => t!.GetValue<string>() == "Physics"));
        var history = await JsonAsync(await client.GetAsync("/api/me/settings/history"));
        Assert.Equal("learning", history[0]!["objectiveId"]!.GetValue<string>());
        // A change says what it changed; no field that is never filled.
        Assert.Equal(["objectiveId", "parameters", "updatedAt"], history[0]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Settings_invalid_choice_is_400_naming_the_field()
    {
        var client = await service.SignedInAsync(service.Bob);

        var unknown = await client.PutAsJsonAsync("/api/me/settings", new { objectiveId = "outrage", parameters = new { } });
        var badParameter = await client.PutAsJsonAsync("/api/me/settings", new { objectiveId = "diversity", parameters = new { lambda = 7 } });

        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("objectiveId", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badParameter.StatusCode);
        Assert.Contains("parameters.lambda", await badParameter.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_a_switch_as_the_web_form_makes_it_carries_shared_choices_and_the_api_reads_it_back()
    {
        var account = await new Data.AccountStore(service.DataSource).UpsertAsync("dora-" + Guid.NewGuid().ToString("N")[..6], "Dora", "user", ServiceFixture.Password);
        var client = await service.SignedInAsync(account);
        var settings = service.Services.GetRequiredService<SettingsService>();
        await JsonAsync(await client.PutAsJsonAsync("/api/me/settings", new { objectiveId = "learning", parameters = new { topics = new[] { "Physics" }, credibility_floor = 0.6 } }));

        var toDiversity = await settings.SwitchAsync(account.Id, "diversity", []);
        var read = await JsonAsync(await client.GetAsync("/api/me/settings"));
        var back = await settings.SwitchAsync(account.Id, "learning", []);
        var tooMany = await settings.SetAsync(account.Id, "learning", ObjectiveParameters.Empty, [.. Enumerable.Range(0, 21).Select(i => $"t{i}")]);
        var badFloor = await settings.ChangeAsync(account.Id, "learning", (_, p) => (p.With("credibility_floor", 3.0), null));

        Assert.True(toDiversity.Succeeded);
        Assert.Equal(("diversity", 0.6), (read["objectiveId"]!.GetValue<string>(), read["parameters"]!["credibility_floor"]!.GetValue<double>()));
        Assert.Equal(["Physics"], ObjectiveParameters.FromJson(back.Saved!.ParametersJson).GetTextList("topics"));
        Assert.Equal(["topics"], tooMany.ErrorsByField().Keys);
        Assert.Equal(["parameters.credibility_floor"], badFloor.ErrorsByField().Keys);
        Assert.Equal("learning", (await settings.GetAsync(account.Id)).ObjectiveId);
    }

    [Fact]
    public async Task Settings_a_switch_to_a_goal_with_topics_it_never_had_starts_from_the_first_topics()
    {
        var account = await new Data.AccountStore(service.DataSource).UpsertAsync("ines-" + Guid.NewGuid().ToString("N")[..6], "Ines", "user", ServiceFixture.Password);
        var settings = service.Services.GetRequiredService<SettingsService>();
        // Onboarding: topics ticked with "More of what I enjoy", which has no topics setting, so they stay first topics.
        var onboarded = await settings.SwitchAsync(account.Id, "engagement", ["Physics"]);

        var toLearning = await settings.SwitchAsync(account.Id, "learning", []);
        // Topics the person then chose for learning themselves, even none, are theirs from then on.
        await settings.ChangeAsync(account.Id, "learning", (_, p) => (p.With("topics", Array.Empty<string>()), null));
        await settings.SwitchAsync(account.Id, "engagement", []);
        var backAgain = await settings.SwitchAsync(account.Id, "learning", []);

        Assert.True(onboarded.Succeeded);
        Assert.Equal(["Physics"], ObjectiveParameters.FromJson(toLearning.Saved!.ParametersJson).GetTextList("topics"));
        Assert.Empty(ObjectiveParameters.FromJson(backAgain.Saved!.ParametersJson).GetTextList("topics"));
    }

    public static TheoryData<string> BuiltInObjectives => new(ObjectiveRegistry.BuiltIn().Select(o => o.Id));

    [Theory]
    [MemberData(nameof(BuiltInObjectives))]
    public async Task Platform_feed_paged_at_any_size_continues_one_ranking_without_repeats(string objectiveId)
    {
        var platform = await service.WithApiKeyAsync("events", "feeds");
        var user = $"pager-{objectiveId}-{Guid.NewGuid():N}"[..30];
        (await platform.PostAsJsonAsync("/api/platform/events", new[] { 0, 4, 9, 13 }.Select(i =>
            new { userId = user, itemId = $"item-{i}", kind = "like", idempotencyKey = $"like-{i}" }))).EnsureSuccessStatusCode();
        (await platform.PutAsJsonAsync($"/api/platform/users/{user}/settings", new { objectiveId, parameters = new { } })).EnsureSuccessStatusCode();
        // A first page's cursor is its seed at offset 0: every walk below ranks with the same seed.
        var start = System.Buffers.Text.Base64Url.EncodeToString("12345:0"u8);
        async Task<List<long>> WalkAsync(int size)
        {
            var seen = new List<long>();
            for (var cursor = start; cursor is not null && seen.Count < 60;)
            {
                var feed = await JsonAsync(await platform.GetAsync($"/api/platform/users/{user}/feed?k={size}&cursor={cursor}"));
                seen.AddRange(feed["items"]!.AsArray().Select(i => i!["itemId"]!.GetValue<long>()));
                cursor = feed["nextCursor"]?.GetValue<string>();
            }
            return seen;
        }

        List<long>[] walks = [await WalkAsync(3), await WalkAsync(7), await WalkAsync(20)];

        Assert.All(walks, walk => Assert.Equal(walk.Count, walk.Distinct().Count()));
        var depth = walks.Min(w => w.Count);
        Assert.True(depth >= 20, $"{objectiveId}: only {depth} items");
        Assert.All(walks, walk => Assert.Equal(walks[2].Take(depth), walk.Take(depth)));
    }

    [Fact]
    public async Task Feed_each_response_writes_exactly_one_audit_record()
    {
        var account = await new Data.AccountStore(service.DataSource).UpsertAsync("carol-" + Guid.NewGuid().ToString("N")[..6], "Carol", "user", ServiceFixture.Password);
        var client = await service.SignedInAsync(account);
        var requestIds = new List<Guid>();
        string? cursor = null;
        for (var page = 0; page < 4; page++)
        {
            var feed = await JsonAsync(await client.GetAsync($"/api/me/feed?k=5{(cursor is null ? "" : "&cursor=" + cursor)}"));
            requestIds.Add(feed["requestId"]!.GetValue<Guid>());
            cursor = feed["nextCursor"]?.GetValue<string>();
        }
        await service.FlushAuditAsync();

        var served = await JsonAsync(await client.GetAsync("/api/me/served?limit=50"));
        Assert.Equal(requestIds.OrderBy(x => x), served.AsArray().Select(s => s!["requestId"]!.GetValue<Guid>()).OrderBy(x => x));
        var ranks = served.AsArray().Reverse().SelectMany(s => s!["items"]!.AsArray().Select(i => i!["rank"]!.GetValue<int>())).ToList();
        Assert.Equal(Enumerable.Range(1, 20), ranks);
    }

    [Fact]
    public async Task Admin_served_record_is_the_bytes_AuditRow_writes_so_a_file_of_it_reads_as_the_api_answers()
    {
        // The audit pages' downloads and `recommender audit --out` write AuditRow with AuditRow.Json; the route must
        // answer the same bytes, or a record handed on as a file would read differently from the API's.
        var client = await service.SignedInAsync(service.Alice);
        var admin = await service.SignedInAsync(service.Admin);
        var requestId = (await JsonAsync(await client.GetAsync("/api/me/feed?k=4")))["requestId"]!.GetValue<Guid>();
        await service.FlushAuditAsync();
        var stored = (await new Data.ServedListStore(service.DataSource).GetAsync(requestId))!;
        var serving = service.Services.GetRequiredService<ServingState>();

        var one = await (await admin.GetAsync($"/api/admin/served/{requestId}")).Content.ReadAsStringAsync();
        var listed = JsonNode.Parse(await (await admin.GetAsync($"/api/admin/served?userId={service.Alice.Id}&limit=1")).Content.ReadAsStringAsync())!.AsArray();

        var written = System.Text.Json.JsonSerializer.Serialize(AuditRow.From(stored, serving.ExternalIdOf), AuditRow.Json);
        Assert.Equal(written, one);
        Assert.Equal(written, listed[0]!.ToJsonString(AuditRow.Json));
    }

    [Fact]
    public async Task Served_list_items_are_named_as_in_the_feed_and_hold_what_was_stored()
    {
        var client = await service.SignedInAsync(service.Alice);
        var admin = await service.SignedInAsync(service.Admin);
        var feed = await JsonAsync(await client.GetAsync("/api/me/feed?k=4"));
        await service.FlushAuditAsync();
        var requestId = feed["requestId"]!.GetValue<Guid>();
        var stored = (await new Data.ServedListStore(service.DataSource).GetAsync(requestId))!;
        var externalIds = service.Items.ToDictionary(p => p.Value, p => p.Key);

        var served = await JsonAsync(await client.GetAsync($"/api/me/served/{requestId}"));
        var audited = await JsonAsync(await admin.GetAsync($"/api/admin/served/{requestId}"));
        var listed = await JsonAsync(await admin.GetAsync($"/api/admin/served?userId={service.Alice.Id}&limit=1"));
        var first = stored.ReadItems()[0];
        var why = await JsonAsync(await client.GetAsync($"/api/me/why/{first.ItemId}"));

        // One camelCase contract: the feed, a person's record and an admin's all name an item itemId.
        foreach (var items in new[] { served["items"]!, audited["list"]!["items"]!, listed[0]!["list"]!["items"]! })
        {
            Assert.Equal(feed["items"]!.AsArray().Select(i => i!["itemId"]!.GetValue<long>()), items.AsArray().Select(i => i!["itemId"]!.GetValue<long>()));
            Assert.All(items.AsArray(), i => Assert.False(i!.AsObject().ContainsKey("item_id")));
            Assert.All(items.AsArray(), i => Assert.Equal(externalIds[i!["itemId"]!.GetValue<long>()], i["externalId"]!.GetValue<string>()));
            Assert.Equal(stored.ReadItems().Select(i => ((float)i.Score, i.Rank)),
                items.AsArray().Select(i => (i!["score"]!.GetValue<float>(), i["rank"]!.GetValue<int>())));
        }
        // The audit log itself keeps the format it has always stored.
        Assert.Contains("\"item_id\":", stored.ItemsJson, StringComparison.Ordinal);
        // No re-ranker is active here, and the reader is told so: the model's scores alone ordered the list.
        Assert.True(served.AsObject().ContainsKey("rerankerVersion"));
        Assert.Null(served["rerankerVersion"]);
        Assert.Equal(requestId, why["requestId"]!.GetValue<Guid>());
        Assert.Equal(first.Rank, why["rank"]!.GetValue<int>());
        Assert.Equal((float)first.Score, why["score"]!.GetValue<float>());
        Assert.Equal(first.Reasons, why["reasons"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal(first.Components.Keys.Order(StringComparer.Ordinal), why["components"]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task Served_another_users_list_is_not_found()
    {
        var alice = await service.SignedInAsync(service.Alice);
        var bob = await service.SignedInAsync(service.Bob);
        var feed = await JsonAsync(await alice.GetAsync("/api/me/feed?k=3"));
        await service.FlushAuditAsync();
        var requestId = feed["requestId"]!.GetValue<Guid>();

        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync($"/api/me/served/{requestId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/me/served/{requestId}")).StatusCode);
        var itemId = feed["items"]![0]!["itemId"]!.GetValue<long>();
        var why = await JsonAsync(await alice.GetAsync($"/api/me/why/{itemId}"));
        Assert.NotEmpty(why["reasons"]!.AsArray());
        var admin = await service.SignedInAsync(service.Admin);
        var audit = await JsonAsync(await admin.GetAsync($"/api/admin/served?userId={service.Alice.Id}&limit=5"));
        Assert.Contains(audit.AsArray(), r => r!["list"]!["requestId"]!.GetValue<Guid>() == requestId);
    }

    [Fact]
    public async Task Admin_model_list_says_what_each_model_minimised()
    {
        var store = new ModelStore(service.DataSource);
        var active = (await store.LoadActiveAsync())!;
        var oneClass = await store.BeginAsync(ModelTraining.ActivityAlgorithm, new ModelLoss(ModelLoss.OneClass, true), "{}");
        await store.CompleteAsync(oneClass, active.Model, "{}", "rejected");
        var admin = await service.SignedInAsync(service.Admin);

        var models = (await JsonAsync(await admin.GetAsync("/api/admin/models"))).AsArray();

        var trained = models.Single(m => (int)m!["version"]! == active.Version)!;
        Assert.Equal(("squared-error", false, "squared error on ratings"),
            ((string)trained["loss"]!, (bool)trained["weightedLambda"]!, (string)trained["lossDescription"]!));
        var activity = models.Single(m => (int)m!["version"]! == oneClass)!;
        Assert.Equal(("one-class", true, "one-class loss on what people liked or did, weighted λ"),
            ((string)activity["loss"]!, (bool)activity["weightedLambda"]!, (string)activity["lossDescription"]!));
    }

    [Fact]
    public async Task Admin_reranker_list_gives_what_each_gate_measured_or_why_nothing_was_stored()
    {
        var model = (await new ModelStore(service.DataSource).LoadActiveAsync())!.Version;
        var store = new RerankerStore(service.DataSource);
        var rejected = await store.BeginAsync(model);
        await store.CompleteAsync(rejected, null, """
            {"modelVersion":1,"trainLists":560,"holdoutLists":140,"trainItems":5600,"holdoutFrom":"2026-01-02T00:00:00Z",
             "mfNdcg":0.6203,"rerankerNdcg":0.6164,"standardError":0.0185,"trainSeconds":1.5}
            """, "rejected");
        var failed = await store.BeginAsync(model);
        await store.FailAsync(failed, "too few lists with an outcome");
        var admin = await service.SignedInAsync(service.Admin);

        var runs = (await JsonAsync(await admin.GetAsync("/api/admin/rerankers"))).AsArray();

        Assert.Equal([failed, rejected], runs.Select(r => (int)r!["version"]!).Take(2));
        var measured = runs.Single(r => (int)r!["version"]! == rejected)!;
        Assert.Equal(("rejected", false, model), ((string)measured["status"]!, (bool)measured["isActive"]!, (int)measured["modelVersion"]!));
        Assert.Equal((0.6164, 0.6203, 140), ((double)measured["metrics"]!["rerankerNdcg"]!, (double)measured["metrics"]!["mfNdcg"]!, (int)measured["metrics"]!["holdoutLists"]!));
        Assert.Null(measured["error"]);
        var broken = runs.Single(r => (int)r!["version"]! == failed)!;
        Assert.Equal(("failed", "too few lists with an outcome"), ((string)broken["status"]!, (string)broken["error"]!));
        Assert.Null(broken["metrics"]);
    }

    [Fact]
    public async Task Activating_a_rejected_model_is_409_problem_details()
    {
        var store = new ModelStore(service.DataSource);
        var active = (await store.LoadActiveAsync())!;
        var rejected = await store.BeginAsync("mf-sgd", new ModelLoss(ModelLoss.SquaredError, false), "{}");
        await store.CompleteAsync(rejected, active.Model, "{}", "rejected");
        var admin = await service.SignedInAsync(service.Admin);

        using var response = await admin.PostAsync($"/api/admin/models/{rejected}/activate", null);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(409, problem["status"]!.GetValue<int>());
        Assert.Equal("The model cannot be activated", problem["title"]!.GetValue<string>());
        Assert.Contains("'rejected'", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Models_swap_under_concurrent_feeds_without_errors()
    {
        var store = new ModelStore(service.DataSource);
        // A second ready model (a copy of the active one under a new version) to swap back and forth with.
        var active = (await store.LoadActiveAsync())!;
        var copy = await store.BeginAsync("mf-sgd", new ModelLoss(ModelLoss.SquaredError, false), "{}");
        await store.CompleteAsync(copy, active.Model, "{}", "ready");
        var versions = (await store.ListAsync()).Where(m => m.Status == "ready").Select(m => m.Version).ToArray();
        Assert.True(versions.Length >= 2);
        var admin = await service.SignedInAsync(service.Admin);
        var readers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => service.SignedInAsync(service.Alice)));

        using var stop = new CancellationTokenSource();
        var swaps = Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                (await admin.PostAsync($"/api/admin/models/{versions[n % 2]}/activate", null)).EnsureSuccessStatusCode();
            }
        });
        var statuses = await Task.WhenAll(readers.Select(async r =>
        {
            var codes = new List<HttpStatusCode>();
            for (var i = 0; i < 25; i++)
                codes.Add((await r.GetAsync("/api/me/feed?k=10")).StatusCode);
            return codes;
        }));
        await stop.CancelAsync();
        await swaps;

        Assert.All(statuses.SelectMany(s => s), s => Assert.Equal(HttpStatusCode.OK, s));
        var state = service.Services.GetRequiredService<ServingState>();
        Assert.Contains(state.Current.ModelVersion ?? -1, versions);
    }

    [Fact]
    public async Task Platform_events_create_users_and_feed_on_their_behalf()
    {
        var events = await service.WithApiKeyAsync("events", "feeds");
        var externalUser = "platform-" + Guid.NewGuid().ToString("N")[..8];
        var batch = Enumerable.Range(0, 6).Select(i => new { userId = externalUser, itemId = $"item-{i * 4}", kind = "like", idempotencyKey = $"k{i}" }).ToArray();

        var recorded = await JsonAsync(await events.PostAsJsonAsync("/api/platform/events", batch));
        var feed = await JsonAsync(await events.GetAsync($"/api/platform/users/{externalUser}/feed?k=5"));

        Assert.Equal(6, recorded["recorded"]!.GetValue<int>());
        Assert.Equal(5, feed["items"]!.AsArray().Count);
        var liked = batch.Select(b => service.Items[b.itemId]).ToHashSet();
        Assert.DoesNotContain(feed["items"]!.AsArray(), i => liked.Contains(i!["itemId"]!.GetValue<long>()));
        var unknown = await events.PostAsJsonAsync("/api/platform/events", new[] { new { userId = externalUser, itemId = "nope", kind = "like", idempotencyKey = "z" } });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("[0].itemId", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Platform_ids_percent_encoded_in_the_route_reach_the_item_and_the_user_they_name()
    {
        // Over real HTTP: the in-memory test server does not keep the request target as sent, and Kestrel does.
        using var host = service.WithWebHostBuilder(b => b.UseUrls("http://127.0.0.1:0"));
        host.UseKestrel();
        host.StartServer();
        var address = host.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        var (_, key) = await new Data.ApiKeyStore(service.DataSource).CreateAsync("encoded ids", ["catalog", "events", "feeds"]);
        using var platform = new HttpClient { BaseAddress = new Uri(address) };
        platform.DefaultRequestHeaders.Add("X-Api-Key", key);

        // '/', '%' (alone and where it reads like an escape of '/'), spaces, '+', '?', '#' and Unicode.
        foreach (var id in new[] { "docs/intro", "50%2F off", "100% sure", "ünïcødé/日本", "a+b?c#d" })
        {
            var user = "team/" + id;
            var encodedItem = Uri.EscapeDataString(id);
            var encodedUser = Uri.EscapeDataString(user);

            var put = await platform.PutAsJsonAsync($"/api/platform/items/{encodedItem}", new { title = "Encoded", topics = new[] { "Oceans" } });
            var source = await platform.PutAsJsonAsync($"/api/platform/sources/{encodedItem}", new { name = "Encoded source" });
            Assert.Equal((id, HttpStatusCode.NoContent, HttpStatusCode.NoContent), (id, put.StatusCode, source.StatusCode));
            await JsonAsync(await platform.PostAsJsonAsync("/api/platform/events", new[] { new { userId = user, itemId = id, kind = "like", idempotencyKey = "e1" } }));
            var chosen = await platform.PutAsJsonAsync($"/api/platform/users/{encodedUser}/settings", new { objectiveId = "diversity", parameters = new { } });
            var feed = await JsonAsync(await platform.GetAsync($"/api/platform/users/{encodedUser}/feed?k=3"));

            Assert.Equal((id, HttpStatusCode.OK), (id, chosen.StatusCode));
            Assert.Equal("diversity", feed["objectiveId"]!.GetValue<string>());
            await using (var conn = await service.DataSource.OpenConnectionAsync())
            {
                Assert.Equal(1, await conn.ExecuteScalarAsync<long>("select count(*) from items where external_id = @id", new { id }));
                Assert.Equal(1, await conn.ExecuteScalarAsync<long>("select count(*) from sources where external_id = @id", new { id }));
                // The events, the settings and the feed all reached one user, the one the platform named.
                var (users, events) = await conn.QuerySingleAsync<(long, long)>(
                    "select count(distinct u.id), count(e.*) from users u left join events e on e.user_id = u.id where u.external_id = @user", new { user });
                Assert.Equal((id, 1L, 1L), (id, users, events));
            }
            Assert.Equal(HttpStatusCode.NoContent, (await platform.DeleteAsync($"/api/platform/items/{encodedItem}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await platform.DeleteAsync($"/api/platform/items/{encodedItem}")).StatusCode);
        }
    }

    [Fact]
    public async Task Platform_user_settings_read_for_a_user_never_named_answers_the_defaults_and_stores_nobody()
    {
        var platform = await service.WithApiKeyAsync("feeds");
        var user = "reader-" + Guid.NewGuid().ToString("N")[..8];

        var settings = await JsonAsync(await platform.GetAsync($"/api/platform/users/{user}/settings"));

        Assert.Equal("engagement", settings["objectiveId"]!.GetValue<string>());
        Assert.Empty(settings["topics"]!.AsArray());
        await using var conn = await service.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("select count(*) from users where external_id = @user", new { user }));
    }

    [Fact]
    public async Task Platform_user_delete_removes_them_with_their_events_settings_and_served_lists()
    {
        var platform = await service.WithApiKeyAsync("events", "feeds");
        var feedsOnly = await service.WithApiKeyAsync("feeds");
        var user = "leaver-" + Guid.NewGuid().ToString("N")[..8];
        await JsonAsync(await platform.PostAsJsonAsync("/api/platform/events", new[] { new { userId = user, itemId = "item-3", kind = "like", idempotencyKey = "l1" } }));
        await JsonAsync(await platform.PutAsJsonAsync($"/api/platform/users/{user}/settings", new { objectiveId = "learning", parameters = new { topics = new[] { "Physics" } } }));
        await JsonAsync(await platform.GetAsync($"/api/platform/users/{user}/feed?k=3"));
        await service.FlushAuditAsync();
        await using var conn = await service.DataSource.OpenConnectionAsync();
        var id = await conn.ExecuteScalarAsync<long>("select id from users where external_id = @user", new { user });
        const string Rows = """
            select (select count(*) from users where id = @id) + (select count(*) from events where user_id = @id) + (select count(*) from user_settings where user_id = @id)
                 + (select count(*) from served_lists where user_id = @id)
            """;
        Assert.Equal(4, await conn.ExecuteScalarAsync<long>(Rows, new { id }));

        var refused = await feedsOnly.DeleteAsync($"/api/platform/users/{user}");
        var deleted = await platform.DeleteAsync($"/api/platform/users/{user}");
        var again = await platform.DeleteAsync($"/api/platform/users/{user}");

        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.NoContent, HttpStatusCode.NotFound), (refused.StatusCode, deleted.StatusCode, again.StatusCode));
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>(Rows, new { id }));
        // The same id later is a new user with nothing carried over.
        var fresh = await JsonAsync(await platform.GetAsync($"/api/platform/users/{user}/settings"));
        Assert.Equal("engagement", fresh["objectiveId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Platform_item_put_naming_a_topic_the_catalog_lacks_is_400_naming_it_with_the_topic_meant_and_stores_nothing()
    {
        var catalog = await service.WithApiKeyAsync("catalog");
        var id = "typo-" + Guid.NewGuid().ToString("N")[..8];

        var typo = await catalog.PutAsJsonAsync($"/api/platform/items/{id}", new { title = "Tides", topics = new[] { "Oceans", "Ocaens", "Zoology" } });

        Assert.Equal(HttpStatusCode.BadRequest, typo.StatusCode);
        var errors = JsonNode.Parse(await typo.Content.ReadAsStringAsync())!["errors"]!.AsObject();
        Assert.Equal(["topics[1]", "topics[2]"], errors.Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.Equal("'Ocaens' is not a topic of the catalog; did you mean Oceans?", errors["topics[1]"]![0]!.GetValue<string>());
        Assert.StartsWith("'Zoology' is not a topic of the catalog; ", errors["topics[2]"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        await using var conn = await service.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("select count(*) from topics where name in ('Ocaens', 'Zoology')"));
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("select count(*) from items where external_id = @id", new { id }));
    }

    [Fact]
    public async Task Settings_put_naming_topics_the_catalog_lacks_is_400_naming_each_by_its_place_as_the_item_put_does_and_changes_nothing()
    {
        var person = await service.SignedInAsync(await new Data.AccountStore(service.DataSource).UpsertAsync("tom-" + Guid.NewGuid().ToString("N")[..6], "Tom", "user", ServiceFixture.Password));
        await JsonAsync(await person.PutAsJsonAsync("/api/me/settings", new { objectiveId = "learning", parameters = new { topics = new[] { "Physics" } }, topics = new[] { "Physics" } }));

        var typo = await person.PutAsJsonAsync("/api/me/settings",
            new { objectiveId = "learning", parameters = new { topics = new[] { "Zoology", "Oceans" } }, topics = new[] { "Oceans", "Ocaens", "Zoology" } });
        var item = await (await service.WithApiKeyAsync("catalog")).PutAsJsonAsync($"/api/platform/items/typo-{Guid.NewGuid():N}",
            new { title = "Tides", topics = new[] { "Oceans", "Ocaens", "Zoology" } });

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (typo.StatusCode, item.StatusCode));
        var errors = JsonNode.Parse(await typo.Content.ReadAsStringAsync())!["errors"]!.AsObject();
        Assert.Equal(["parameters.topics[0]", "topics[1]", "topics[2]"], errors.Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.Equal("'Ocaens' is not a topic of the catalog; did you mean Oceans?", errors["topics[1]"]![0]!.GetValue<string>());
        // The same list sent as an item's topics is named the same way, by the same words.
        var itemErrors = JsonNode.Parse(await item.Content.ReadAsStringAsync())!["errors"]!.AsObject();
        Assert.Equal(["topics[1]", "topics[2]"], itemErrors.Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.All(itemErrors, e => Assert.Equal(errors[e.Key]![0]!.GetValue<string>(), e.Value![0]!.GetValue<string>()));
        var after = await JsonAsync(await person.GetAsync("/api/me/settings"));
        Assert.Equal(["Physics"], after["topics"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal(["Physics"], after["parameters"]!["topics"]!.AsArray().Select(t => t!.GetValue<string>()));
    }

    [Fact]
    public async Task Admin_people_list_names_a_platforms_user_by_platform_id_not_as_a_login()
    {
        var events = await service.WithApiKeyAsync("events");
        var user = "listed-" + Guid.NewGuid().ToString("N")[..8];
        await JsonAsync(await events.PostAsJsonAsync("/api/platform/events", new[] { new { userId = user, itemId = "item-2", kind = "like", idempotencyKey = "p1" } }));
        var admin = await service.SignedInAsync(service.Admin);

        var people = (await JsonAsync(await admin.GetAsync("/api/admin/users?limit=500"))).AsArray();

        var platformUser = people.Single(p => p!["platformId"]?.GetValue<string>() == user)!;
        Assert.Null(platformUser["login"]);
        var alice = people.Single(p => p!["id"]!.GetValue<long>() == service.Alice.Id)!;
        Assert.Equal(("alice", null), (alice["login"]!.GetValue<string>(), alice["platformId"]?.GetValue<string>()));
        Assert.DoesNotContain(people, p => p!["login"]?.GetValue<string>() == user);
    }

    [Fact]
    public async Task Platform_passes_on_the_goal_its_user_chose_and_the_feed_follows_it()
    {
        var platform = await service.WithApiKeyAsync("feeds");
        var user = "chooser-" + Guid.NewGuid().ToString("N")[..8];

        var before = await JsonAsync(await platform.GetAsync($"/api/platform/users/{user}/settings"));
        Assert.Equal("engagement", before["objectiveId"]!.GetValue<string>());
        var chosen = await platform.PutAsJsonAsync($"/api/platform/users/{user}/settings", new { objectiveId = "learning", parameters = new { topics = new[] { "Physics" } } });
        Assert.Equal(HttpStatusCode.OK, chosen.StatusCode);
        var feed = await JsonAsync(await platform.GetAsync($"/api/platform/users/{user}/feed?k=5"));
        Assert.Equal("learning", feed["objectiveId"]!.GetValue<string>());
        var after = await JsonAsync(await platform.GetAsync($"/api/platform/users/{user}/settings"));
        Assert.Equal(["Physics"], after["parameters"]!["topics"]!.AsArray().Select(t => t!.GetValue<string>()));

        // A topic the catalog does not have is named, and nothing changes.
        var typo = await platform.PutAsJsonAsync($"/api/platform/users/{user}/settings", new { objectiveId = "learning", parameters = new { topics = new[] { "Phisics" } } });
        Assert.Equal(HttpStatusCode.BadRequest, typo.StatusCode);
        var problem = JsonNode.Parse(await typo.Content.ReadAsStringAsync())!;
        Assert.Contains("Phisics", problem["errors"]!["parameters.topics[0]"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(["Physics"], (await JsonAsync(await platform.GetAsync($"/api/platform/users/{user}/settings")))["parameters"]!["topics"]!.AsArray()
            .Select(t => t!.GetValue<string>()));
    }

    [Fact]
    public async Task Platform_settings_a_new_user_is_refused_store_nobody()
    {
        var platform = await service.WithApiKeyAsync("feeds");
        var user = "refused-" + Guid.NewGuid().ToString("N")[..8];
        var accounts = new Data.AccountStore(service.DataSource);

        var unknownGoal = await platform.PutAsJsonAsync($"/api/platform/users/{user}/settings", new { objectiveId = "nosuch", parameters = new { } });
        var unknownTopic = await platform.PutAsJsonAsync($"/api/platform/users/{user}/settings", new { objectiveId = "learning", parameters = new { topics = new[] { "Phisics" } } });

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (unknownGoal.StatusCode, unknownTopic.StatusCode));
        Assert.Null(await accounts.FindExternalAsync(user));
        var chosen = await platform.PutAsJsonAsync($"/api/platform/users/{user}/settings", new { objectiveId = "learning", parameters = new { topics = new[] { "Physics" } } });
        Assert.Equal(HttpStatusCode.OK, chosen.StatusCode);
        Assert.NotNull(await accounts.FindExternalAsync(user));
    }

    [Fact]
    public async Task Objectives_guide_lists_every_setting_of_every_goal_with_its_default()
    {
        var guide = await File.ReadAllLinesAsync(Path.Combine(Recommender.Testing.RepositoryPaths.Root, "docs", "objectives.md"));
        var objectives = (await JsonAsync(await service.CreateClient().GetAsync("/api/objectives"))).AsArray();
        Assert.True(objectives.Count >= 5);
        foreach (var objective in objectives)
        {
            var id = objective!["id"]!.GetValue<string>();
            var row = guide.SingleOrDefault(l => l.StartsWith($"| `{id}` |", StringComparison.Ordinal));
            Assert.True(row is not null, $"docs/objectives.md has no row for {id}");
            foreach (var parameter in objective["parameters"]!.AsArray())
            {
                var value = parameter!["default"]!;
                var shown = value is JsonArray array ? $"[{string.Join(", ", array.Select(v => v!.ToJsonString()))}]" : value.ToJsonString().Trim('"');
                Assert.Contains($"`{parameter["name"]!.GetValue<string>()}` ({shown})", row, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Catalog_topics_are_listed_with_their_items_and_an_unknown_topic_filter_is_named()
    {
        var anonymous = service.CreateClient();
        var topics = (await JsonAsync(await anonymous.GetAsync("/api/catalog/topics"))).AsArray();
        var physics = topics.Single(t => t!["name"]!.GetValue<string>() == "Physics")!;
        var items = (await JsonAsync(await anonymous.GetAsync("/api/catalog/items?topic=Physics&limit=500"))).AsArray();
        Assert.Equal(items.Count, physics["items"]!.GetValue<int>());
        Assert.True(items.Count > 0);

        var bogus = await anonymous.GetAsync("/api/catalog/items?topic=Phisics");
        Assert.Equal(HttpStatusCode.BadRequest, bogus.StatusCode);
        Assert.Contains("Phisics", JsonNode.Parse(await bogus.Content.ReadAsStringAsync())!["errors"]!["topic"]![0]!.GetValue<string>(), StringComparison.Ordinal);

        var person = await service.SignedInAsync(await new Data.AccountStore(service.DataSource).UpsertAsync("tia-" + Guid.NewGuid().ToString("N")[..6], "Tia", "user", ServiceFixture.Password));
        var onboarding = await person.PutAsJsonAsync("/api/me/settings", new { objectiveId = "engagement", parameters = new { }, topics = new[] { "Oceans", "quantum" } });
        Assert.Equal(HttpStatusCode.BadRequest, onboarding.StatusCode);
        Assert.Contains("'quantum'", JsonNode.Parse(await onboarding.Content.ReadAsStringAsync())!["errors"]!["topics[1]"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Feeds_name_each_item_by_the_platforms_own_id_as_well()
    {
        var platform = await service.WithApiKeyAsync("events", "feeds");
        var externalUser = "platform-" + Guid.NewGuid().ToString("N")[..8];
        var liked = Enumerable.Range(0, 4).Select(i => $"item-{i * 3}").ToList();
        await JsonAsync(await platform.PostAsJsonAsync("/api/platform/events",
            liked.Select((item, i) => new { userId = externalUser, itemId = item, kind = "like", idempotencyKey = $"k{i}" })));
        var person = await service.SignedInAsync(service.Bob);

        var platformFeed = await JsonAsync(await platform.GetAsync($"/api/platform/users/{externalUser}/feed?k=6"));
        var personFeed = await JsonAsync(await person.GetAsync("/api/me/feed?k=6"));

        foreach (var items in new[] { platformFeed["items"]!.AsArray(), personFeed["items"]!.AsArray() })
        {
            Assert.NotEmpty(items);
            Assert.All(items, i => Assert.Equal(service.Items[i!["externalId"]!.GetValue<string>()], i["itemId"]!.GetValue<long>()));
        }
        // A platform can tell, in its own ids, that what its user liked is not offered again.
        Assert.Empty(platformFeed["items"]!.AsArray().Select(i => i!["externalId"]!.GetValue<string>()).Intersect(liked));
    }

    [Fact]
    public async Task Admin_served_lists_filter_by_a_platforms_own_user_id()
    {
        var platform = await service.WithApiKeyAsync("feeds");
        var externalUser = "platform-" + Guid.NewGuid().ToString("N")[..8];
        var feed = await JsonAsync(await platform.GetAsync($"/api/platform/users/{externalUser}/feed?k=3"));
        await service.FlushAuditAsync();
        var admin = await service.SignedInAsync(service.Admin);

        var lists = (await JsonAsync(await admin.GetAsync($"/api/admin/served?externalUserId={externalUser}"))).AsArray();
        var unknown = await admin.GetAsync("/api/admin/served?externalUserId=nobody-" + Guid.NewGuid().ToString("N"));
        var both = await admin.GetAsync($"/api/admin/served?externalUserId={externalUser}&userId={service.Alice.Id}");
        var unknownOurs = await admin.GetAsync($"/api/admin/served?userId={long.MaxValue}");

        Assert.Equal([feed["requestId"]!.GetValue<Guid>()], lists.Select(l => l!["list"]!["requestId"]!.GetValue<Guid>()));
        foreach (var (refused, field) in new[] { (unknown, "externalUserId"), (both, "externalUserId"), (unknownOurs, "userId") })
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.True(JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["errors"]!.AsObject().ContainsKey(field));
        }
    }

    [Fact]
    public async Task Admin_served_lists_find_an_objective_no_longer_loaded_whose_lists_are_in_the_log()
    {
        // A plug-in taken out of the plug-in folder: its lists stay in the log, and an auditor must still find them.
        var reader = await new Data.AccountStore(service.DataSource).UpsertAsync("erin-" + Guid.NewGuid().ToString("N")[..6], "Erin", "user", ServiceFixture.Password);
        var retired = "retired_" + Guid.NewGuid().ToString("N")[..8];
        await new Data.ServedListStore(service.DataSource).WriteAsync(
            [new Data.AuditRecord(Guid.CreateVersion7(), reader.Id, new Core.ServedList(reader.Id, retired, "1", "{}", "hash", "1", 1, DateTimeOffset.UtcNow, 0, []))]);
        var admin = await service.SignedInAsync(service.Admin);

        var found = await admin.GetAsync($"/api/admin/served?objectiveId={retired}");
        var never = await admin.GetAsync("/api/admin/served?objectiveId=never_" + Guid.NewGuid().ToString("N")[..8]);

        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        Assert.Equal([reader.Id], (await JsonAsync(found)).AsArray().Select(l => l!["userId"]!.GetValue<long>()));
        Assert.Equal(HttpStatusCode.BadRequest, never.StatusCode);
        Assert.Contains("GET /api/objectives lists them", await never.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Feed_gives_a_sources_credibility_as_it_was_given()
    {
        // A newcomer, so no one else's test changes what their feed shows.
        var reader = await new Data.AccountStore(service.DataSource).UpsertAsync("dana-" + Guid.NewGuid().ToString("N")[..6], "Dana", "user", ServiceFixture.Password);
        var client = await service.SignedInAsync(reader);

        var items = (await JsonAsync(await client.GetAsync("/api/me/feed?k=30")))["items"]!.AsArray();

        // The fixture's sources were given 0.9 and 0.1, stored at single precision.
        var given = new Dictionary<string, string> { ["Good Source"] = "0.9", ["Dubious Source"] = "0.1" };
        Assert.Contains("Good Source", items.Select(i => i!["source"]!.GetValue<string>()));
        Assert.All(items, i => Assert.Equal(given[i!["source"]!.GetValue<string>()], i["credibility"]!.ToJsonString()));
    }

    [Fact]
    public async Task OpenApi_document_says_which_credential_each_operation_takes_and_the_browser_is_served_from_here()
    {
        var anonymous = service.CreateClient();
        var document = JsonNode.Parse(await anonymous.GetStringAsync("/openapi/v1.json"))!;
        var schemes = document["components"]!["securitySchemes"]!;
        var browser = await anonymous.GetAsync("/docs/index.html");
        var api = await anonymous.GetAsync("/api/objectives");

        Assert.Equal("X-Api-Key", schemes["apiKey"]!["name"]!.GetValue<string>());
        Assert.Equal("cookie", schemes["cookie"]!["in"]!.GetValue<string>());
        foreach (var (path, operations) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in operations!.AsObject())
            {
                var required = operation!["security"]?.AsArray().SelectMany(r => r!.AsObject().Select(p => p.Key)).ToList() ?? [];
                var expected = path.StartsWith("/api/platform/", StringComparison.Ordinal) ? ["apiKey"]
                    : path is "/api/objectives" or "/api/auth/sign-in" || path.StartsWith("/api/catalog/", StringComparison.Ordinal) ? new List<string>()
                    : ["cookie"];
                Assert.True(expected.SequenceEqual(required), $"{method} {path}: {string.Join(",", required)}");
            }
        }
        // It introduces itself: its name, how a platform authenticates, its licence, and what each group of routes is for.
        Assert.Equal("Recommender API", document["info"]!["title"]!.GetValue<string>());
        Assert.Contains("`X-Api-Key`", document["info"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("MIT", document["info"]!["license"]!["identifier"]!.GetValue<string>());
        var described = document["tags"]!.AsArray().ToDictionary(t => t!["name"]!.GetValue<string>(), t => t!["description"]?.GetValue<string>());
        var used = document["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject())
            .SelectMany(o => o.Value!["tags"]!.AsArray().Select(t => t!.GetValue<string>())).ToHashSet();
        Assert.Equal(6, used.Count);
        Assert.All(used, tag => Assert.False(string.IsNullOrWhiteSpace(described.GetValueOrDefault(tag)), $"tag {tag} has no description"));
        Assert.Equal(HttpStatusCode.OK, browser.StatusCode);
        Assert.Contains("swagger-ui", await browser.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // The browser's own scripts and styles come from this host and nowhere else; the API itself loads nothing.
        Assert.StartsWith("default-src 'self';", browser.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("default-src 'none'; frame-ancestors 'none'", api.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task OpenApi_document_types_every_property_requires_only_what_is_required_and_names_served_items_as_answered()
    {
        var client = await service.SignedInAsync(service.Alice);
        var document = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!;
        var schemas = document["components"]!["schemas"]!.AsObject();
        var feed = await JsonAsync(await client.GetAsync("/api/me/feed?k=2"));
        await service.FlushAuditAsync();
        var served = await JsonAsync(await client.GetAsync($"/api/me/served/{feed["requestId"]}"));

        // Every property, and every array item or map value inside one, says what it is (free-form JSON is a $ref to JsonNode).
        var untyped = schemas.SelectMany(s => Properties(s.Value!).Select(p => (Path: $"{s.Key}.{p.Key}", Schema: p.Value!)))
            .SelectMany(p => Nested(p.Path, p.Schema))
            .Where(p => !new[] { "type", "$ref", "oneOf", "anyOf", "allOf" }.Any(p.Schema.AsObject().ContainsKey)
                || (p.Schema["type"]?.ToJsonString().Contains("array", StringComparison.Ordinal) == true && p.Schema["items"] is null))
            .Select(p => p.Path)
            .ToList();
        Assert.Empty(untyped);
        Assert.Equal(["title"], Required("ItemInput"));
        Assert.Equal(["itemId", "kind", "idempotencyKey"], Required("EventInput"));
        Assert.Equal(["userId", "itemId", "kind", "idempotencyKey"], Required("PlatformEventInput"));
        Assert.Equal(["name"], Required("SourceInput"));
        // The schema of a served list's items, reached from the operation's own answer, names what the endpoint writes.
        var list = Resolve(document["paths"]!["/api/me/served/{requestId}"]!["get"]!["responses"]!["200"]!["content"]!["application/json"]!["schema"]!);
        var item = Resolve(list["properties"]!["items"]!["items"]!);
        var answered = served["items"]![0]!.AsObject().Select(p => p.Key).ToList();
        Assert.Equal(answered.Order(), Properties(item).Select(p => p.Key).Order());
        Assert.Contains("itemId", answered);
        // Refusals before a handler runs are declared where they happen.
        var events = document["paths"]!["/api/platform/events"]!["post"]!["responses"]!.AsObject().Select(r => r.Key);
        Assert.Superset(new HashSet<string> { "401", "403", "413", "429", "503" }, events.ToHashSet());
        Assert.Contains("401", document["paths"]!["/api/me/feed"]!["get"]!["responses"]!.AsObject().Select(r => r.Key));

        IEnumerable<KeyValuePair<string, JsonNode?>> Properties(JsonNode schema) => schema["properties"]?.AsObject() ?? [];
        IEnumerable<string> Required(string name) => schemas[name]!["required"]!.AsArray().Select(r => r!.GetValue<string>());
        JsonNode Resolve(JsonNode schema) => schema["$ref"] is { } reference ? schemas[reference.GetValue<string>().Split('/')[^1]]! : schema;
        static IEnumerable<(string Path, JsonNode Schema)> Nested(string path, JsonNode schema) =>
            [(path, schema), .. schema["items"] is { } items ? Nested(path + "[]", items) : [],
                .. schema["additionalProperties"] is JsonObject values ? Nested(path + "{}", values) : []];
    }

    [Fact]
    public async Task Serving_resolves_platform_items_added_after_its_catalog_was_loaded()
    {
        var state = new ServingState(new Data.CatalogStore(service.DataSource), new ModelStore(service.DataSource),
            new Core.ObjectiveRegistry(Core.ObjectiveRegistry.BuiltIn()), Microsoft.Extensions.Logging.Abstractions.NullLogger<ServingState>.Instance);
        await state.ReloadAsync();
        var late = "late-" + Guid.NewGuid().ToString("N")[..8];
        var batch = new Data.Import.ImportBatch();
        batch.Items.Add(new Data.Import.ItemRow(2, late, "Late", null, null, null, null, null, null, ["Oceans"]));
        await new Data.Import.CatalogImporter(service.DataSource).ImportAsync(batch);

        var ids = await state.ResolveItemsAsync(["item-1", late, "no-such-item"]);

        Assert.False(state.Current.Pipeline.Catalog.TryGetId(late, out _));
        Assert.Equal(service.Items["item-1"], ids["item-1"]);
        await using var conn = await service.DataSource.OpenConnectionAsync();
        Assert.Equal(await conn.ExecuteScalarAsync<long>("select id from items where external_id = @late", new { late }), ids[late]);
        Assert.False(ids.ContainsKey("no-such-item"));
        Assert.True(await new Data.CatalogStore(service.DataSource).DeleteItemAsync(late));
    }

    [Fact]
    public async Task Platform_item_put_is_validated_and_appears_in_the_catalog()
    {
        var catalog = await service.WithApiKeyAsync("catalog");

        var bad = await catalog.PutAsJsonAsync("/api/platform/items/x1", new { title = "", level = 9 });
        var unknownSource = await catalog.PutAsJsonAsync("/api/platform/items/x1", new { title = "Tides", sourceId = "nobody" });
        var good = await catalog.PutAsJsonAsync("/api/platform/items/x1", new { title = "Tides", level = 2, sourceId = "good", topics = new[] { "Oceans" } });

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var body = await bad.Content.ReadAsStringAsync();
        Assert.Contains("title", body, StringComparison.Ordinal);
        Assert.Contains("level", body, StringComparison.Ordinal);
        Assert.Contains("sourceId", await unknownSource.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, good.StatusCode);
        var items = await service.CreateClient().GetFromJsonAsync<JsonArray>("/api/catalog/items?topic=Oceans&limit=500");
        Assert.Contains(items!, i => i!["externalId"]!.GetValue<string>() == "x1");

        // What only an import can set (the body, the level's basis) survives a PUT that cannot carry it.
        await using (var conn = await service.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("update items set body = 'The full text', level_basis = 'counted by hand' where external_id = 'x1'");
        Assert.Equal(HttpStatusCode.NoContent, (await catalog.PutAsJsonAsync("/api/platform/items/x1", new { title = "Tides, again", level = 3, topics = new[] { "Oceans" } })).StatusCode);
        await using (var conn = await service.DataSource.OpenConnectionAsync())
        {
            var (title, text, basis) = await conn.QuerySingleAsync<(string, string?, string?)>("select title, body, level_basis from items where external_id = 'x1'");
            Assert.Equal(("Tides, again", "The full text", "counted by hand"), (title, text, basis));
        }
        Assert.Equal(HttpStatusCode.NoContent, (await catalog.DeleteAsync("/api/platform/items/x1")).StatusCode);
        var gone = await catalog.DeleteAsync("/api/platform/items/x1");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        // A 404 says whether the id or the path was wrong, and how an id with '/' is sent.
        Assert.StartsWith("Nothing has this id.", (await gone.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        var unencoded = await catalog.PutAsJsonAsync("/api/platform/items/docs/intro", new { title = "Intro", topics = new[] { "Oceans" } });
        Assert.Equal(HttpStatusCode.NotFound, unencoded.StatusCode);
        Assert.Contains("percent-encoded (docs%2Fintro)", (await unencoded.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Platform_item_put_refuses_an_overlong_summary_naming_it()
    {
        var catalog = await service.WithApiKeyAsync("catalog");

        var longest = await catalog.PutAsJsonAsync("/api/platform/items/summary-limit", new { title = "T", summary = new string('s', Data.Import.CatalogRules.MaxSummaryLength) });
        var tooLong = await catalog.PutAsJsonAsync("/api/platform/items/summary-limit", new { title = "T", summary = new string('s', Data.Import.CatalogRules.MaxSummaryLength + 1) });

        Assert.Equal((HttpStatusCode.NoContent, HttpStatusCode.BadRequest), (longest.StatusCode, tooLong.StatusCode));
        var errors = JsonNode.Parse(await tooLong.Content.ReadAsStringAsync())!["errors"]!.AsObject();
        Assert.Equal($"at most {Data.Import.CatalogRules.MaxSummaryLength} characters", errors["summary"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Platform_source_put_stores_url_and_credibility_basis_checks_them_as_an_import_does_and_replaces_the_source()
    {
        var catalog = await service.WithApiKeyAsync("catalog");
        var id = "ocean-" + Guid.NewGuid().ToString("N")[..8];
        async Task<(float? Credibility, string? Url, string? Basis)> StoredAsync()
        {
            await using var conn = await service.DataSource.OpenConnectionAsync();
            return await conn.QuerySingleAsync<(float?, string?, string?)>(
                "select credibility, url, credibility_basis from sources where external_id = @id", new { id });
        }

        var full = await catalog.PutAsJsonAsync($"/api/platform/sources/{id}",
            new { name = "Ocean Weekly", credibility = 0.9, url = "https://example.org/ocean", credibilityBasis = "Peer reviewed" });
        var afterFull = await StoredAsync();
        var bad = await catalog.PutAsJsonAsync($"/api/platform/sources/{id}",
            new { name = "Ocean Weekly", url = "javascript:alert(1)", credibilityBasis = new string('b', Data.Import.CatalogRules.MaxBasisLength + 1) });
        var afterBad = await StoredAsync();
        var nameOnly = await catalog.PutAsJsonAsync($"/api/platform/sources/{id}", new { name = "Ocean Weekly" });
        var document = JsonNode.Parse(await service.CreateClient().GetStringAsync("/openapi/v1.json"))!;

        Assert.Equal(HttpStatusCode.NoContent, full.StatusCode);
        Assert.Equal((0.9f, "https://example.org/ocean", "Peer reviewed"), afterFull);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = JsonNode.Parse(await bad.Content.ReadAsStringAsync())!["errors"]!.AsObject().Select(e => e.Key).Order(StringComparer.Ordinal);
        Assert.Equal(["credibilityBasis", "url"], errors);
        Assert.Equal(afterFull, afterBad);
        Assert.Equal(HttpStatusCode.NoContent, nameOnly.StatusCode);
        Assert.Equal(((float?)null, (string?)null, (string?)null), await StoredAsync());
        var properties = document["components"]!["schemas"]!["SourceInput"]!["properties"]!.AsObject().Select(p => p.Key);
        Assert.Superset(new HashSet<string> { "name", "credibility", "url", "credibilityBasis", "publicKey" }, properties.ToHashSet());
    }

    [Fact]
    public async Task Account_delete_removes_the_person_and_their_events()
    {
        var account = await new Data.AccountStore(service.DataSource).UpsertAsync("dave-" + Guid.NewGuid().ToString("N")[..6], "Dave", "user", ServiceFixture.Password);
        var client = await service.SignedInAsync(account);
        await JsonAsync(await client.PostAsJsonAsync("/api/me/events", new[] { Event(service.Items["item-1"], "like", "d1") }));

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/me")).StatusCode);

        await using var conn = await service.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("select count(*) from events where user_id = @Id", new { account.Id }));
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("select count(*) from users where id = @Id", new { account.Id }));
        Assert.Equal(HttpStatusCode.Unauthorized, (await service.CreateClient().PostAsJsonAsync("/api/auth/sign-in", new { login = account.Login, password = ServiceFixture.Password })).StatusCode);
    }

}
