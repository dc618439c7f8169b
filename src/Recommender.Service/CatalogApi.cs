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
            .WithDescription("A page of the items feeds can show, optionally of one topic; offset from 0, limit 1 to 500 (default 50).");
        group.MapGet("/counts", async (CatalogBrowser catalog, CancellationToken ct) => TypedResults.Ok(await catalog.CountAsync(ct)))
            .WithName("CountCatalog")
            .WithSummary("Count items, topics, sources, users and events")
            .WithDescription("How many items, topics, sources, users and events there are.");
        return app;
    }

    private static async Task<Results<Ok<IReadOnlyList<CatalogItem>>, ValidationProblem>> ListItems(
        CatalogBrowser catalog, CancellationToken ct, int offset = 0, int limit = 50, string? topic = null) =>
        await catalog.PageAsync(offset, limit, topic, ct) switch
        {
            { Problem: { } problem } => TypedResults.ValidationProblem(new Dictionary<string, string[]> { [problem.Field] = [problem.Message] }),
            var page => TypedResults.Ok(page.Items),
        };
}
