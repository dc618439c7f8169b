using System.Text.Json.Nodes;
using Recommender.Core;

namespace Recommender.Service;

/// <summary>The objectives on offer, with their plain-language descriptions and parameter schemas.</summary>
public static class ObjectivesApi
{
    public sealed record ObjectiveInfo(string Id, string Version, string DisplayName, string Description, JsonArray Parameters);

    public static IEndpointRouteBuilder MapObjectivesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/objectives", (ObjectiveRegistry objectives) => TypedResults.Ok(objectives.All.Select(Describe).ToList()))
            .WithTags("Objectives").AllowAnonymous()
            .WithName("ListObjectives")
            .WithSummary("List the objectives a feed can follow")
            .WithDescription("Each objective's id, version, plain-language name and description, and the parameters a person may set for it, with their types and ranges.");
        return app;
    }

    public static ObjectiveInfo Describe(IObjective o) => new(o.Id, o.Version, o.DisplayName, o.Description, o.Schema.ToJson());

    /// <summary>Parses a parameters object from a request body; a malformed one is an error on <c>parameters</c>.</summary>
    public static bool TryParse(JsonObject? json, out ObjectiveParameters parameters, out string? error)
    {
        if (json is not null && !StorableText.IsStorable(json))
        {
            parameters = ObjectiveParameters.Empty;
            error = StorableText.Reason;
            return false;
        }
        try
        {
            parameters = json is null ? ObjectiveParameters.Empty : ObjectiveParameters.FromJson(json.ToJsonString());
            error = null;
            return true;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException or InvalidOperationException or ArgumentException)
        {
            parameters = ObjectiveParameters.Empty;
            error = e.Message;
            return false;
        }
    }
}
