using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Recommender.Data;
using Recommender.Data.Models;
using Recommender.Serving;
using Recommender.Training;

namespace Recommender.Service;

/// <summary>Admins and auditors: the audit log, models, people and roles, platform API keys.</summary>
public static class AdminApi
{
    /// <summary>
    /// A model version; <see cref="Loss"/> is what it minimised ("squared-error" on ratings or "one-class" on activity),
    /// <see cref="LossDescription"/> the same in plain words, <see cref="Decision"/> what its quality gate decided and why
    /// (null for a run that failed before the gate, or one trained before this was recorded).
    /// </summary>
    public sealed record ModelDto(int Version, string Algorithm, string Status, bool IsActive, DateTime CreatedAt, DateTime? ActivatedAt, JsonNode? Options, JsonNode? Metrics,
        string Loss, bool WeightedLambda, string LossDescription, string? Decision);

    public sealed record RoleInput(string? Role);

    public sealed record ApiKeyInput(string? Name, List<string>? Scopes);

    public sealed record CreatedApiKey(ApiKeyInfo Info, string Key);

    public sealed record RevokeKeyInput(string? Reason);

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/admin").WithTags("Admin").RequireAuthorization(ApiServiceExtensions.AdminPolicy).AddEndpointFilter<IsoTimeQuery>();
        admin.MapGet("/served", QueryServed)
            .WithName("QueryServedLists")
            .WithSummary("Search the audit log of served lists")
            .WithDescription("Newest first, filtered by person (userId, ours; or externalUserId, a platform's), objective and time; " + ServedPage.Description);
        admin.MapGet("/served/{requestId:guid}", async Task<Results<Ok<AuditRow>, NotFound>> (Guid requestId, AuditQueries audit, ServingState serving, CancellationToken ct) =>
            await audit.RecordAsync(requestId, ct) is { } r ? TypedResults.Ok(AuditRow.From(r, serving.ExternalIdOf)) : TypedResults.NotFound())
            .WithName("GetServedList")
            .WithSummary("One served list from the audit log")
            .WithDescription("By the requestId its feed answered with: who was shown which items, under which objective and model, with scores and reasons.");
        admin.MapGet("/models", async (ModelAdministration models, CancellationToken ct) =>
            TypedResults.Ok((await models.ListAsync(ct)).Select(m => new ModelDto(m.Version, m.Algorithm, m.Status, m.IsActive, m.CreatedAt, m.ActivatedAt,
                JsonNode.Parse(m.Options), JsonNode.Parse(m.Metrics), m.Loss, m.WeightedLambda, m.TrainedWith.Describe(), m.Decision)).ToList()))
            .WithName("ListModels")
            .WithSummary("List model versions")
            .WithDescription("Every trained model with its status, whether it is active, the options it was trained with and its holdout metrics.");
        admin.MapGet("/rerankers", async (ModelAdministration models, CancellationToken ct) => TypedResults.Ok(await models.RerankersAsync(ct)))
            .WithName("ListRerankers")
            .WithSummary("List re-ranker runs")
            .WithDescription("Every learned re-ranker run, newest first: the MF model it refines, its status (ready, rejected by the gate, failed, training), whether it is active, and what its gate measured (NDCG@10 on the latest lists, re-ranker against MF alone, with the standard error).");
        admin.MapPost("/models/train", TrainNow)
            .WithName("TrainModel")
            .WithSummary("Train a model now")
            .WithDescription("Answers when the run has finished, with its report; the new model is activated only if it passes its gate. 409 when another process is training.");
        admin.MapPost("/models/{version:int}/activate", Activate)
            .WithName("ActivateModel")
            .WithSummary("Activate (or roll back to) a model version")
            .WithDescription("Only a trained model that passed its gate; this process swaps at once, the others within the model poll interval.");
        admin.MapGet("/metrics", Metrics)
            .WithName("GetObjectiveReport")
            .WithSummary("Per-objective quality over a time window")
            .WithDescription("Measured from the audit log and the events that followed (default the last 7 days, top k = 10). Not the Prometheus scrape, which is /metrics.");
        admin.MapGet("/process", (RecommenderMetrics metrics) => TypedResults.Ok(metrics.Snapshot()))
            .WithName("GetProcessFigures")
            .WithSummary("What this process has done since it started")
            .WithDescription("Feeds served per objective, events ingested per kind, the audit backlog and training runs: the same figures /metrics reports, for the one process that answers.");
        admin.MapPost("/counterfactual", Counterfactual)
            .WithName("RunCounterfactual")
            .WithSummary("Rank a person's feed again with one thing changed")
            .WithDescription("Changes exactly one attribute, or moves their history from one topic to another, and compares the two lists; nothing is served or stored.");
        // A post: each export spends privacy budget for good, so it is not a safe, repeatable read.
        admin.MapPost("/export", Export)
            .WithName("CreateResearchExport")
            .WithSummary("A differentially private research export")
            .WithDescription("Noisy counts over a time window (default the last 30 days) at privacy cost epsilon, taken from the privacy budget; the counts are all it holds. 409 once the budget is used up.");
        admin.MapGet("/export/budget", async (ResearchExport export, CancellationToken ct) => TypedResults.Ok(await export.BudgetAsync(ct)))
            .WithName("GetExportBudget")
            .WithSummary("The privacy budget left for research exports");
        admin.MapGet("/users", ListPeople)
            .WithName("ListPeople")
            .WithSummary("List people: those with a login, then the platforms' users")
            .WithDescription("Optionally only one role; " + PeoplePage.Description);
        admin.MapPut("/users/{id:long}/role", SetRole)
            .WithName("SetRole")
            .WithSummary("Make someone an admin, or a user again")
            .WithDescription("Not one's own role, and not the last admin's.");
        admin.MapGet("/api-keys", async (ApiKeyStore keys, CancellationToken ct) => TypedResults.Ok(await keys.ListAsync(ct)))
            .WithName("ListApiKeys")
            .WithSummary("List platform API keys")
            .WithDescription("Name, the key's first characters, scopes, and when each was created or revoked; never the keys themselves.");
        admin.MapPost("/api-keys", CreateKey)
            .WithName("CreateApiKey")
            .WithSummary("Create a platform API key")
            .WithDescription("With one or more scopes (catalog, events, feeds). The key is in this answer only; it is stored hashed.");
        admin.MapDelete("/api-keys/{id:long}", async Task<Results<NoContent, NotFound>> (long id, ApiKeyStore keys, CancellationToken ct) =>
            await keys.RevokeAsync(id, ct) ? TypedResults.NoContent() : TypedResults.NotFound())
            .WithName("RevokeApiKey")
            .WithSummary("Revoke a platform API key")
            .WithDescription("Calls with it are refused from now on.");
        admin.MapGet("/publisher-keys", async (PublisherKeyAdministration keys, CancellationToken ct) => TypedResults.Ok(await keys.ListAsync(ct)))
            .WithName("ListPublisherKeys")
            .WithSummary("List publishers' signing keys")
            .WithDescription("Each publisher's keys, with how many items each verified and whether, when, by whom and why it was revoked (docs/provenance.md).");
        admin.MapPost("/publisher-keys/{keyId}/revoke", RevokePublisherKey)
            .WithName("RevokePublisherKey")
            .WithSummary("Revoke a publisher's signing key")
            .WithDescription("The items it verified show as no longer verified, with the reason given here.");
        return app;
    }

    private static readonly PageRange ServedPage = new(DefaultLimit: 50, MaxLimit: 500, Before: true);

    private static readonly PageRange PeoplePage = new(DefaultLimit: 50, MaxLimit: 500, Offset: true);

    /// <summary>
    /// A person as the admin list shows them: <c>login</c> is what they sign in with, null for a platform's user, who
    /// is named by <c>platformId</c>, the platform's own id for them (null for people with a login).
    /// </summary>
    public sealed record PersonDto(long Id, string? Login, string? PlatformId, string DisplayName, string Role)
    {
        public static PersonDto From(Account a) => new(a.Id, a.PlatformId is null ? a.Login : null, a.PlatformId, a.DisplayName, a.Role);
    }

    private static async Task<Results<Ok<List<PersonDto>>, ValidationProblem>> ListPeople(AccountAdministration accounts, CancellationToken ct,
        string? role = null, int? offset = null, int? limit = null)
    {
        var errors = new Dictionary<string, string[]>();
        // An unknown role would match nobody and look like an empty list.
        if (role is not null && !AccountAdministration.IsRole(role))
            errors["role"] = [AccountAdministration.RoleRule];
        if (!PeoplePage.Check(errors, limit ?? PeoplePage.DefaultLimit, offset ?? 0) || errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        return TypedResults.Ok((await accounts.ListAsync(role, offset ?? 0, limit ?? PeoplePage.DefaultLimit, ct)).Select(PersonDto.From).ToList());
    }

    private static async Task<Results<Ok<List<AuditRow>>, ValidationProblem>> QueryServed(AuditQueries audit, AuditFilterCheck filter, ServingState serving,
        AccountStore accounts, CancellationToken ct, long? userId = null, string? externalUserId = null, string? objectiveId = null, DateTimeOffset? from = null,
        DateTimeOffset? to = null, int? limit = null, long? before = null)
    {
        var errors = new Dictionary<string, string[]>();
        ServedPage.Check(errors, limit ?? ServedPage.DefaultLimit, before: before);
        // A platform's user is named by the platform's id; userId is ours (the one GET /api/admin/users lists).
        var checkedFilter = await filter.CheckAsync(new AuditFilterInput(objectiveId, from, to, externalUserId, PersonNamed: userId is not null), ServedFilterFields, ct);
        foreach (var (field, problem) in checkedFilter.Problems)
            errors[field] = [problem];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        userId = checkedFilter.PlatformUserId ?? userId;
        // An unknown person would match nothing and look like someone who was never shown anything.
        if (externalUserId is null && userId is { } ours && await accounts.GetAsync(ours, ct) is null)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["userId"] = [$"no person has user id {ours}; GET /api/admin/users lists them"] });
        var rows = await audit.SearchAsync(new ServedListFilter(userId, objectiveId, from, to, limit ?? ServedPage.DefaultLimit, before), ct);
        return TypedResults.Ok(rows.Select(r => AuditRow.From(r, serving.ExternalIdOf)).ToList());
    }

    private static readonly AuditFilterFields ServedFilterFields = new("userId", "externalUserId", "objectiveId", "from", "to", ObjectivesHint: "GET /api/objectives lists them");

    private static async Task<Results<Ok<IReadOnlyList<ObjectiveWindowReport>>, ValidationProblem>> Metrics(ObjectiveReport report, CancellationToken ct,
        DateTimeOffset? from = null, DateTimeOffset? to = null, int k = 10)
    {
        var errors = new Dictionary<string, string[]>();
        if (!InputRanges.CheckInstants(errors, ("from", from), ("to", to)))
            return TypedResults.ValidationProblem(errors);
        var end = to ?? DateTimeOffset.UtcNow;
        var start = from ?? end.AddDays(-7);
        if (start >= end)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["from"] = ["must be before 'to'"] });
        if (k is < 1 or > 100)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["k"] = ["must be between 1 and 100"] });
        return TypedResults.Ok(await report.MeasureAsync(start, end, k, ct));
    }

    /// <param name="UserId">The person to clone; may be left out with <paramref name="Record"/>, whose person it then is.</param>
    /// <param name="Attribute">A stated attribute to change (age, gender, country or language), with <paramref name="Value"/>.</param>
    /// <param name="Value">The attribute's value in the clone.</param>
    /// <param name="FromTopic">With <paramref name="ToTopic"/>, instead of an attribute: the clone's history on this topic is swapped for items on the other.</param>
    /// <param name="ToTopic">The topic the history is moved to.</param>
    /// <param name="K">How many items each list has, 1 to 100.</param>
    /// <param name="Seed">The ranking's seed (default 1); a record replays its own, so it is not given with one.</param>
    /// <param name="Record">
    /// The <c>requestId</c> of a served list (GET /api/admin/served) to start from: both lists are ranked with its goal,
    /// settings and seed rather than the person's now, as the admin page's "counterfactual from this list" does.
    /// </param>
    public sealed record CounterfactualInput(long? UserId, string? Attribute = null, string? Value = null, string? FromTopic = null, string? ToTopic = null, int K = 10,
        int? Seed = null, Guid? Record = null);

    private static async Task<Results<Ok<CounterfactualResult>, NotFound<ProblemDetails>, ValidationProblem>> Counterfactual(CounterfactualInput input,
        CounterfactualAudit audit, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (input.UserId is null && input.Record is null)
            errors["userId"] = ["is required, unless a record names the person"];
        if (input.Record is not null && input.Seed is not null)
            errors["seed"] = ["is the record's own when starting from a record; leave seed out, or leave the record out to choose one"];
        var attribute = !string.IsNullOrWhiteSpace(input.Attribute);
        var topics = !string.IsNullOrWhiteSpace(input.FromTopic) || !string.IsNullOrWhiteSpace(input.ToTopic);
        if (attribute == topics)
            errors["attribute"] = ["change exactly one thing: an attribute (attribute, value) or the topic history (fromTopic, toTopic)"];
        else if (attribute && CounterfactualAudit.AttributeProblem(input.Attribute) is { } attributeProblem)
            errors["attribute"] = [attributeProblem];
        if (topics && (string.IsNullOrWhiteSpace(input.FromTopic) || string.IsNullOrWhiteSpace(input.ToTopic)))
            errors[string.IsNullOrWhiteSpace(input.FromTopic) ? "fromTopic" : "toTopic"] = ["is required with the other topic"];
        else if (topics && !attribute)
        {
            foreach (var (field, topic) in new[] { ("fromTopic", input.FromTopic!), ("toTopic", input.ToTopic!) })
            {
                if (audit.TopicProblem(topic) is { } topicProblem)
                    errors[field] = [topicProblem];
            }
        }
        if (input.K is < 1 or > 100)
            errors["k"] = ["must be between 1 and 100"];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        var change = new CounterfactualChange(input.Attribute, input.Value, input.FromTopic, input.ToTopic);
        CounterfactualResult? result;
        if (input.Record is { } requestId)
        {
            // The same start as the admin page's, refusing the same records.
            var start = await audit.FindRecordStartAsync(requestId, ct);
            switch (start.For(input.UserId ?? start.Record?.UserId ?? 0))
            {
                case RecordStartProblem.NoSuchRecord:
                    return TypedResults.NotFound(new ProblemDetails
                    {
                        Status = StatusCodes.Status404NotFound,
                        Title = "No such served list",
                        Detail = $"No served list has requestId {requestId} (the record); GET /api/admin/served lists them.",
                    });
                case RecordStartProblem.OtherPerson:
                    return TypedResults.ValidationProblem(new Dictionary<string, string[]>
                    {
                        ["userId"] = [$"list {requestId} was served to user {start.Record!.UserId}, not {input.UserId}; leave userId out to start from the record's person"],
                    });
                case RecordStartProblem.GoalGone:
                    return TypedResults.ValidationProblem(new Dictionary<string, string[]>
                    {
                        ["record"] = [$"list {requestId} was ranked for '{start.Record!.ObjectiveId}', a goal this version no longer has, so it cannot be ranked again"],
                    });
            }
            result = await audit.RunFromRecordAsync(start.Record!, change, input.K, ct);
        }
        else
        {
            result = await audit.RunAsync(input.UserId!.Value, change, input.K, input.Seed ?? 1, ct);
        }
        return result is not null ? TypedResults.Ok(result) : TypedResults.NotFound(new ProblemDetails
        {
            Status = StatusCodes.Status404NotFound,
            Title = "No such person",
            Detail = $"No one has user id {input.UserId}; GET /api/admin/users lists people.",
        });
    }

    private static async Task<Results<Ok<ResearchExportResult>, ValidationProblem, Conflict<ProblemDetails>>> Export(ResearchExport export, CancellationToken ct,
        double epsilon = 1, DateTimeOffset? from = null, DateTimeOffset? to = null, int maxCellsPerPerson = 10)
    {
        var errors = new Dictionary<string, string[]>();
        if (ResearchExport.EpsilonProblem(epsilon) is { } epsilonProblem)
            errors["epsilon"] = [epsilonProblem];
        if (maxCellsPerPerson is < 1 or > 1000)
            errors["maxCellsPerPerson"] = ["must be between 1 and 1000"];
        if (!InputRanges.CheckInstants(errors, ("from", from), ("to", to)))
            return TypedResults.ValidationProblem(errors);
        var end = to ?? DateTimeOffset.UtcNow;
        var start = from ?? end.AddDays(-30);
        if (start >= end)
            errors["from"] = ["must be before 'to'"];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        try
        {
            return TypedResults.Ok(await export.CreateAsync(epsilon, start, end, maxCellsPerPerson, ct));
        }
        catch (PrivacyBudgetExhaustedException e)
        {
            return TypedResults.Conflict(new ProblemDetails { Status = StatusCodes.Status409Conflict, Title = "Privacy budget used up", Detail = e.Message });
        }
    }

    private static async Task<Results<Ok<TrainingReport>, Conflict<ProblemDetails>>> TrainNow(TrainingScheduler scheduler, CancellationToken ct) =>
        await scheduler.RunOnceAsync(ct) is { } report ? TypedResults.Ok(report) : TypedResults.Conflict(new ProblemDetails
        {
            Status = StatusCodes.Status409Conflict,
            Title = "No model was trained",
            Detail = "Training is already running elsewhere, or failed; see the models list.",
        });

    private static async Task<Results<Ok, NotFound, Conflict<ProblemDetails>>> Activate(int version, ClaimsPrincipal user, ModelAdministration models, CancellationToken ct) =>
        await models.ActivateAsync(version, new ModelActivator(ModelActivator.Api, user.Identity?.Name), ct) switch
        {
            { Outcome: ActivationOutcome.Activated } => TypedResults.Ok(),
            { Outcome: ActivationOutcome.NotActivatable, Model: { } model } => TypedResults.Conflict(new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "The model cannot be activated",
                Detail = $"Model {version} is '{model.Status}'; only a trained model that passed its gate can be activated.",
            }),
            _ => TypedResults.NotFound(),
        };

    private static async Task<Results<NoContent, NotFound, ValidationProblem, Conflict<ProblemDetails>>> SetRole(
        long id, RoleInput input, ClaimsPrincipal user, AccountAdministration accounts, CancellationToken ct) =>
        await accounts.SetRoleAsync(user.UserId(), id, input.Role, ct) switch
        {
            RoleChangeOutcome.Changed => TypedResults.NoContent(),
            RoleChangeOutcome.NotARole => TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["role"] = [AccountAdministration.RoleRule] }),
            RoleChangeOutcome.OwnAccount => TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["id"] = ["is your own account; ask another admin to change your role"] }),
            RoleChangeOutcome.LastAdmin => TypedResults.Conflict(new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "The last admin keeps the admin role",
                Detail = "Make someone else an admin first.",
            }),
            _ => TypedResults.NotFound(),
        };

    private static async Task<Results<Created<CreatedApiKey>, ValidationProblem>> CreateKey(ApiKeyInput input, ApiKeyStore keys, CancellationToken ct)
    {
        var problems = ApiKeyStore.Problems(input.Name, input.Scopes);
        if (problems.Count > 0)
            return TypedResults.ValidationProblem(problems.ToDictionary(p => p.Key, p => new[] { p.Value }));
        var (info, key) = await keys.CreateAsync(input.Name!.Trim(), input.Scopes!, ct);
        return TypedResults.Created($"/api/admin/api-keys/{info.Id}", new CreatedApiKey(info, key));
    }

    /// <summary>Revokes a publisher's key; the items it verified become invalid, keeping the reason given here.</summary>
    private static async Task<Results<Ok<RevokedKey>, NotFound, ValidationProblem>> RevokePublisherKey(
        string keyId, RevokeKeyInput input, ClaimsPrincipal user, PublisherKeyAdministration keys, CancellationToken ct) =>
        await keys.RevokeAsync(keyId, user.Identity?.Name ?? $"user {user.UserId()}", input.Reason, ct) switch
        {
            { Outcome: KeyRevocationOutcome.Revoked, ItemsNoLongerVerified: var n } => TypedResults.Ok(new RevokedKey(keyId, n)),
            { Outcome: KeyRevocationOutcome.ReasonMissing } => TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["reason"] = [$"is required (it is kept with every item the key signed), at most {PublisherKeyAdministration.MaxReasonLength} characters"],
            }),
            _ => TypedResults.NotFound(),
        };

    public sealed record RevokedKey(string KeyId, long ItemsNoLongerVerified);
}
