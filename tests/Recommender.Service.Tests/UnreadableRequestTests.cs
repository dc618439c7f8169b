using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Recommender.Service.Tests;

/// <summary>
/// Requests the framework cannot read (no body, a value of the wrong type, an unknown filter value) are 400s that name
/// the field in plain words, never a .NET type or a framework hint.
/// </summary>
public sealed class UnreadableRequestTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private static async Task<(JsonObject Problem, string Text)> BadRequestAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("Recommender.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Nullable", text, StringComparison.Ordinal);
        return (JsonNode.Parse(text)!.AsObject(), text);
    }

    private static string ErrorOf(JsonObject problem, string field)
    {
        var errors = problem["errors"]?[field] as JsonArray;
        Assert.True(errors is [JsonValue], $"no single error on {field}: {problem.ToJsonString()}");
        var error = errors![0]!.GetValue<string>();
        Assert.True(error.Length > 0, problem.ToJsonString());
        return error;
    }

    [Theory]
    [InlineData("PUT", "/api/platform/items/x")]
    [InlineData("PUT", "/api/platform/sources/x")]
    public async Task Empty_body_is_400_saying_a_JSON_body_is_required(string method, string path)
    {
        using var platform = await service.WithApiKeyAsync(ApiServiceExtensions.CatalogScope, ApiServiceExtensions.EventsScope);
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("", Encoding.UTF8, "application/json") };

        using var response = await platform.SendAsync(request);

        var (problem, text) = await BadRequestAsync(response);
        Assert.Equal("A JSON body is required.", problem["title"]?.GetValue<string>());
        Assert.StartsWith("is required", ErrorOf(problem, "body"), StringComparison.Ordinal);
        Assert.DoesNotContain("Implicit", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Service", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Empty_sign_in_body_is_400_naming_body()
    {
        using var client = service.CreateClient();

        using var response = await client.PostAsync("/api/auth/sign-in", new StringContent("", Encoding.UTF8, "application/json"));

        Assert.StartsWith("is required", ErrorOf((await BadRequestAsync(response)).Problem, "body"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"title":"T","level":"abc"}""", "level", "expected a whole number")]
    [InlineData("""{"title":"T","stance":"left"}""", "stance", "expected a number")]
    [InlineData("""{"title":"T","publishedAt":"yesterday"}""", "publishedAt", "expected a date and time")]
    [InlineData("""{"title":"T","topics":"oceans"}""", "topics", "expected an array")]
    [InlineData("""{"title":"T","topics":[1]}""", "topics[0]", "expected a string")]
    [InlineData("""["T"]""", "body", "expected an object")]
    public async Task Value_of_the_wrong_type_is_400_naming_the_field_and_what_was_expected(string body, string field, string expected)
    {
        using var platform = await service.WithApiKeyAsync(ApiServiceExtensions.CatalogScope);

        using var response = await platform.PutAsync("/api/platform/items/typed", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = (await BadRequestAsync(response)).Problem;
        Assert.True(ErrorOf(problem, field).StartsWith(expected, StringComparison.Ordinal), problem.ToJsonString());
    }

    [Theory]
    [InlineData("PUT", "/api/platform/items/unknown-member", """{"title":"T","source_id":"s1"}""", "source_id", "is not a field; did you mean sourceId?")]
    [InlineData("PUT", "/api/platform/items/unknown-member", """{"title":"T","colour":"red"}""", "colour", "is not a field; the fields are title, url, summary")]
    [InlineData("PUT", "/api/platform/sources/unknown-member", """{"name":"S","credibility_basis":"audited"}""", "credibility_basis", "is not a field; did you mean credibilityBasis?")]
    [InlineData("POST", "/api/platform/events", """[{"userId":"u","itemId":"i","kind":"click","idempotencyKey":"k","occurred_at":"2024-05-01T10:00:00Z"}]""",
        "[0].occurred_at", "is not a field; did you mean occurredAt?")]
    [InlineData("PUT", "/api/platform/users/u/settings", """{"objectiveId":"engagement","parameters":{},"goal":"x"}""", "goal", "is not a field; the fields are")]
    public async Task Unknown_member_is_400_naming_it_and_nothing_is_stored(string method, string path, string body, string field, string expected)
    {
        // A PUT replaces: a member the service ignored would leave its field empty, so it is refused instead.
        using var platform = await service.WithApiKeyAsync(ApiServiceExtensions.CatalogScope, ApiServiceExtensions.EventsScope, ApiServiceExtensions.FeedsScope);
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

        using var response = await platform.SendAsync(request);

        var problem = (await BadRequestAsync(response)).Problem;
        Assert.True(ErrorOf(problem, field).StartsWith(expected, StringComparison.Ordinal), problem.ToJsonString());
        await using var conn = await service.DataSource.OpenConnectionAsync();
        await using var stored = new Npgsql.NpgsqlCommand("select count(*) from items where external_id = 'unknown-member'", conn);
        Assert.Equal(0L, await stored.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Array_where_parameters_object_belongs_is_400_saying_expected_an_object()
    {
        using var platform = await service.WithApiKeyAsync(ApiServiceExtensions.FeedsScope);

        using var response = await platform.PutAsync("/api/platform/users/shape/settings",
            new StringContent("""{"objectiveId":"engagement","parameters":[]}""", Encoding.UTF8, "application/json"));

        Assert.Equal("expected an object", ErrorOf((await BadRequestAsync(response)).Problem, "parameters"));
    }

    [Fact]
    public async Task Query_value_of_the_wrong_type_is_400_saying_what_it_must_be()
    {
        using var platform = await service.WithApiKeyAsync(ApiServiceExtensions.FeedsScope);

        using var response = await platform.GetAsync("/api/platform/users/someone/feed?k=abc");

        Assert.Equal("must be a whole number", ErrorOf((await BadRequestAsync(response)).Problem, "k"));
    }

    [Theory]
    [InlineData("/api/admin/users?role=bogus", "role")]
    [InlineData("/api/admin/served?objectiveId=nope", "objectiveId")]
    public async Task Unknown_filter_value_is_400_naming_the_parameter(string path, string field)
    {
        using var admin = await service.SignedInAsync(service.Admin);

        using var response = await admin.GetAsync(path);

        ErrorOf((await BadRequestAsync(response)).Problem, field);
    }

    [Fact]
    public async Task Api_key_caller_is_told_the_real_status_of_an_unknown_path_method_or_content_type()
    {
        using var platform = await service.WithApiKeyAsync(ApiServiceExtensions.CatalogScope);

        using var wrongType = await platform.PutAsync("/api/platform/items/x", new StringContent("title=T", Encoding.UTF8, "text/plain"));
        using var unknownPath = await platform.GetAsync("/api/platform/nothing-here");
        using var wrongMethod = await platform.PostAsync("/api/platform/items/x", JsonContent.Create(new { title = "T" }));

        Assert.Equal((HttpStatusCode.UnsupportedMediaType, HttpStatusCode.NotFound, HttpStatusCode.MethodNotAllowed),
            (wrongType.StatusCode, unknownPath.StatusCode, wrongMethod.StatusCode));
    }

    [Fact]
    public async Task Body_without_a_json_content_type_is_a_415_that_says_which_header_to_send()
    {
        using var platform = await service.WithApiKeyAsync(ApiServiceExtensions.CatalogScope);

        using var response = await platform.PutAsync("/api/platform/sources/s1", new StringContent("""{"name":"Ocean Weekly"}""", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal("Send the body as JSON with the header Content-Type: application/json.", problem["detail"]?.GetValue<string>());
    }
}
