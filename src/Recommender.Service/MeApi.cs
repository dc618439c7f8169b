using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Recommender.Core;
using Recommender.Data;
using Recommender.Serving;

namespace Recommender.Service;

/// <summary>What a signed-in person can do with their own feed, settings, history and account — and nobody else's.</summary>
public static class MeApi
{
    public sealed record SettingsDto(string ObjectiveId, JsonObject Parameters, DateTime? UpdatedAt, IReadOnlyList<string>? Topics = null);

    /// <summary>
    /// One change of goal or settings. A goal's own topics are in its parameters; the first topics (onboarding signals)
    /// are not part of the history, so a change carries no separate topics field that would always read null.
    /// </summary>
    public sealed record SettingsChangeDto(string ObjectiveId, JsonObject Parameters, DateTime UpdatedAt);

    /// <param name="ObjectiveId">The objective to rank with.</param>
    /// <param name="Parameters">Its settings, checked against its schema.</param>
    /// <param name="Topics">Topics the person cares about (onboarding): initial signals until they have a few events. Left as they were when absent.</param>
    public sealed record SettingsInput(string? ObjectiveId, JsonObject? Parameters, List<string>? Topics = null);

    public sealed record AppendResponse(int Recorded, int Duplicates);

    /// <summary>Why an item was shown: its score as recorded (single precision, null when it was not a finite number), components and reasons.</summary>
    public sealed record WhyDto(long ItemId, Guid RequestId, int Rank, string ObjectiveId, [property: JsonConverter(typeof(AuditScoreConverter))] double Score,
        [property: JsonConverter(typeof(AuditComponentsConverter))] IReadOnlyDictionary<string, double> Components, IReadOnlyList<string> Reasons, DateTime ShownAt);

    public static IEndpointRouteBuilder MapMeApi(this IEndpointRouteBuilder app)
    {
        var me = app.MapGroup("/api/me").WithTags("Me").RequireAuthorization(ApiServiceExtensions.PersonPolicy);
        me.MapGet("/feed", GetFeed)
            .WithName("GetMyFeed")
            .WithSummary("One page of my feed")
            .WithDescription("Ranked under my chosen objective, each item with its score, components and reasons. The list is recorded in the audit log before it is answered (503 with Retry-After when it cannot be); pass nextCursor to get the next page of the same ranking.");
        me.MapPost("/events", PostEvents).RequireRateLimiting(ApiServiceExtensions.EventsLimit)
            .WithName("PostMyEvents")
            .WithSummary("Record what I did with items")
            .WithDescription("Up to 1,000 events (view, click, like, rating, …) in one transaction. An idempotency key already stored is counted as a duplicate, not recorded twice, so a retried batch is safe.");
        me.MapGet("/settings", GetSettings)
            .WithName("GetMySettings")
            .WithSummary("My objective and its settings")
            .WithDescription("The objective my feed follows (the default when I chose none), its parameters and my chosen topics.");
        me.MapPut("/settings", PutSettings)
            .WithName("PutMySettings")
            .WithSummary("Choose my objective and its settings")
            .WithDescription("Validated against the objective's parameter schema; the next feed page follows it. Every change is kept in my settings history.");
        me.MapGet("/settings/history", GetSettingsHistory)
            .WithName("GetMySettingsHistory")
            .WithSummary("My earlier settings, newest first")
            .WithDescription("At most limit changes: " + HistoryPage.Description);
        me.MapGet("/served", GetServed)
            .WithName("ListMyServedLists")
            .WithSummary("The lists I was shown")
            .WithDescription("My audit records, newest first: which items each feed page showed, under which objective and model; " + ServedPage.Description);
        me.MapGet("/served/{requestId:guid}", GetServedList)
            .WithName("GetMyServedList")
            .WithSummary("One list I was shown")
            .WithDescription("The audit record of one feed page, by the requestId the feed answered with; 404 for anyone else's.");
        me.MapGet("/why/{itemId:long}", GetWhy)
            .WithName("WhyWasIShown")
            .WithSummary("Why I was shown an item")
            .WithDescription("The rank, score components and reasons recorded with the newest of my last 50 served lists that showed the item; 404 when none did.");
        me.MapDelete("/", DeleteMe)
            .WithName("DeleteMe")
            .WithSummary("Delete my account and my data")
            .WithDescription("Removes the account and everything recorded about it, then signs out; 409 for the last admin.");
        return app;
    }

    private static async Task<Results<Ok<Feed>, ValidationProblem>> GetFeed(ClaimsPrincipal user, FeedService feeds, CancellationToken ct, int? k = null, string? cursor = null)
    {
        try
        {
            return TypedResults.Ok(await feeds.GetFeedAsync(user.UserId(), k, cursor, ct));
        }
        catch (FeedRequestException e)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [e.Field] = [e.Message] });
        }
    }

    private static async Task<Results<Ok<AppendResponse>, ValidationProblem, Conflict<HttpValidationProblemDetails>>> PostEvents(
        List<EventInput>? events, ClaimsPrincipal user, EventStore store, RecommenderMetrics metrics, CancellationToken ct)
    {
        var userId = user.UserId();
        var (parsed, errors) = EventBatch.Parse(events, e => e.UserId is null ? userId : null, DateTimeOffset.UtcNow);
        foreach (var (e, i) in (events ?? []).Select((e, i) => (e, i)).Where(p => p.e?.UserId is not null))
            errors[$"[{i}].userId"] = ["is only for platforms; your events are always your own"];
        if (errors.Count == 0)
        {
            foreach (var i in await store.FindUnknownItemsAsync(parsed, ct))
                errors[$"[{i}].itemId"] = [$"no item {parsed[i].ItemId}"];
        }
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        var result = await store.AppendAsync(parsed, ct);
        if (result.Conflicts.Count > 0)
            return EventBatch.KeyConflicts(result);
        metrics.EventsStored(parsed, result);
        return TypedResults.Ok(new AppendResponse(result.Recorded, result.Duplicates));
    }

    private static async Task<Ok<SettingsDto>> GetSettings(ClaimsPrincipal user, SettingsService settings, CancellationToken ct) =>
        await GetSettingsAsync(user.UserId(), settings, ct);

    private static Task<Results<Ok<SettingsDto>, ValidationProblem>> PutSettings(
        SettingsInput? input, ClaimsPrincipal user, SettingsService settings, CancellationToken ct) =>
        PutSettingsAsync(_ => Task.FromResult(user.UserId()), input, settings, ct);

    /// <summary>A person's settings as the API shows them; the platform's users get theirs the same way.</summary>
    internal static async Task<Ok<SettingsDto>> GetSettingsAsync(long userId, SettingsService settings, CancellationToken ct) =>
        TypedResults.Ok(Dto(await settings.GetAsync(userId, ct)));

    /// <summary>The settings of someone who has chosen nothing yet, read and stored nowhere.</summary>
    internal static Ok<SettingsDto> UnchosenSettings(SettingsService settings) => TypedResults.Ok(Dto(settings.Unchosen()));

    /// <summary>
    /// A person's choice of objective, settings and topics, checked against the objective's schema; the platform's users
    /// choose the same way. <paramref name="person"/> is called only for a choice that passes the checks.
    /// </summary>
    internal static async Task<Results<Ok<SettingsDto>, ValidationProblem>> PutSettingsAsync(Func<CancellationToken, Task<long>> person, SettingsInput? input,
        SettingsService settings, CancellationToken ct)
    {
        if (!ObjectivesApi.TryParse(input?.Parameters, out var parameters, out var parseError))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["parameters"] = [parseError!] });
        long userId = 0;
        var change = await settings.SetAsync(async c => userId = await person(c), input?.ObjectiveId, parameters, input?.Topics, ct);
        if (!change.Succeeded)
            return TypedResults.ValidationProblem(change.ErrorsByField());
        return TypedResults.Ok(Dto(await settings.GetAsync(userId, ct)));
    }

    private static SettingsDto Dto(CurrentSettings current) =>
        new(current.ObjectiveId, ParseObject(current.Parameters.ToCanonicalJson()), current.UpdatedAt, current.Topics);

    private static readonly PageRange HistoryPage = new(DefaultLimit: 50, MaxLimit: 500);

    private static readonly PageRange ServedPage = new(DefaultLimit: 20, MaxLimit: 200, Before: true);

    private static async Task<Results<Ok<List<SettingsChangeDto>>, ValidationProblem>> GetSettingsHistory(ClaimsPrincipal user, SettingsService settings, CancellationToken ct,
        int? limit = null)
    {
        var errors = new Dictionary<string, string[]>();
        if (!HistoryPage.Check(errors, limit ?? HistoryPage.DefaultLimit))
            return TypedResults.ValidationProblem(errors);
        return TypedResults.Ok((await settings.HistoryAsync(user.UserId(), limit ?? HistoryPage.DefaultLimit, ct))
            .Select(s => new SettingsChangeDto(s.ObjectiveId, ParseObject(s.ParametersJson), s.UpdatedAt)).ToList());
    }

    private static async Task<Results<Ok<List<ServedListDto>>, ValidationProblem>> GetServed(ClaimsPrincipal user, AuditQueries audit, ServingState serving,
        CancellationToken ct, int? limit = null, long? before = null)
    {
        var errors = new Dictionary<string, string[]>();
        if (!ServedPage.Check(errors, limit ?? ServedPage.DefaultLimit, before: before))
            return TypedResults.ValidationProblem(errors);
        var rows = await audit.OfPersonAsync(user.UserId(), limit ?? ServedPage.DefaultLimit, before, ct);
        return TypedResults.Ok(rows.Select(r => ServedListDto.From(r, serving.ExternalIdOf)).ToList());
    }

    private static async Task<Results<Ok<ServedListDto>, NotFound>> GetServedList(Guid requestId, ClaimsPrincipal user, AuditQueries audit, ServingState serving,
        CancellationToken ct) =>
        await audit.OwnRecordAsync(user.UserId(), requestId, ct) is { } row ? TypedResults.Ok(ServedListDto.From(row, serving.ExternalIdOf)) : TypedResults.NotFound();

    /// <summary>Why an item is in my feed: the most recent list that showed it, with its score components and reasons.</summary>
    private static async Task<Results<Ok<WhyDto>, NotFound>> GetWhy(long itemId, ClaimsPrincipal user, AuditQueries audit, CancellationToken ct)
    {
        foreach (var row in await audit.OfPersonAsync(user.UserId(), 50, ct: ct))
        {
            if (row.ReadItems().FirstOrDefault(i => i.ItemId == itemId) is { } item)
                return TypedResults.Ok(new WhyDto(itemId, row.RequestId, item.Rank, row.ObjectiveId, item.Score, item.Components, item.Reasons, row.CreatedAt));
        }
        return TypedResults.NotFound();
    }

    private static async Task<Results<NoContent, Conflict<Microsoft.AspNetCore.Mvc.ProblemDetails>>> DeleteMe(ClaimsPrincipal user, AccountStore accounts, HttpContext http, CancellationToken ct)
    {
        try
        {
            await accounts.DeleteAsync(user.UserId(), ct);
        }
        catch (LastAdminException e)
        {
            return TypedResults.Conflict(new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = StatusCodes.Status409Conflict, Title = "The last admin cannot be deleted", Detail = e.Message });
        }
        await Microsoft.AspNetCore.Authentication.AuthenticationHttpContextExtensions.SignOutAsync(http);
        return TypedResults.NoContent();
    }

    private static JsonObject ParseObject(string json) => JsonNode.Parse(json) as JsonObject ?? [];

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
}
