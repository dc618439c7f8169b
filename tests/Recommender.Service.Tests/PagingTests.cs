using System.Net;
using System.Text.Json.Nodes;

namespace Recommender.Service.Tests;

/// <summary>Every paged list refuses an out-of-range limit, offset or before with a 400 naming the field, and never clamps it silently.</summary>
public sealed class PagingTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    public enum Caller { Anonymous, Person, Admin }

    /// <summary>Path, who may call it, its largest page, and whether it takes an offset or a before-id cursor.</summary>
    public static TheoryData<string, Caller, int, bool, bool> Endpoints => new()
    {
        { "/api/me/settings/history", Caller.Person, 500, false, false },
        { "/api/me/served", Caller.Person, 200, false, true },
        { "/api/admin/served", Caller.Admin, 500, false, true },
        { "/api/admin/users", Caller.Admin, 500, true, false },
        { "/api/catalog/items", Caller.Anonymous, 500, true, false },
    };

    private async Task<HttpClient> ClientAsync(Caller caller) => caller switch
    {
        Caller.Person => await service.SignedInAsync(service.Alice),
        Caller.Admin => await service.SignedInAsync(service.Admin),
        _ => service.CreateClient(),
    };

    private static async Task AssertRefusedAsync(HttpClient client, string address, string field, string? message = null)
    {
        using var response = await client.GetAsync(address);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{address}: {(int)response.StatusCode} {body}");
        var errors = JsonNode.Parse(body)!["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), $"{address}: {body}");
        if (message is not null)
            Assert.Equal(message, errors[field]![0]!.GetValue<string>());
    }

    private static async Task<JsonArray> AssertAnsweredAsync(HttpClient client, string address)
    {
        using var response = await client.GetAsync(address);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{address}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!.AsArray();
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Limit_out_of_range_is_400_naming_limit(string path, Caller caller, int max, bool offset, bool before)
    {
        _ = (offset, before);
        var client = await ClientAsync(caller);

        await AssertRefusedAsync(client, $"{path}?limit=0", "limit", $"must be between 1 and {max}");
        await AssertRefusedAsync(client, $"{path}?limit=-5", "limit", $"must be between 1 and {max}");
        await AssertRefusedAsync(client, $"{path}?limit={max + 1}", "limit", $"must be between 1 and {max}");
        await AssertRefusedAsync(client, $"{path}?limit=1000000", "limit", $"must be between 1 and {max}");
        // Past int: refused while binding, still naming the field.
        await AssertRefusedAsync(client, $"{path}?limit=99999999999", "limit");
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Limit_at_its_bounds_is_answered(string path, Caller caller, int max, bool offset, bool before)
    {
        _ = (offset, before);
        var client = await ClientAsync(caller);

        Assert.True((await AssertAnsweredAsync(client, $"{path}?limit=1")).Count <= 1);
        Assert.True((await AssertAnsweredAsync(client, $"{path}?limit={max}")).Count <= max);
        await AssertAnsweredAsync(client, path);
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Offset_and_before_out_of_range_are_400_naming_them(string path, Caller caller, int max, bool offset, bool before)
    {
        _ = max;
        var client = await ClientAsync(caller);
        if (offset)
        {
            await AssertRefusedAsync(client, $"{path}?offset=-1", "offset", "must be 0 or more");
            await AssertAnsweredAsync(client, $"{path}?offset=0");
        }
        if (before)
        {
            await AssertRefusedAsync(client, $"{path}?before=0", "before", "must be an id, 1 or more");
            await AssertRefusedAsync(client, $"{path}?before=-3", "before", "must be an id, 1 or more");
            await AssertAnsweredAsync(client, $"{path}?before=1");
        }
        Assert.True(offset || before || path.EndsWith("history", StringComparison.Ordinal), "every paged list but the settings history takes an offset or a cursor");
    }

    [Fact]
    public async Task Catalog_pages_follow_offset_and_limit_exactly()
    {
        var client = service.CreateClient();
        var all = await AssertAnsweredAsync(client, "/api/catalog/items?limit=500");
        Assert.True(all.Count >= 3, "the seeded catalog has items");

        var page = await AssertAnsweredAsync(client, "/api/catalog/items?offset=1&limit=2");

        Assert.Equal(all.Skip(1).Take(2).Select(i => i!["id"]!.GetValue<long>()), page.Select(i => i!["id"]!.GetValue<long>()));
    }
}
