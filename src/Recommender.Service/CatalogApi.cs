using Microsoft.AspNetCore.Http.HttpResults;
using Recommender.Data;

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
        group.MapGet("/counts", async (CatalogStore store, CancellationToken ct) => TypedResults.Ok(await store.CountAsync(ct)))
            .WithName("CountCatalog")
            .WithSummary("Count items, topics, sources, users and events")
            .WithDescription("How many items, topics, sources, users and events there are.");
        return app;
    }

    private static async Task<Results<Ok<IReadOnlyList<CatalogItem>>, ValidationProblem>> ListItems(
        CatalogStore store, CancellationToken ct, int offset = 0, int limit = 50, string? topic = null)
    {
        if (offset < 0)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["offset"] = ["must be 0 or more"] });
        if (limit is < 1 or > 500)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = ["must be between 1 and 500"] });
        return TypedResults.Ok(await store.ListAsync(offset, limit, topic, ct));
    }
}
