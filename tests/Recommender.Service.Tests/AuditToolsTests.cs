using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Recommender.Serving;

namespace Recommender.Service.Tests;

public sealed class AuditToolsTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private async Task<long> UserWithPhysicsHistoryAsync()
    {
        var account = await new Data.AccountStore(service.DataSource).UpsertAsync("fay-" + Guid.NewGuid().ToString("N")[..6], "Fay", "user", ServiceFixture.Password);
        var client = await service.SignedInAsync(account);
        // item-i carries topics[i % 4] and topics[(i / 4) % 4], so item-(4n+1) is on Physics.
        var likes = Enumerable.Range(0, 10).Select(n => new { itemId = service.Items[$"item-{n * 4 + 1}"], kind = "like", idempotencyKey = $"l{n}" }).ToArray();
        (await client.PostAsJsonAsync("/api/me/events", likes)).EnsureSuccessStatusCode();
        return account.Id;
    }

    [Fact]
    public async Task Counterfactual_attribute_change_leaves_the_list_unchanged()
    {
        var admin = await service.SignedInAsync(service.Admin);
        var userId = await UserWithPhysicsHistoryAsync();

        var response = await admin.PostAsJsonAsync("/api/admin/counterfactual", new { userId, attribute = "gender", value = "other", k = 10 });
        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(10, result["overlap"]!.GetValue<int>());
        Assert.Equal(1.0, result["rankBiasedOverlap"]!.GetValue<double>(), 6);
    }

    [Fact]
    public async Task Counterfactual_topic_history_change_moves_the_list()
    {
        var admin = await service.SignedInAsync(service.Admin);
        var userId = await UserWithPhysicsHistoryAsync();

        var response = await admin.PostAsJsonAsync("/api/admin/counterfactual", new { userId, fromTopic = "Physics", toTopic = "Music", k = 10 });
        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("replaced by items on “Music”", result["changes"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(result["rankBiasedOverlap"]!.GetValue<double>() < 1, result.ToJsonString());
        Assert.Equal(10, result["original"]!["items"]!.AsArray().Count);
    }

    /// <summary>A list served to <paramref name="userId"/> three days ago, for <paramref name="objectiveId"/> with topics Physics and seed 4242; its request id.</summary>
    private async Task<Guid> ServedListAsync(long userId, string objectiveId = "learning")
    {
        var requestId = Guid.NewGuid();
        await using var conn = await service.DataSource.OpenConnectionAsync();
        await Dapper.SqlMapper.ExecuteAsync(conn, """
            insert into served_lists (user_id, request_id, objective_id, objective_version, parameters_hash, parameters, seed, model_version, candidates_considered, items, created_at)
            values (@userId, @requestId, @objectiveId, '1', 'hash', '{"topics":["Physics"]}', 4242, 'popularity', 0, '[]', now() - interval '3 days')
            """, new { userId, requestId, objectiveId });
        return requestId;
    }

    [Fact]
    public async Task Counterfactual_from_an_audit_record_replays_its_goal_settings_and_seed_for_its_person()
    {
        var admin = await service.SignedInAsync(service.Admin);
        var userId = await UserWithPhysicsHistoryAsync();
        // On engagement now; the record was ranked for learning on Physics.
        await new Data.SettingsStore(service.DataSource).SetAsync(userId, "engagement", "{}");
        var record = await ServedListAsync(userId);

        var fromRecord = await admin.PostAsJsonAsync("/api/admin/counterfactual", new { record, fromTopic = "Physics", toTopic = "Music", k = 10 });
        var now = await admin.PostAsJsonAsync("/api/admin/counterfactual", new { userId, fromTopic = "Physics", toTopic = "Music", k = 10 });
        var samePerson = await admin.PostAsJsonAsync("/api/admin/counterfactual", new { userId, record, attribute = "age", value = "70" });

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK), (fromRecord.StatusCode, now.StatusCode, samePerson.StatusCode));
        var replayed = JsonNode.Parse(await fromRecord.Content.ReadAsStringAsync())!;
        foreach (var list in new[] { replayed["original"]!, replayed["counterfactual"]! })
        {
            Assert.Equal("learning", list["objectiveId"]!.GetValue<string>());
            Assert.Equal(["Physics"], JsonNode.Parse(list["parametersJson"]!.GetValue<string>())!["topics"]!.AsArray().Select(t => t!.GetValue<string>()));
            Assert.Equal(4242, list["seed"]!.GetValue<int>());
        }
        var current = JsonNode.Parse(await now.Content.ReadAsStringAsync())!["original"]!;
        Assert.Equal(("engagement", 1), (current["objectiveId"]!.GetValue<string>(), current["seed"]!.GetValue<int>()));
        Assert.Equal("learning", JsonNode.Parse(await samePerson.Content.ReadAsStringAsync())!["original"]!["objectiveId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Counterfactual_from_a_record_refuses_an_unknown_record_another_persons_and_a_seed_of_its_own()
    {
        var admin = await service.SignedInAsync(service.Admin);
        var userId = await UserWithPhysicsHistoryAsync();
        var record = await ServedListAsync(userId);
        var gone = await ServedListAsync(userId, "retired_goal");

        var unknown = await admin.PostAsJsonAsync("/api/admin/counterfactual", new { record = Guid.NewGuid(), attribute = "age", value = "70" });
        var seeded = await admin.PostAsJsonAsync("/api/admin/counterfactual", new { record, seed = 7, attribute = "age", value = "70" });
        var someoneElse = await admin.PostAsJsonAsync("/api/admin/counterfactual", new { userId = service.Alice.Id, record, attribute = "age", value = "70" });
        var retired = await admin.PostAsJsonAsync("/api/admin/counterfactual", new { record = gone, attribute = "age", value = "70" });
        var goal = await admin.PostAsJsonAsync("/api/admin/counterfactual", new { record, objectiveId = "diversity", attribute = "age", value = "70" });

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var problem = JsonNode.Parse(await unknown.Content.ReadAsStringAsync())!;
        Assert.Equal("No such served list", problem["title"]!.GetValue<string>());
        Assert.Contains("No served list has requestId", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        foreach (var (response, field) in new[] { (seeded, "seed"), (someoneElse, "userId"), (retired, "record"), (goal, "objectiveId") })
        {
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{field}: {(int)response.StatusCode}");
            Assert.Equal([field], JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]!.AsObject().Select(e => e.Key));
        }
    }

    [Fact]
    public async Task Counterfactual_topic_the_catalog_does_not_have_is_a_400_naming_its_field()
    {
        var admin = await service.SignedInAsync(service.Admin);
        var userId = await UserWithPhysicsHistoryAsync();

        var to = await admin.PostAsJsonAsync("/api/admin/counterfactual", new { userId, fromTopic = "Physics", toTopic = "Musik", k = 10 });
        var from = await admin.PostAsJsonAsync("/api/admin/counterfactual", new { userId, fromTopic = "Underwater Basket Weaving", toTopic = "Music", k = 10 });

        // Not "nothing was replaced": a topic the catalog lacks is the caller's mistake, named with the one likely meant.
        Assert.Equal(HttpStatusCode.BadRequest, to.StatusCode);
        var toErrors = JsonNode.Parse(await to.Content.ReadAsStringAsync())!["errors"]!.AsObject();
        Assert.Equal(["toTopic"], toErrors.Select(e => e.Key));
        Assert.Equal("'Musik' is not a topic of the catalog; did you mean Music?", toErrors["toTopic"]![0]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, from.StatusCode);
        var fromErrors = JsonNode.Parse(await from.Content.ReadAsStringAsync())!["errors"]!.AsObject();
        Assert.Equal(["fromTopic"], fromErrors.Select(e => e.Key));
        Assert.Contains("GET /api/catalog/topics lists them", fromErrors["fromTopic"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Counterfactual_bad_input_names_the_field()
    {
        var admin = await service.SignedInAsync(service.Admin);

        var both = await admin.PostAsJsonAsync("/api/admin/counterfactual", new { userId = 1, attribute = "a", fromTopic = "x", toTopic = "y" });
        var missing = await admin.PostAsJsonAsync("/api/admin/counterfactual", new { attribute = "a" });
        var unknownUser = await admin.PostAsJsonAsync("/api/admin/counterfactual", new { userId = 99_999_999, attribute = "age", value = "65" });
        var madeUp = await admin.PostAsJsonAsync("/api/admin/counterfactual", new { userId = 1, attribute = "shoe_size", value = "44" });

        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
        Assert.Contains("attribute", await both.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("userId", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknownUser.StatusCode);
        // A made-up attribute is refused by name, with the ones people state, rather than "compared" and found equal.
        Assert.Equal(HttpStatusCode.BadRequest, madeUp.StatusCode);
        var problem = JsonNode.Parse(await madeUp.Content.ReadAsStringAsync())!;
        Assert.Contains("choose one of age, gender", problem["errors"]!["attribute"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_holds_only_noisy_bounded_counts_and_is_a_post()
    {
        var admin = await service.SignedInAsync(service.Admin);
        var reader = await service.SignedInAsync(service.Alice);
        (await reader.GetAsync("/api/me/feed?k=10")).EnsureSuccessStatusCode();
        await service.FlushAuditAsync();

        using var response = await admin.PostAsync("/api/admin/export?epsilon=0.5&maxCellsPerPerson=4", null);
        var export = await response.Content.ReadFromJsonAsync<JsonObject>();
        var bad = await admin.PostAsync("/api/admin/export?epsilon=0", null);
        // A link cannot spend budget: reading the export is not a route.
        using var link = await admin.GetAsync("/api/admin/export?epsilon=0.5");

        Assert.Equal(8.0, export!["noiseScale"]!.GetValue<double>());
        Assert.NotEmpty(export["counts"]!.AsArray());
        Assert.All(export["counts"]!.AsArray(), c => Assert.True(c!["people"]!.GetValue<long>() >= 0));
        // Rows per person or per list, even under a pseudonym, would be outside the guarantee the ε pays for.
        Assert.Equal(["epsilon", "maxCellsPerPerson", "noiseScale", "from", "to", "generatedAt", "counts", "budget"], export.Select(p => p.Key));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, link.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("epsilon", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_measure_served_lists_and_what_people_did_next()
    {
        var account = await new Data.AccountStore(service.DataSource).UpsertAsync("gil-" + Guid.NewGuid().ToString("N")[..6], "Gil", "user", ServiceFixture.Password);
        var client = await service.SignedInAsync(account);
        (await client.PutAsJsonAsync("/api/me/settings", new { objectiveId = "diversity", parameters = new { } })).EnsureSuccessStatusCode();
        var feed = await client.GetFromJsonAsync<JsonObject>("/api/me/feed?k=10");
        var first = feed!["items"]![0]!["itemId"]!.GetValue<long>();
        (await client.PostAsJsonAsync("/api/me/events", new[] { new { itemId = first, kind = "like", idempotencyKey = "liked-first" } })).EnsureSuccessStatusCode();
        await service.FlushAuditAsync();
        var admin = await service.SignedInAsync(service.Admin);

        var reports = await admin.GetFromJsonAsync<JsonArray>($"/api/admin/metrics?from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("O"))}&to={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"))}");
        var bad = await admin.GetAsync("/api/admin/metrics?k=0");

        var diversity = Assert.Single(reports!, r => r!["objectiveId"]!.GetValue<string>() == "diversity")!;
        Assert.True(diversity["lists"]!.GetValue<long>() >= 1);
        var metrics = diversity["metrics"]!;
        Assert.True(metrics["ndcg"]!.GetValue<double>() > 0, metrics.ToJsonString());
        Assert.InRange(metrics["ild"]!.GetValue<double>(), 0.0, 2.0);
        Assert.InRange(metrics["lowCredibilityShare"]!.GetValue<double>(), 0.0, 1.0);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public void DiscreteLaplace_draws_have_the_exact_distribution()
    {
        // ε/Δ = 1/2: P[Z = z] = (1 - q)/(1 + q) · q^|z| with q = exp(-1/2).
        var draws = Enumerable.Range(0, 50_000).Select(_ => DiscreteLaplace.Sample(1, 2)).ToArray();
        var q = Math.Exp(-0.5);

        Assert.InRange(draws.Average(), -0.05, 0.05);
        Assert.InRange(draws.Count(d => d == 0) / (double)draws.Length, (1 - q) / (1 + q) - 0.01, (1 - q) / (1 + q) + 0.01);
        Assert.InRange(draws.Average(d => (double)Math.Abs(d)), 2 * q / (1 - q * q) - 0.06, 2 * q / (1 - q * q) + 0.06);
        Assert.InRange(draws.Count(d => d == 1) / (double)draws.Count(d => d == 2), 1 / q - 0.1, 1 / q + 0.1);
    }

    [Fact]
    public void DiscreteLaplace_smallest_epsilon_stays_finite_and_wide()
    {
        // ε = 0.01 with 1,000 cells a person: scale 100,000, drawn with integers only.
        var draws = Enumerable.Range(0, 2_000).Select(_ => DiscreteLaplace.Sample(10, 1_000_000)).ToArray();

        Assert.InRange(draws.Average(d => (double)Math.Abs(d)), 80_000, 120_000);
    }

    [Fact]
    public void BernoulliExp_matches_exp_of_minus_the_ratio()
    {
        foreach (var (n, d) in new[] { (0L, 1L), (1L, 3L), (1L, 1L), (5L, 2L) })
        {
            var hits = Enumerable.Range(0, 40_000).Count(_ => DiscreteLaplace.BernoulliExp(n, d)) / 40_000.0;
            Assert.InRange(hits, Math.Exp(-(double)n / d) - 0.012, Math.Exp(-(double)n / d) + 0.012);
        }
    }

    [Fact]
    public void RankBiasedOverlap_identical_is_one_disjoint_is_zero_and_order_matters()
    {
        long[] a = [1, 2, 3, 4, 5];

        Assert.Equal(1.0, CounterfactualAudit.RankBiasedOverlap(a, a, 0.9), 9);
        Assert.Equal(0.0, CounterfactualAudit.RankBiasedOverlap(a, [6, 7, 8, 9, 10], 0.9), 9);
        var swappedTop = CounterfactualAudit.RankBiasedOverlap(a, [2, 1, 3, 4, 5], 0.9);
        var swappedBottom = CounterfactualAudit.RankBiasedOverlap(a, [1, 2, 3, 5, 4], 0.9);
        Assert.True(swappedTop < swappedBottom && swappedBottom < 1, $"{swappedTop} < {swappedBottom} < 1");
    }
}
