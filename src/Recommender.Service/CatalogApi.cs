using Microsoft.AspNetCore.Http.HttpResults;
using Recommender.Data;
using Recommender.Serving;

namespace Recommender.Service;

/// <summary>Read-only catalog endpoints.</summary>
public static class CatalogApi
{
    public static IEndpointRouteBuilder MapCatalogApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/catalog").WithTags("Catalog").AllowAnonymous();
        group.MapGet("/items", ListItems)
            .WithName("ListCatalogItems")
            .WithSummary("List catalog items")
            .WithDescription("A page of the items feeds can show, optionally of one topic; " + CatalogBrowser.Page.Description);
        group.MapGet("/counts", async (CatalogBrowser catalog, CancellationToken ct) => TypedResults.Ok(await catalog.CountAsync(ct)))
            .WithName("CountCatalog")
            .WithSummary("Count items, topics, sources, users and events")
            .WithDescription("How many items, topics, sources, users and events there are.");
        group.MapGet("/topics", async (CatalogBrowser catalog, CancellationToken ct) => TypedResults.Ok(await catalog.TopicsAsync(ct)))
            .WithName("ListCatalogTopics")
            .WithSummary("List the catalog's topics")
            .WithDescription("Every topic by name, with its parent (null for a subject) and how many items it holds: the names settings, onboarding and the items filter accept.");
        return app;
    }

    private static async Task<Results<Ok<IReadOnlyList<CatalogItem>>, ValidationProblem>> ListItems(
        CatalogBrowser catalog, CancellationToken ct, int? offset = null, int? limit = null, string? topic = null)
    {
        var errors = new Dictionary<string, string[]>();
        var page = await catalog.PageAsync(offset ?? 0, limit ?? CatalogBrowser.Page.DefaultLimit, errors, topic, ct);
        return page is null ? TypedResults.ValidationProblem(errors) : TypedResults.Ok(page);
    }
}
