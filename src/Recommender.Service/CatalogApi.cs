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
            .WithDescription("A page of the items feeds can show, optionally of one topic; " + Page.Description);
        group.MapGet("/counts", async (CatalogStore store, CancellationToken ct) => TypedResults.Ok(await store.CountAsync(ct)))
            .WithName("CountCatalog")
            .WithSummary("Count items, topics, sources, users and events")
            .WithDescription("How many items, topics, sources, users and events there are.");
        return app;
    }

    private static readonly PageRange Page = new(DefaultLimit: 50, MaxLimit: 500, Offset: true);

    private static async Task<Results<Ok<IReadOnlyList<CatalogItem>>, ValidationProblem>> ListItems(
        CatalogStore store, CancellationToken ct, int? offset = null, int? limit = null, string? topic = null)
    {
        var errors = new Dictionary<string, string[]>();
        if (!Page.Check(errors, limit ?? Page.DefaultLimit, offset ?? 0))
            return TypedResults.ValidationProblem(errors);
        return TypedResults.Ok(await store.ListAsync(offset ?? 0, limit ?? Page.DefaultLimit, topic, ct));
    }
}
