using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.OpenApi;
using Recommender.Core;

namespace Recommender.Service;

/// <summary>
/// Completes the generated OpenAPI document where the generator cannot see what the API does: the types of values
/// written through this API's own JSON converters, and the error answers every route can give.
/// </summary>
internal static class OpenApiContract
{
    private const string ProblemDetailsSchema = nameof(ProblemDetails);

    /// <summary>What each group of routes is for, shown above its operations in the API browser.</summary>
    private static readonly Dictionary<string, string> TagDescriptions = new(StringComparer.Ordinal)
    {
        ["Objectives"] = "The goals a reader can choose, with the parameters each takes.",
        ["Sign-in"] = "Cookie sign-in for people and admins.",
        ["Me"] = "The signed-in reader: their feed, what they did with it, their goal, and what they were shown and why.",
        ["Admin"] = "Audit every list served, models and re-rankers, users, API keys and publishers' keys. Admins only.",
        ["Platform"] = "A platform's catalog, events, readers and their feeds, by the platform's own ids. An API key with the scope each operation names.",
        ["Catalog"] = "The catalog and its topics, open to anyone.",
    };

    /// <summary>
    /// The document's own title and introduction: what the API is, how each kind of caller authenticates, how errors
    /// read, and where the guide is; and what each group of routes is for. The generator would title it after the
    /// assembly ("Recommender.Service | v1") and say nothing else.
    /// </summary>
    public static OpenApiOptions AddIntroduction(this OpenApiOptions options) => options.AddDocumentTransformer((document, _, _) =>
    {
        document.Info = new OpenApiInfo
        {
            Title = "Recommender API",
            Version = document.Info?.Version ?? "1",
            Description = """
                A content recommender in which each reader chooses what their feed optimises: learning, other perspectives,
                what they enjoy, or no profiling at all. Every list served is logged with why each item is in it.

                - **Platforms** bring their catalog, events and readers under `/api/platform`, by their own ids, with an API key
                  in the `X-Api-Key` header (`recommender keys create`, or `POST /api/admin/api-keys`). A key holds the scopes
                  `catalog`, `events` and `feeds` it was given; each operation names the one it needs.
                - **People** sign in with `POST /api/auth/sign-in`, which sets a cookie, and use `/api/me`; **admins** and
                  auditors also `/api/admin`.
                - **Errors** are problem details (RFC 9457). A 400 names the field at fault by its place in the body, such as `[3].kind` in an events array; a 401 or 403
                  says what the route needs. Writes are answered after they are committed; a 503 says when to retry.

                The guide, with examples for every route, is `docs/api.md` in the project's repository.
                """,
            License = new OpenApiLicense { Name = "MIT", Identifier = "MIT" },
        };
        document.Tags = new HashSet<OpenApiTag>(TagDescriptions.Select(t => new OpenApiTag { Name = t.Key, Description = t.Value }));
        return Task.CompletedTask;
    });

    /// <summary>
    /// Strings pass through <see cref="StorableText.JsonConverter"/>, times through <see cref="UtcTimestamps"/> and recorded scores through
    /// <see cref="AuditScoreConverter"/>; the generator gives a value behind a custom converter an empty schema (any
    /// value), and drops it as the items of an array, so clients would not know these are strings and numbers. A
    /// recorded score or component that was not a finite number is written as null.
    /// </summary>
    public static OpenApiOptions AddConvertedTypes(this OpenApiOptions options) => options.AddSchemaTransformer((schema, context, _) =>
    {
        if (schema is not { Type: null, AllOf: null, AnyOf: null, OneOf: null })
        {
            if (schema.Type?.HasFlag(JsonSchemaType.Array) == true && schema.Items is null && context.JsonTypeInfo.ElementType == typeof(string))
                schema.Items = new OpenApiSchema { Type = JsonSchemaType.String };
            if (context.JsonPropertyInfo?.CustomConverter is AuditComponentsConverter && schema.AdditionalProperties is OpenApiSchema component)
                component.Type |= JsonSchemaType.Null;
            return Task.CompletedTask;
        }
        var nullable = context.JsonPropertyInfo?.IsGetNullable == true ? JsonSchemaType.Null : 0;
        if (context.JsonPropertyInfo?.CustomConverter is AuditScoreConverter)
            schema.Type = JsonSchemaType.Number | JsonSchemaType.Null;
        else if (context.JsonTypeInfo.Type == typeof(string))
            schema.Type = JsonSchemaType.String | nullable;
        else if (context.JsonTypeInfo.Type == typeof(DateTimeOffset) || context.JsonTypeInfo.Type == typeof(DateTimeOffset?))
        {
            schema.Type = JsonSchemaType.String | (context.JsonTypeInfo.Type == typeof(DateTimeOffset?) ? JsonSchemaType.Null : nullable);
            schema.Format = "date-time";
        }
        return Task.CompletedTask;
    });

    /// <summary>
    /// The refusals that happen before a handler runs, read from each route's own metadata: 401 and 403 from its
    /// authorization, 413 where it takes a body, 429 where it is rate-limited; and 503 on any route. Each answers a
    /// ProblemDetails.
    /// </summary>
    public static OpenApiOptions AddErrorResponses(this OpenApiOptions options) => options.AddOperationTransformer(async (operation, context, ct) =>
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var errors = new List<(int Status, string Description)>();
        if (!metadata.OfType<IAllowAnonymous>().Any())
        {
            var policies = metadata.OfType<IAuthorizeData>().Select(a => a.Policy).ToList();
            errors.Add((StatusCodes.Status401Unauthorized, policies.Any(IsPlatformScope)
                ? "No API key, or one that is unknown or revoked."
                : "Not signed in."));
            // Any signed-in person passes the person policy; the others also need a role or a key's scope.
            if (policies.Any(p => p is ApiServiceExtensions.AdminPolicy || IsPlatformScope(p)))
                errors.Add((StatusCodes.Status403Forbidden, policies.Any(IsPlatformScope) ? "The API key lacks the scope this operation needs." : "Signed in, but not an admin."));
        }
        if (operation.RequestBody is not null)
            errors.Add((StatusCodes.Status413PayloadTooLarge, $"The body is over {ApiServiceExtensions.MaxRequestBodyBytes / (1 << 20)} MiB."));
        if (metadata.OfType<EnableRateLimitingAttribute>().Any())
            errors.Add((StatusCodes.Status429TooManyRequests, "Too many requests; retry after the seconds in Retry-After."));
        // Any route: the overload limit guards every request, and any can meet a starting service or a lost database.
        errors.Add((StatusCodes.Status503ServiceUnavailable, "Busy, still starting, or the database is unavailable; retry after the seconds in Retry-After."));

        if (context.Document?.Components?.Schemas?.ContainsKey(ProblemDetailsSchema) != true)
            context.Document?.AddComponent(ProblemDetailsSchema, await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), cancellationToken: ct));
        operation.Responses ??= [];
        foreach (var (status, description) in errors)
        {
            operation.Responses.TryAdd(status.ToString(System.Globalization.CultureInfo.InvariantCulture), new OpenApiResponse
            {
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(ProblemDetailsSchema, context.Document) },
                },
            });
        }
    });

    private static bool IsPlatformScope(string? policy) =>
        policy is ApiServiceExtensions.CatalogScope or ApiServiceExtensions.EventsScope or ApiServiceExtensions.FeedsScope;
}
