using Microsoft.AspNetCore.Http.HttpResults;
using Recommender.Data;
using Recommender.Data.Import;
using Recommender.Serving;

namespace Recommender.Service;

/// <summary>
/// Platforms (API key with scopes): their catalog, events on behalf of their users, and feeds for their users.
/// Items, sources and users are named by the platform's own ids.
/// </summary>
public static class PlatformApi
{
    /// <summary>An item; <c>signature</c> is the publisher's Ed25519 signature over its canonical form, base64 (docs/provenance.md).</summary>
    public sealed record ItemInput(string? Title, string? Url = null, string? Summary = null, DateTimeOffset? PublishedAt = null, int? Level = null, string? SourceId = null,
        double? Stance = null, List<string>? Topics = null, string? Signature = null);

    /// <summary>
    /// A source, replaced whole: a field left out is stored as null. <c>url</c> links to the source's profile,
    /// <c>credibilityBasis</c> says in plain words what the credibility rests on; <c>publicKey</c> (Ed25519, base64 of
    /// 32 bytes) is registered for it and retires its older keys.
    /// </summary>
    public sealed record SourceInput(string? Name, double? Credibility = null, string? PublicKey = null, string? Url = null, string? CredibilityBasis = null);

    public sealed record PlatformEventInput(string? UserId, string? ItemId, string? Kind, string? IdempotencyKey, double? Value = null, DateTimeOffset? OccurredAt = null);

    public static IEndpointRouteBuilder MapPlatformApi(this IEndpointRouteBuilder app)
    {
        var platform = app.MapGroup("/api/platform").WithTags("Platform");
        platform.MapPut("/items/{itemId}", PutItem).RequireAuthorization(ApiServiceExtensions.CatalogScope)
            .WithName("PutPlatformItem")
            .WithSummary("Add or replace an item")
            .WithDescription("By the platform's own item id. An item may carry a publisher's signature, verified here (docs/provenance.md). API key with the catalog scope.");
        platform.MapDelete("/items/{itemId}", async Task<Results<NoContent, NotFound>> (string itemId, CatalogStore catalog, CancellationToken ct) =>
            await catalog.DeleteItemAsync(itemId, ct) ? TypedResults.NoContent() : TypedResults.NotFound()).RequireAuthorization(ApiServiceExtensions.CatalogScope)
            .WithName("DeletePlatformItem")
            .WithSummary("Remove an item from feeds")
            .WithDescription("By the platform's own item id, with its topics and the events about it. API key with the catalog scope.");
        platform.MapPut("/sources/{sourceId}", PutSource).RequireAuthorization(ApiServiceExtensions.CatalogScope)
            .WithName("PutPlatformSource")
            .WithSummary("Add or replace a source")
            .WithDescription("A source's name, credibility (0 to 1, which credibility-aware objectives rank by), what the credibility rests on (credibilityBasis), "
                + "a link to the source (url) and a publisher key. Replaces the source: a field left out is stored as null. API key with the catalog scope.");
        platform.MapPost("/events", PostEvents).RequireAuthorization(ApiServiceExtensions.EventsScope).RequireRateLimiting(ApiServiceExtensions.EventsLimit)
            .WithName("PostPlatformEvents")
            .WithSummary("Record what the platform's users did")
            .WithDescription("Up to 1,000 events naming users and items by the platform's ids; a user is created on first sight. Idempotency keys make a retried batch safe. API key with the events scope.");
        platform.MapGet("/users/{userId}/feed", GetFeed).RequireAuthorization(ApiServiceExtensions.FeedsScope)
            .WithName("GetPlatformFeed")
            .WithSummary("One page of a platform user's feed")
            .WithDescription("As /api/me/feed, for the platform's user id, recorded in the audit log before it is answered. A user seen for the first time is created, "
                + "since the served list is recorded as theirs; DELETE /api/platform/users/{userId} removes them. API key with the feeds scope.");
        platform.MapGet("/users/{userId}/settings", GetSettings).RequireAuthorization(ApiServiceExtensions.FeedsScope)
            .WithName("GetPlatformUserSettings")
            .WithSummary("A platform user's objective and its settings")
            .WithDescription("As /api/me/settings, for the platform's user id: the objective their feed follows (the default until they choose), its parameters and their topics. "
                + "A user the platform has not named yet gets the default settings and is not created. API key with the feeds scope.");
        platform.MapPut("/users/{userId}/settings", PutSettings).RequireAuthorization(ApiServiceExtensions.FeedsScope)
            .WithName("PutPlatformUserSettings")
            .WithSummary("Record the objective a platform user chose")
            .WithDescription("As /api/me/settings: the platform's own settings page passes on what its user chose; validated against the objective's parameter schema, kept in their settings history, followed by their next feed page. API key with the feeds scope.");
        platform.MapDelete("/users/{userId}", DeleteUser).RequireAuthorization(ApiServiceExtensions.EventsScope)
            .WithName("DeletePlatformUser")
            .WithSummary("Delete a platform user and everything about them")
            .WithDescription("By the platform's own user id: their events, settings and settings history, learning state and served lists go with them. "
                + "A later event or feed for the same id starts a new user. API key with the events scope.");
        return app;
    }

    private static async Task<Results<NoContent, ValidationProblem>> PutItem(string itemId, ItemInput input, CatalogImporter importer, CatalogBrowser catalog,
        CancellationToken ct)
    {
        // Checked by the same rules as an import: a number too large for a level still reads as out of range.
        var item = new ItemRow(1, itemId, input.Title?.Trim() ?? "", input.Url, input.Summary, input.PublishedAt?.ToUniversalTime(),
            input.Level is { } level ? (short)Math.Clamp(level, short.MinValue, short.MaxValue) : null,
            string.IsNullOrWhiteSpace(input.SourceId) ? null : input.SourceId, (float?)input.Stance,
            [.. (input.Topics ?? []).Select(t => t?.Trim() ?? "").Distinct()],
            Signature: string.IsNullOrWhiteSpace(input.Signature) ? null : input.Signature.Trim(),
            // What an import may set and this API cannot say (the level's basis, the body, the asker, the licence) is kept.
            Absent: ["level_basis", "body", "asked_by", "license"]);
        var errors = CatalogRules.ItemProblems(item).ToDictionary(p => p.Field, p => new[] { p.Problem });
        // A topic the catalog does not have is refused rather than created: a misspelt topic would otherwise become a
        // topic of its own, offered to readers and splitting the items that belong together.
        if (errors.Count == 0)
        {
            foreach (var unknown in await catalog.UnknownTopicErrorsAsync([("topics", input.Topics ?? [])], ct: ct))
                errors[unknown.Field] = [unknown.Message];
        }
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        var batch = new ImportBatch { ItemsFile = "request" };
        batch.Items.Add(item);
        try
        {
            await importer.ImportAsync(batch, ct: ct);
        }
        catch (ImportException e) when (e.Reason.StartsWith("source_id", StringComparison.Ordinal))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["sourceId"] = [$"no source '{input.SourceId}'; create it first"] });
        }
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ValidationProblem>> PutSource(string sourceId, SourceInput input, CatalogImporter importer, CancellationToken ct)
    {
        // Checked by the same rules as an import; a credibility too large for a float still reads as out of range.
        var source = new SourceRow(1, sourceId, input.Name?.Trim() ?? "",
            input.Credibility is { } c ? (float)Math.Clamp(c, float.MinValue, float.MaxValue) : null,
            input.Url, Blank(input.CredibilityBasis), Blank(input.PublicKey));
        var errors = CatalogRules.SourceProblems(source).ToDictionary(p => p.Field, p => new[] { p.Problem });
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        var batch = new ImportBatch { SourcesFile = "request" };
        batch.Sources.Add(source);
        try
        {
            await importer.ImportAsync(batch, ct: ct);
        }
        catch (ImportException e) when (e.Reason.StartsWith("public_key", StringComparison.Ordinal))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["publicKey"] = [e.Reason["public_key ".Length..]] });
        }
        return TypedResults.NoContent();
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static async Task<Results<Ok<MeApi.AppendResponse>, ValidationProblem, Conflict<HttpValidationProblemDetails>>> PostEvents(
        List<PlatformEventInput>? events, ServingState serving, AccountStore accounts, EventStore store, RecommenderMetrics metrics, CancellationToken ct)
    {
        var batch = events ?? [];
        var items = await serving.ResolveItemsAsync(batch.Where(e => e?.ItemId is not null).Select(e => e.ItemId!), ct);
        var errors = new Dictionary<string, string[]>();
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch[i]?.ItemId is { } id && !items.ContainsKey(id))
                errors[$"[{i}].itemId"] = [$"no item '{id}'"];
            if (batch[i]?.UserId is { } user && CatalogRules.IdProblem(user) is { } problem)
                errors[$"[{i}].userId"] = [problem];
        }
        // Unknown items come back as id 0 and are reported by the shared parser only if nothing above named them.
        var inputs = batch.Select(e => e is null ? null! : new EventInput(
            e.ItemId is { } x && items.TryGetValue(x, out var internalId) ? internalId : null, e.Kind, e.IdempotencyKey, e.Value, e.OccurredAt, e.UserId)).ToList();
        var (parsed, parseErrors) = EventBatch.Parse(inputs, e => string.IsNullOrWhiteSpace(e.UserId) ? null : 0, DateTimeOffset.UtcNow);
        foreach (var (k, v) in parseErrors)
            errors.TryAdd(k, v);
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        var users = await accounts.EnsureExternalAsync([.. batch.Select(e => e.UserId!)], ct);
        var resolved = parsed.Select((e, i) => e with { UserId = users[batch[i].UserId!] }).ToList();
        var result = await store.AppendAsync(resolved, ct);
        if (result.Conflicts.Count > 0)
            return EventBatch.KeyConflicts(result);
        metrics.EventsStored(resolved, result);
        return TypedResults.Ok(new MeApi.AppendResponse(result.Recorded, result.Duplicates));
    }

    private static async Task<Results<Ok<MeApi.SettingsDto>, ValidationProblem>> GetSettings(string userId, AccountStore accounts, SettingsService settings, CancellationToken ct)
    {
        if (CatalogRules.IdProblem(userId) is { } problem)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["userId"] = [problem] });
        // A read does not create the user: one the platform has not named yet has the settings everyone starts with.
        return await accounts.FindExternalAsync(userId, ct) is { } id ? await MeApi.GetSettingsAsync(id, settings, ct) : MeApi.UnchosenSettings(settings);
    }

    private static async Task<Results<Ok<MeApi.SettingsDto>, ValidationProblem>> PutSettings(string userId, MeApi.SettingsInput? input, AccountStore accounts,
        SettingsService settings, CancellationToken ct)
    {
        if (CatalogRules.IdProblem(userId) is { } problem)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["userId"] = [problem] });
        // The user is created only once the choice is accepted: a refused one stores nobody, as a settings read does.
        return await MeApi.PutSettingsAsync(c => accounts.EnsureExternalAsync(userId, c), input, settings, ct);
    }

    private static async Task<Results<NoContent, NotFound, Conflict<Microsoft.AspNetCore.Mvc.ProblemDetails>>> DeleteUser(string userId, AccountStore accounts,
        CancellationToken ct)
    {
        if (await accounts.FindExternalAsync(userId, ct) is not { } id)
            return TypedResults.NotFound();
        try
        {
            return await accounts.DeleteAsync(id, ct) ? TypedResults.NoContent() : TypedResults.NotFound();
        }
        catch (LastAdminException e)
        {
            return TypedResults.Conflict(new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = StatusCodes.Status409Conflict, Title = "The last admin cannot be deleted", Detail = e.Message });
        }
    }

    private static async Task<Results<Ok<Feed>, NotFound, ValidationProblem>> GetFeed(string userId, FeedService feeds, CancellationToken ct, int? k = null, string? cursor = null)
    {
        if (CatalogRules.IdProblem(userId) is { } problem)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["userId"] = [problem] });
        try
        {
            return TypedResults.Ok(await feeds.GetPlatformFeedAsync(userId, k, cursor, ct));
        }
        catch (FeedRequestException e)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [e.Field] = [e.Message] });
        }
    }
}
