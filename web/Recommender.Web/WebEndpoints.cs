using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Recommender.Core;
using Recommender.Core.Objectives;
using Recommender.Data;
using Recommender.Data.Models;
using Recommender.Serving;

namespace Recommender.Web;

/// <summary>
/// The form posts behind the pages. Each validates its antiforgery token (form binding does that), does one thing
/// through the same stores and services as the REST API, and redirects back (post/redirect/get).
/// </summary>
public static class WebEndpoints
{
    public static IEndpointRouteBuilder MapWebEndpoints(this IEndpointRouteBuilder app)
    {
        // Every post carries an antiforgery token, including those that bind no form field (sign out, train now).
        var forms = app.MapGroup("").WithMetadata(new RequireAntiforgeryTokenAttribute()).AddEndpointFilter(RejectForgedPosts);
        forms.MapPost("/sign-in", SignIn).AllowAnonymous().RequireRateLimiting(SignInRateLimit.PolicyName);
        forms.MapPost("/sign-out", (Delegate)SignOut).RequireAuthorization();

        var me = forms.MapGroup("/me").RequireAuthorization();
        me.MapPost("/feedback", Feedback);
        me.MapPost("/goal", ChooseGoal);
        me.MapPost("/settings", SaveSettings);
        me.MapPost("/blend", SaveBlend);

        var admin = forms.MapGroup("/admin/do").RequireAuthorization(WebServiceExtensions.AdminPolicy);
        admin.MapPost("/train", Train);
        admin.MapPost("/activate", Activate);
        admin.MapPost("/role", SetRole);

        // A download, not a form: GET with the admin policy; the export itself is documented in the README.
        app.MapGet("/admin/export.json", Export).RequireAuthorization(WebServiceExtensions.AdminPolicy);
        return app;
    }

    private static async Task<Results<FileContentHttpResult, BadRequest<string>, Conflict<string>>> Export(ResearchExport export, CancellationToken ct, double epsilon = 1, int days = 30)
    {
        if (ResearchExport.EpsilonProblem(epsilon) is { } epsilonProblem)
            return TypedResults.BadRequest($"epsilon {epsilonProblem}");
        if (days is < 1 or > 366)
            return TypedResults.BadRequest("days must be between 1 and 366");
        var now = DateTimeOffset.UtcNow;
        ResearchExportResult result;
        try
        {
            result = await export.CreateAsync(epsilon, now.AddDays(-days), now, ct: ct);
        }
        catch (PrivacyBudgetExhaustedException e)
        {
            return TypedResults.Conflict(e.Message);
        }
        var json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(result, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web));
        return TypedResults.File(json, "application/json", string.Create(CultureInfo.InvariantCulture, $"recommender-export-eps{epsilon}-{now:yyyyMMdd}.json"));
    }

    private static async ValueTask<object?> RejectForgedPosts(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.Features.Get<IAntiforgeryValidationFeature>() is { IsValid: false }
            ? TypedResults.BadRequest("This form has expired; go back, reload the page and try again.")
            : await next(context);

    private static async Task<RedirectHttpResult> SignIn([FromForm] string? login, [FromForm] string? password, [FromForm] string? returnUrl,
        AccountStore accounts, HttpContext http, CancellationToken ct)
    {
        var back = LocalOr(returnUrl, "/");
        var outcome = string.IsNullOrEmpty(login) || string.IsNullOrEmpty(password) ? new SignInOutcome(null, null) : await accounts.SignInAsync(login.Trim(), password, ct);
        if (outcome.LockedFor is { } wait)
            return TypedResults.Redirect(string.Create(CultureInfo.InvariantCulture,
                $"/sign-in?limited={SignInRateLimit.RetryAfterSeconds(wait)}&account=1&returnUrl={Uri.EscapeDataString(back)}"));
        if (outcome.Account is not { } account)
            return TypedResults.Redirect($"/sign-in?failed=1&returnUrl={Uri.EscapeDataString(back)}");
        await PersonSessions.SignInAsync(http, account, ct);
        return TypedResults.Redirect(back);
    }

    private static async Task<RedirectHttpResult> SignOut(HttpContext http, CancellationToken ct)
    {
        await PersonSessions.SignOutAsync(http, ct);
        return TypedResults.Redirect("/sign-in");
    }

    private static async Task<RedirectHttpResult> Feedback([FromForm] long itemId, [FromForm] string? kind, [FromForm] Guid requestId, [FromForm] string? returnUrl,
        ClaimsPrincipal user, EventStore events, CancellationToken ct)
    {
        var back = LocalOr(returnUrl, "/");
        if (FeedbackKinds.Parse(kind) is not { } eventKind)
            return TypedResults.Redirect(WithQuery(back, "error", "That feedback is not one we know."));
        // One key per list, item and button: a double click or a resubmitted form is recorded once.
        var key = string.Create(CultureInfo.InvariantCulture, $"web:{requestId:N}:{itemId}:{kind}");
        var batch = new[] { new NewEvent(user.UserId(), itemId, eventKind, null, DateTimeOffset.UtcNow, key) };
        if ((await events.FindUnknownItemsAsync(batch, ct)).Count > 0)
            return TypedResults.Redirect(WithQuery(back, "error", "That item is no longer in the catalog."));
        await events.AppendAsync(batch, ct);
        return TypedResults.Redirect(WithQuery(back, "noted", itemId.ToString(CultureInfo.InvariantCulture)) + $"#item-{itemId}");
    }

    private static async Task<RedirectHttpResult> ChooseGoal(IFormCollection form,
        ClaimsPrincipal user, ObjectiveRegistry objectives, FeedService feeds, SettingsStore settings, CancellationToken ct)
    {
        var back = LocalOr(form["returnUrl"], "/");
        var objectiveId = form["objectiveId"].ToString();
        var topics = Topics(form);
        if (objectiveId.Length == 0 || !objectives.TryGet(objectiveId, out var target))
            return TypedResults.Redirect(WithQuery(back, "error", "Please choose one of the goals."));
        var (currentId, current) = await feeds.ChosenObjectiveAsync(user.UserId(), ct);
        // Onboarding sends the first topics along with the first goal.
        if (topics.Count > 0)
            current = current.With(CommonParameters.Topics, topics);
        var parameters = GoalSettings.Carry(target, currentId, current);
        if (target.Validate(parameters) is { Count: > 0 } errors)
            return TypedResults.Redirect(WithQuery(back, "error", string.Join(" ", errors.Select(e => $"{e.Field}: {e.Message}"))));
        await settings.SetAsync(user.UserId(), target.Id, parameters.ToCanonicalJson(), ct);
        // The first topics also become initial signals for every goal until the feed has some history to go on.
        if (topics.Count > 0)
            await settings.SetTopicsAsync(user.UserId(), topics, target.Id, ct);
        return TypedResults.Redirect(WithQuery(back, "changed", target.Id));
    }

    private static async Task<RedirectHttpResult> SaveSettings(IFormCollection form,
        ClaimsPrincipal user, ObjectiveRegistry objectives, FeedService feeds, SettingsStore settings, CancellationToken ct)
    {
        var (currentId, current) = await feeds.ChosenObjectiveAsync(user.UserId(), ct);
        var objective = objectives[currentId];
        var parameters = current;
        var credibilityFloor = form["credibilityFloor"].ToString();
        if (objective.Schema.TryGet(CommonParameters.Topics, out _))
            parameters = parameters.With(CommonParameters.Topics, Topics(form));
        if (objective.Schema.TryGet(CommonParameters.CredibilityFloor, out _) && !string.IsNullOrWhiteSpace(credibilityFloor))
        {
            if (!GoalSettings.TryNumber(credibilityFloor, out var floor))
                return TypedResults.Redirect(WithQuery("/settings", "error", "The credibility floor must be a number between 0 and 1."));
            parameters = parameters.With(CommonParameters.CredibilityFloor, floor);
        }
        if (objective.Validate(parameters) is { Count: > 0 } errors)
            return TypedResults.Redirect(WithQuery("/settings", "error", string.Join(" ", errors.Select(e => $"{e.Field}: {e.Message}"))));
        await settings.SetAsync(user.UserId(), objective.Id, parameters.ToCanonicalJson(), ct);
        return TypedResults.Redirect("/settings?saved=1");
    }

    private static async Task<RedirectHttpResult> SaveBlend(IFormCollection form, ClaimsPrincipal user, ObjectiveRegistry objectives, FeedService feeds,
        SettingsStore settings, CancellationToken ct)
    {
        var blend = objectives[BlendObjective.ObjectiveId];
        var (currentId, current) = await feeds.ChosenObjectiveAsync(user.UserId(), ct);
        var parameters = GoalSettings.Carry(blend, currentId, current);
        foreach (var spec in blend.Schema.Parameters.Where(p => p.Type == ParameterType.Number && p.Name.EndsWith("_weight", StringComparison.Ordinal)))
        {
            var text = form[spec.Name].ToString();
            if (string.IsNullOrWhiteSpace(text))
                continue;
            if (!GoalSettings.TryNumber(text, out var weight))
                return TypedResults.Redirect(WithQuery("/settings", "error", $"{spec.Name}: must be a number.") + "#blend");
            parameters = parameters.With(spec.Name, weight);
        }
        if (blend.Validate(parameters) is { Count: > 0 } errors)
            return TypedResults.Redirect(WithQuery("/settings", "error", string.Join(" ", errors.Select(e => $"{e.Field}: {e.Message}"))) + "#blend");
        await settings.SetAsync(user.UserId(), blend.Id, parameters.ToCanonicalJson(), ct);
        return TypedResults.Redirect("/settings?saved=1#blend");
    }

    private static async Task<RedirectHttpResult> Train(TrainingScheduler scheduler, ServingState state, CancellationToken ct)
    {
        var report = await scheduler.RunOnceAsync(ct);
        if (report is null)
            return TypedResults.Redirect(WithQuery("/admin/models", "error", "Training is already running elsewhere, or it failed; see the log."));
        if (report.Activated)
            await state.ReloadAsync(ct: ct);
        return TypedResults.Redirect(WithQuery("/admin/models", "message", $"Version {report.Version}: {report.Decision}"));
    }

    private static async Task<RedirectHttpResult> Activate([FromForm] int version, ModelStore models, ServingState state, CancellationToken ct)
    {
        if (!await models.ActivateAsync(version, ct))
            return TypedResults.Redirect(WithQuery("/admin/models", "error", $"Version {version} cannot be activated: only a trained model that passed its gate can."));
        // This process swaps now; other processes follow the notification.
        await state.ReloadAsync(ct: ct);
        return TypedResults.Redirect(WithQuery("/admin/models", "message", $"Version {version} is now serving."));
    }

    private static async Task<RedirectHttpResult> SetRole([FromForm] long userId, [FromForm] string? role, ClaimsPrincipal user, AccountStore accounts, CancellationToken ct)
    {
        if (role is not ("user" or "admin"))
            return TypedResults.Redirect(WithQuery("/admin/users", "error", "A role is 'user' or 'admin'."));
        if (userId == user.UserId())
            return TypedResults.Redirect(WithQuery("/admin/users", "error", "You cannot change your own role; ask another admin."));
        return await accounts.SetRoleAsync(userId, role, ct) switch
        {
            RoleChange.Changed => TypedResults.Redirect(WithQuery("/admin/users", "message", $"User {userId} is now {role}.")),
            RoleChange.LastAdmin => TypedResults.Redirect(WithQuery("/admin/users", "error", $"User {userId} is the only admin; make someone else an admin first.")),
            _ => TypedResults.Redirect(WithQuery("/admin/users", "error", $"No user {userId}.")),
        };
    }

    private static List<string> Topics(IFormCollection form) =>
        [.. form["topics"].OfType<string>().Where(t => !string.IsNullOrWhiteSpace(t)).Distinct(StringComparer.Ordinal)];

    /// <summary>
    /// Only paths on this site; anything else (another host, a scheme) falls back, so a form cannot redirect elsewhere.
    /// The address goes into a Location header, which holds printable ASCII only (the pages' own addresses are
    /// percent-encoded), so anything else falls back too rather than failing the response.
    /// </summary>
    public static string LocalOr(string? url, string fallback) =>
        url is { Length: > 0 and <= 2000 } && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\')) && url.All(c => c is > ' ' and < (char)0x7F)
            ? url
            : fallback;

    private static string WithQuery(string url, string name, string value)
    {
        var hash = url.IndexOf('#', StringComparison.Ordinal);
        var path = hash >= 0 ? url[..hash] : url;
        // Replace an earlier flag of the same name, so repeated clicks do not pile up query strings.
        var parts = path.Split('?', 2);
        var query = parts.Length == 2
            ? parts[1].Split('&').Where(p => p.Length > 0 && !p.StartsWith(name + "=", StringComparison.Ordinal) && !p.StartsWith("noted=", StringComparison.Ordinal)
                && !p.StartsWith("changed=", StringComparison.Ordinal) && !p.StartsWith("error=", StringComparison.Ordinal)).ToList()
            : [];
        query.Add($"{name}={Uri.EscapeDataString(value)}");
        return $"{parts[0]}?{string.Join('&', query)}";
    }
}

/// <summary>The feedback buttons under every card and the event each records.</summary>
public static class FeedbackKinds
{
    public static IReadOnlyList<(string Kind, string Label)> Buttons { get; } =
    [
        ("like", "Glad I saw this"),
        ("learned", "Learned something"),
        ("too_easy", "Too easy"),
        ("too_hard", "Too hard"),
        ("not_interested", "Not interested"),
    ];

    public static EventKind? Parse(string? kind) => kind switch
    {
        "like" => EventKind.Like,
        "learned" => EventKind.Learned,
        "too_easy" => EventKind.TooEasy,
        "too_hard" => EventKind.TooHard,
        "not_interested" => EventKind.NotInterested,
        _ => null,
    };
}
