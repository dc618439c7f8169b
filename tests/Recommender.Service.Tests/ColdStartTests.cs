using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Recommender.Service.Tests;

/// <summary>New people, on a database no other test writes to, so popularity and the model are exactly as seeded.</summary>
public sealed class ColdStartTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private static object Event(long itemId, string kind, string key) =>
        new { itemId, kind, idempotencyKey = key, occurredAt = DateTimeOffset.UtcNow.AddMinutes(-1) };

    private static async Task<JsonNode> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task Feed_new_person_personalises_after_five_events_without_a_retrain()
    {
        var account = await new Data.AccountStore(service.DataSource).UpsertAsync("hal-" + Guid.NewGuid().ToString("N")[..6], "Hal", "user", ServiceFixture.Password);
        var client = await service.SignedInAsync(account);
        var before = await JsonAsync(await client.GetAsync("/api/me/feed?k=10"));

        var likes = Enumerable.Range(0, 5).Select(n => Event(service.Items[$"item-{n * 4 + 2}"], "like", $"cold-{n}")).ToArray();
        await JsonAsync(await client.PostAsJsonAsync("/api/me/events", likes));
        var after = await JsonAsync(await client.GetAsync("/api/me/feed?k=10"));

        static IEnumerable<string> Reasons(JsonNode feed) => feed["items"]!.AsArray().SelectMany(i => i!["reasons"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal("engagement", after["objectiveId"]!.GetValue<string>());
        // Before any event the reasons speak of popularity only ("Mostly because many people like it." is the factor line).
        Assert.All(Reasons(before), r => Assert.True(r is "Many people enjoyed this." or "Mostly because many people like it.", r));
        Assert.Contains(Reasons(after), r => r.StartsWith("Because you liked", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Feed_onboarding_topics_are_initial_signals_before_any_event()
    {
        async Task<JsonNode> FeedAsync(string[]? topics)
        {
            var account = await new Data.AccountStore(service.DataSource).UpsertAsync("ida-" + Guid.NewGuid().ToString("N")[..6], "Ida", "user", ServiceFixture.Password);
            var client = await service.SignedInAsync(account);
            await JsonAsync(await client.PutAsJsonAsync("/api/me/settings", new { objectiveId = "engagement", parameters = new { }, topics }));
            return await JsonAsync(await client.GetAsync("/api/me/feed?k=10"));
        }

        var plain = await FeedAsync(null);
        var music = await FeedAsync(["Music"]);

        Assert.All(plain["items"]!.AsArray(), i => Assert.Equal("Many people enjoyed this.", i!["reasons"]![0]!.GetValue<string>()));
        Assert.All(music["items"]!.AsArray(), i => Assert.NotEqual("Many people enjoyed this.", i!["reasons"]![0]!.GetValue<string>()));
        Assert.Contains(music["items"]!.AsArray(), i => i!["reasons"]![0]!.GetValue<string>() == "People who read about the topics you chose enjoyed this.");
        // Ida has done nothing yet: her taste is the topics she chose, and no reason may say she enjoyed anything.
        Assert.All(music["items"]!.AsArray().SelectMany(i => i!["reasons"]!.AsArray()), r =>
        {
            Assert.DoesNotContain("what you have enjoyed", r!.GetValue<string>(), StringComparison.Ordinal);
            Assert.DoesNotContain("tastes like yours", r.GetValue<string>(), StringComparison.Ordinal);
        });
    }

}
