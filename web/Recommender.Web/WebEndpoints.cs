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
/// through the same services as the REST API, and redirects back (post/redirect/get).
/// </summary>
public static class WebEndpoints
{
    public static IEndpointRouteBuilder MapWebEndpoints(this IEndpointRouteBuilder app)
    {
        // Every post carries an antiforgery token, including those that bind no form field (sign out, train now).
        var forms = app.MapGroup("").WithMetadata(new RequireAntiforgeryTokenAttribute()).AddEndpointFilter(RejectForgedPosts);
        forms.MapPost("/sign-in", SignIn).AllowAnonymous().RequireRateLimiting(SignInRateLimit.PolicyName)
            .WithName("WebSignIn").WithSummary("Sign in from the sign-in form");
        forms.MapPost("/sign-out", (Delegate)SignOut).RequireAuthorization()
            .WithName("WebSignOut").WithSummary("Sign out, ending the session in the database too");

        var me = forms.MapGroup("/me").RequireAuthorization();
        me.MapPost("/feedback", Feedback)
            .WithName("WebFeedback").WithSummary("Record a feedback button on a feed card");
        me.MapPost("/feedback/undo", UndoFeedback)
            .WithName("WebUndoFeedback").WithSummary("Take back one's own feedback click");
        me.MapPost("/goal", ChooseGoal)
            .WithName("WebChooseGoal").WithSummary("Choose the goal one's feed follows (and, at onboarding, first topics)");
        me.MapPost("/settings", SaveSettings)
            .WithName("WebSaveSettings").WithSummary("Save the current goal's topics and credibility floor");
        me.MapPost("/blend", SaveBlend)
            .WithName("WebSaveBlend").WithSummary("Save the weights of the blended goal");

        var admin = forms.MapGroup("/admin/do").RequireAuthorization(WebServiceExtensions.AdminPolicy);
        admin.MapPost("/train", Train)
            .WithName("WebTrainModel").WithSummary("Train a model now and report on the models page");
        admin.MapPost("/activate", Activate)
            .WithName("WebActivateModel").WithSummary("Activate or roll back to a model version, once confirmed");
        admin.MapPost("/role", SetRole)
            .WithName("WebSetRole").WithSummary("Change someone's role, once confirmed");
        admin.MapPost("/revoke-key", RevokeKey)
            .WithName("WebRevokePublisherKey").WithSummary("Revoke a publisher's signing key, once confirmed, with a reason");
        admin.MapPost("/create-api-key", CreateApiKey)
            .WithName("WebCreateApiKey").WithSummary("Create a platform API key, shown once on the API keys page");
        admin.MapPost("/revoke-api-key", RevokeApiKey)
            .WithName("WebRevokeApiKey").WithSummary("Revoke a platform API key, once confirmed");
        // A post, not a link: every export spends privacy budget for good, so a page on another site must not be able to.
        admin.MapPost("/export", Export)
            .WithName("WebResearchExport").WithSummary("Download a differentially private research export, once confirmed")
            .WithDescription("epsilon (0.01 to 10) over the last days (1 to 366), taken from the privacy budget; the report page has the form.");

        return app;
    }

    /// <summary>
    /// Spending ε asks once, like the other changes: without the confirmation step's answer the post goes to that step,
    /// and a refused export goes back to the report page, which words the problem from a code and the database.
    /// </summary>
    private static async Task<Results<FileContentHttpResult, RedirectHttpResult>> Export([FromForm] string? epsilon, [FromForm] string? days, [FromForm] string? confirmed,
        ResearchExport export, CancellationToken ct)
    {
        if (QueryValues.ReadOrNull<int>(days) is not { } window || window is < 1 or > Components.Pages.Admin.ObjectiveReportPage.MaxDays)
            return TypedResults.Redirect("/admin/report?problem=days#export");
        var back = string.Create(CultureInfo.InvariantCulture, $"/admin/report?days={window}");
        if (QueryValues.ReadOrNull<double>(epsilon) is not { } spend || ResearchExport.EpsilonProblem(spend) is not null)
            return TypedResults.Redirect(back + "&problem=epsilon#export");
        if (confirmed != "yes")
            return TypedResults.Redirect(string.Create(CultureInfo.InvariantCulture, $"{back}&spend={spend:R}#export"));
        var now = DateTimeOffset.UtcNow;
        ResearchExportResult result;
        try
        {
            result = await export.CreateAsync(spend, now.AddDays(-window), now, ct: ct);
        }
        catch (PrivacyBudgetExhaustedException)
        {
            return TypedResults.Redirect(string.Create(CultureInfo.InvariantCulture, $"{back}&spend={spend:R}#export"));
        }
        var json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(result, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web));
        return TypedResults.File(json, "application/json", string.Create(CultureInfo.InvariantCulture, $"recommender-export-eps{result.Epsilon}-{now:yyyyMMdd}.json"));
    }

    private static async ValueTask<object?> RejectForgedPosts(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.Features.Get<IAntiforgeryValidationFeature>() is { IsValid: false }
            ? TypedResults.BadRequest("This form has expired; go back, reload the page and try again.")
            : await next(context);

    private static async Task<Results<RedirectHttpResult, ContentHttpResult>> SignIn([FromForm] string? login, [FromForm] string? password, [FromForm] string? returnUrl,
        AccountStore accounts, FlashMessages flash, HttpContext http, CancellationToken ct)
    {
        var back = LocalOr(returnUrl, "/");
        var outcome = string.IsNullOrEmpty(login) || string.IsNullOrEmpty(password) ? new SignInOutcome(null, null)
            : await accounts.SignInAsync(login.Trim(), password, SignInRateLimit.Client(http), ct);
        if (outcome.LockedFor is { } wait)
            return SignInRefused(http, wait, "account=1", login, back, flash);
        if (outcome.Account is not { } account)
            return TypedResults.Redirect(SignInAgain("failed=1", login, back, flash));
        await PersonSessions.SignInAsync(http, account, ct);
        // An admin signing in from the front door lands on the admin overview, not on the reader's onboarding.
        return TypedResults.Redirect(back == "/" && account.Role == "admin" ? "/admin" : back);
    }

    /// <summary>
    /// A refused sign-in (too many attempts from this address, or too many failures for this account from it; the
    /// password was not checked): 429 with Retry-After, as the REST service answers, and a page that takes the browser
    /// straight on to the sign-in form saying why and for how long, by a GET, so a reload does not post the password
    /// again. <paramref name="which"/> is <c>account=1</c> for the account's wait, empty for the address's.
    /// </summary>
    internal static ContentHttpResult SignInRefused(HttpContext http, TimeSpan wait, string which, string? login, string back, FlashMessages flash)
    {
        var seconds = SignInRateLimit.RetryAfterSeconds(wait);
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var form = System.Text.Encodings.Web.HtmlEncoder.Default.Encode(SignInAgain(
            string.Create(CultureInfo.InvariantCulture, $"limited={seconds}{(which.Length > 0 ? "&" + which : "")}"), login, back, flash));
        return TypedResults.Content($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1.0">
            <meta http-equiv="refresh" content="0;url={form}">
            <title>Too many sign-in attempts · Recommender</title><link rel="stylesheet" href="/app.css"></head>
            <body><main><h1>Too many sign-in attempts</h1>
            <p>Your password was not checked. Try again in {SignInRateLimit.Describe(wait)}.</p>
            <p><a href="{form}">Back to sign in</a></p></main></body></html>
            """, "text/html; charset=utf-8", statusCode: StatusCodes.Status429TooManyRequests);
    }

    private static async Task<RedirectHttpResult> SignOut(HttpContext http, CancellationToken ct)
    {
        await PersonSessions.SignOutAsync(http, ct);
        return TypedResults.Redirect("/sign-in?signedout=1");
    }

    /// <summary>
    /// The sign-in form again, saying why (<paramref name="query"/>), with the login as typed so only the password is
    /// typed again. The login travels sealed (<see cref="FlashMessages"/>): a link cannot fill in somebody else's. One
    /// longer than any login can be is not kept: it would only make the redirect's address huge.
    /// </summary>
    internal static string SignInAgain(string query, string? login, string back, FlashMessages flash) =>
        $"/sign-in?{query}{(string.IsNullOrEmpty(login) || login.Length > AccountStore.MaxLoginLength ? "" : "&login=" + Uri.EscapeDataString(flash.Seal(login)))}&returnUrl={Uri.EscapeDataString(back)}";

    /// <summary>
    /// Records a feedback button and returns to the feed where the reader was: the acknowledgement (with Undo) is shown
    /// after the card that was above the one rated (<paramref name="after"/>), and the address scrolls to it.
    /// </summary>
    private static async Task<RedirectHttpResult> Feedback([FromForm] long itemId, [FromForm] string? kind, [FromForm] Guid requestId, [FromForm] string? returnUrl,
        [FromForm] long? after, ClaimsPrincipal user, EventStore events, RecommenderMetrics metrics, FlashMessages flash, CancellationToken ct)
    {
        var back = LocalOr(returnUrl, "/");
        if (FeedbackKinds.Parse(kind) is not { } eventKind)
            return TypedResults.Redirect(WithProblem(back, flash, "That feedback is not one we know."));
        var batch = new[] { new NewEvent(user.UserId(), itemId, eventKind, null, DateTimeOffset.UtcNow, FeedbackKinds.Key(requestId, itemId, kind!)) };
        if ((await events.FindUnknownItemsAsync(batch, ct)).Count > 0)
            return TypedResults.Redirect(WithProblem(back, flash, "That item is no longer in the catalog."));
        metrics.EventsStored(batch, await events.AppendAsync(batch, ct));
        // The opposite button on the same card is a change of mind, not a second opinion: it is taken back the way
        // Undo takes a click back, so the learner's skill is replayed without it.
        if (FeedbackKinds.Opposite(kind) is { } opposite)
            await events.RetractAsync(user.UserId(), FeedbackKinds.Key(requestId, itemId, opposite), ct);
        return TypedResults.Redirect(AtAck(WithQuery(back, [("noted", itemId.ToString(CultureInfo.InvariantCulture)), ("kind", kind!), ("list", requestId.ToString("N")),
            .. After(after)])));
    }

    private static async Task<RedirectHttpResult> UndoFeedback([FromForm] long itemId, [FromForm] string? kind, [FromForm] Guid requestId, [FromForm] string? returnUrl,
        [FromForm] long? after, ClaimsPrincipal user, EventStore events, FlashMessages flash, CancellationToken ct)
    {
        var back = LocalOr(returnUrl, "/");
        if (FeedbackKinds.Parse(kind) is null)
            return TypedResults.Redirect(WithProblem(back, flash, "That feedback is not one we know."));
        // Only the person's own click on this list can be taken back: the key names list, item and button.
        var undone = await events.RetractAsync(user.UserId(), FeedbackKinds.Key(requestId, itemId, kind!), ct);
        // Nothing to undo (an Undo from a page gone stale) says so where the click was, on the same list.
        (string, string)[] flags = [("undone", itemId.ToString(CultureInfo.InvariantCulture)), ("kind", kind!), ("list", requestId.ToString("N")), .. After(after)];
        return TypedResults.Redirect(AtAck(WithQuery(back, undone ? flags : [.. flags, ("error", flash.Seal("There was nothing to undo."))])));
    }

    private static (string Name, string Value)[] After(long? itemId) =>
        itemId is { } id ? [("after", id.ToString(CultureInfo.InvariantCulture))] : [];

    /// <summary>The feed scrolled to the acknowledgement, which stands where the rated card was.</summary>
    private static string AtAck(string url) => url + "#ack";

    private static async Task<RedirectHttpResult> ChooseGoal(IFormCollection form, ClaimsPrincipal user, SettingsService settings, FlashMessages flash, CancellationToken ct)
    {
        var back = LocalOr(form["returnUrl"], "/");
        // Onboarding sends the first topics along with the first goal: they also become initial signals for every goal
        // until the feed has some history to go on.
        var topics = Topics(form);
        var change = await settings.SwitchAsync(user.UserId(), form["objectiveId"].ToString(), topics, ct);
        if (change.Saved is { } saved)
            return TypedResults.Redirect(WithQuery(back, "changed", saved.ObjectiveId));
        // A form that shows each problem beside its field names its page (the welcome page, the goal cards on My goals);
        // the feed's goal switch, whose buttons a reader cannot get wrong, says what happened above the feed.
        if (form["from"].ToString() is ("/welcome" or "/settings") and var from)
        {
            (string, IEnumerable<string>)[] typed = topics.Count > 0 ? [("objectiveId", form["objectiveId"].OfType<string>()), ("topics", topics)] : [("objectiveId", form["objectiveId"].OfType<string>())];
            return TypedResults.Redirect(WithQuery(from, "refused", FormRefusal.Of(change.Errors, typed).Seal(flash)));
        }
        return TypedResults.Redirect(WithProblem(back, flash, Problem(change)));
    }

    private static async Task<RedirectHttpResult> SaveSettings(IFormCollection form,
        ClaimsPrincipal user, SettingsService settings, FlashMessages flash, CancellationToken ct)
    {
        var credibilityFloor = form["credibilityFloor"].ToString();
        var change = await settings.ChangeAsync(user.UserId(), null, (objective, parameters) =>
        {
            if (objective.Schema.TryGet(CommonParameters.Topics, out _))
                parameters = parameters.With(CommonParameters.Topics, Topics(form));
            if (objective.Schema.TryGet(CommonParameters.CredibilityFloor, out _) && !string.IsNullOrWhiteSpace(credibilityFloor))
            {
                if (!GoalSettings.TryNumber(credibilityFloor, out var floor))
                    return (parameters, new ParameterError(CommonParameters.CredibilityFloor, $"'{CommonParameters.CredibilityFloor}' must be a number from 0 to 1."));
                parameters = parameters.With(CommonParameters.CredibilityFloor, floor);
            }
            return (parameters, null);
        }, ct);
        // A refused save goes back with what was sent, sealed, so the page marks each field and keeps the reader's choices.
        return TypedResults.Redirect(change.Succeeded ? "/settings?saved=1"
            : WithQuery("/settings", "refused", FormRefusal.Of(change.Errors, ("topics", Topics(form)), ("credibilityFloor", [credibilityFloor])).Seal(flash)));
    }

    private static async Task<RedirectHttpResult> SaveBlend(IFormCollection form, ClaimsPrincipal user, SettingsService settings, ObjectiveRegistry objectives, FlashMessages flash, CancellationToken ct)
    {
        var change = await settings.ChangeAsync(user.UserId(), BlendObjective.ObjectiveId, (blend, parameters) =>
        {
            foreach (var spec in blend.Schema.Weights)
            {
                var text = form[spec.Name].ToString();
                if (string.IsNullOrWhiteSpace(text))
                    continue;
                if (!GoalSettings.TryNumber(text, out var weight))
                    return (parameters, new ParameterError(spec.Name, "must be a number."));
                parameters = parameters.With(spec.Name, weight);
            }
            return (parameters, null);
        }, ct);
        // A refused mix goes back with what was typed, sealed, so the page opens the mix and words each problem beside its box.
        return TypedResults.Redirect(change.Succeeded ? "/settings?saved=1#blend"
            : "/settings?mix=" + Uri.EscapeDataString(flash.Seal(GoalSettings.TypedWeights(objectives[BlendObjective.ObjectiveId], form))) + "#blend");
    }

    /// <summary>A refused goal switch as one message (the feed's switch has no fields to mark): each problem as the summary words it.</summary>
    private static string Problem(SettingsChange change) =>
        string.Join(" ", ReaderForm.Settings.Problems(change.Errors).All.Select(p => p.Summary));

    // The admin pages say what happened from a fixed set of codes and the database, so no words travel in the address;
    // what was done is sealed (FlashMessages.SealOutcome), so a link cannot claim a change that did not happen.
    private static async Task<RedirectHttpResult> Train(TrainingScheduler scheduler, ServingState state, FlashMessages flash, CancellationToken ct)
    {
        var report = await scheduler.RunOnceAsync(ct);
        if (report is null)
            return TypedResults.Redirect("/admin/models?problem=busy");
        if (report.Activated)
            await state.ReloadAsync(ct: ct);
        return TypedResults.Redirect(Done("/admin/models", flash, "trained", report.Version.ToString(CultureInfo.InvariantCulture)));
    }

    private static string Done(string page, FlashMessages flash, string code, string subject, string rest = "") =>
        $"{page}?done={Uri.EscapeDataString(flash.SealOutcome(code, subject))}{rest}";

    /// <summary>Activating (or rolling back to) a model changes every reader's feed, so a post without the confirmation step's answer goes to that step.</summary>
    private static async Task<RedirectHttpResult> Activate([FromForm] int version, [FromForm] string? confirmed, ClaimsPrincipal user, ModelAdministration models, FlashMessages flash, CancellationToken ct)
    {
        if (confirmed != "yes")
            return TypedResults.Redirect(string.Create(CultureInfo.InvariantCulture, $"/admin/models?confirm={version}"));
        return (await models.ActivateAsync(version, new ModelActivator(ModelActivator.Page, user.Identity?.Name), ct)).Outcome == ActivationOutcome.Activated
            ? TypedResults.Redirect(Done("/admin/models", flash, "activated", version.ToString(CultureInfo.InvariantCulture)))
            : TypedResults.Redirect(string.Create(CultureInfo.InvariantCulture, $"/admin/models?problem=not-activatable&version={version}"));
    }

    /// <summary>A role change asks once too: without the confirmation step's answer the post goes to that step.</summary>
    private static async Task<RedirectHttpResult> RevokeKey([FromForm] string? keyId, [FromForm] string? reason, [FromForm] string? confirmed,
        ClaimsPrincipal user, PublisherKeyAdministration keys, FlashMessages flash, CancellationToken ct)
    {
        // A key id is a 16-digit fingerprint: anything far longer names no key, and is not echoed into the address (a
        // 300 KB id made a redirect whose headers no client would read).
        if (string.IsNullOrWhiteSpace(keyId) || keyId.Length > 64)
            return TypedResults.Redirect("/admin/keys?problem=no-key");
        var key = Uri.EscapeDataString(keyId);
        if (confirmed != "yes")
            return TypedResults.Redirect($"/admin/keys?confirm={key}");
        return await keys.RevokeAsync(keyId, user.Identity?.Name ?? "an admin", reason, ct) switch
        {
            { Outcome: KeyRevocationOutcome.Revoked, ItemsNoLongerVerified: var items } =>
                TypedResults.Redirect(Done("/admin/keys", flash, "revoked", string.Create(CultureInfo.InvariantCulture, $"{items}:{keyId}"))),
            { Outcome: KeyRevocationOutcome.ReasonMissing } => TypedResults.Redirect($"/admin/keys?confirm={key}&problem=reason"),
            _ => TypedResults.Redirect("/admin/keys?problem=no-key"),
        };
    }

    /// <summary>
    /// Creates a key with the same rules as the admin API and the CLI. The key itself goes to the page through
    /// <see cref="NewApiKeys"/>, never through the address; a refusal goes back with the name as typed, sealed, and a code per field.
    /// </summary>
    private static async Task<RedirectHttpResult> CreateApiKey(IFormCollection form, ClaimsPrincipal user, ApiKeyStore keys, NewApiKeys held, FlashMessages flash, CancellationToken ct)
    {
        var name = form["name"].ToString();
        string[] scopes = [.. form["scope"].OfType<string>()];
        var problems = ApiKeyStore.Problems(name, scopes);
        if (problems.Count > 0)
        {
            var typed = string.IsNullOrEmpty(name) || name.Length > ApiKeyStore.MaxNameLength ? "" : "&name=" + Uri.EscapeDataString(flash.Seal(name));
            // The scopes ticked come back ticked; the page ticks only its own, so an address cannot add one.
            var ticked = string.Concat(scopes.Where(ApiKeyStore.Scopes.Contains).Distinct().Select(s => "&scope=" + Uri.EscapeDataString(s)));
            // No #create: the error summary at the top takes focus and links to each field.
            return TypedResults.Redirect($"/admin/api-keys?problem={string.Join(',', problems.Keys)}{typed}{ticked}");
        }
        var (info, key) = await keys.CreateAsync(name.Trim(), scopes, ct);
        var handle = held.Hold(user.UserId(), info.Id, key);
        return TypedResults.Redirect(Done("/admin/api-keys", flash, "created", string.Create(CultureInfo.InvariantCulture, $"{info.Id}:{handle}")));
    }

    /// <summary>A revoked key stops working at once everywhere, so without the confirmation step's answer the post goes to that step.</summary>
    private static async Task<RedirectHttpResult> RevokeApiKey([FromForm] string? id, [FromForm] string? confirmed, ApiKeyStore keys, FlashMessages flash, CancellationToken ct)
    {
        if (QueryValues.ReadOrNull<long>(id) is not { } keyId)
            return TypedResults.Redirect("/admin/api-keys?problem=no-key");
        if (confirmed != "yes")
            return TypedResults.Redirect(string.Create(CultureInfo.InvariantCulture, $"/admin/api-keys?confirm={keyId}"));
        return await keys.RevokeAsync(keyId, ct)
            ? TypedResults.Redirect(Done("/admin/api-keys", flash, "revoked", keyId.ToString(CultureInfo.InvariantCulture)))
            : TypedResults.Redirect("/admin/api-keys?problem=no-key");
    }

    private static async Task<RedirectHttpResult> SetRole([FromForm] long userId, [FromForm] string? role, [FromForm] string? confirmed, [FromForm] string? q,
        ClaimsPrincipal user, AccountAdministration accounts, FlashMessages flash, CancellationToken ct)
    {
        var search = string.IsNullOrWhiteSpace(q) ? "" : "&q=" + Uri.EscapeDataString(q);
        // Refused changes are refused before the confirmation step, so nobody confirms something that cannot happen.
        var outcome = AccountAdministration.RoleChangeRefusal(user.UserId(), userId, role);
        if (outcome is null && confirmed != "yes")
            return TypedResults.Redirect(string.Create(CultureInfo.InvariantCulture, $"/admin/users?confirm={userId}&role={role}{search}"));
        return (outcome ?? await accounts.SetRoleAsync(user.UserId(), userId, role, ct)) switch
        {
            RoleChangeOutcome.Changed => TypedResults.Redirect(Done("/admin/users", flash, "role", userId.ToString(CultureInfo.InvariantCulture), search)),
            RoleChangeOutcome.NotARole => TypedResults.Redirect("/admin/users?problem=bad-role" + search),
            RoleChangeOutcome.OwnAccount => TypedResults.Redirect("/admin/users?problem=own-role" + search),
            RoleChangeOutcome.LastAdmin => TypedResults.Redirect("/admin/users?problem=last-admin" + search),
            _ => TypedResults.Redirect("/admin/users?problem=no-user" + search),
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

    private static readonly string[] Flags = ["noted", "undone", "kind", "list", "after", "changed", "error", "saved", "refused"];

    private static string WithQuery(string url, string name, string value) => WithQuery(url, (name, value));

    /// <summary>The address with the message sealed, so the page shows it but would not show text put into a link.</summary>
    private static string WithProblem(string url, FlashMessages flash, string message) => WithQuery(url, "error", flash.Seal(message));

    /// <summary>The address with these flags set; earlier flags are dropped, so repeated clicks do not pile up query strings.</summary>
    private static string WithQuery(string url, params (string Name, string Value)[] flags)
    {
        var hash = url.IndexOf('#', StringComparison.Ordinal);
        var path = hash >= 0 ? url[..hash] : url;
        var parts = path.Split('?', 2);
        var query = parts.Length == 2
            ? parts[1].Split('&').Where(p => p.Length > 0 && !Flags.Concat(flags.Select(f => f.Name)).Any(f => p.StartsWith(f + "=", StringComparison.Ordinal))).ToList()
            : [];
        query.AddRange(flags.Select(f => $"{f.Name}={Uri.EscapeDataString(f.Value)}"));
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

    /// <summary>The button's label for a known kind; null for anything else, so no text from an address is shown.</summary>
    public static string? Label(string? kind) => Buttons.FirstOrDefault(b => b.Kind == kind).Label;

    /// <summary>The button that says the opposite on the same card, which a click on this one replaces; null when none does.</summary>
    public static string? Opposite(string? kind) => kind switch
    {
        "too_easy" => "too_hard",
        "too_hard" => "too_easy",
        "like" => "not_interested",
        "not_interested" => "like",
        _ => null,
    };

    /// <summary>One key per list, item and button: a double click or a resubmitted form is recorded once, and undo finds it.</summary>
    public static string Key(Guid requestId, long itemId, string kind) =>
        string.Create(CultureInfo.InvariantCulture, $"web:{requestId:N}:{itemId}:{kind}");

    /// <summary>
    /// The buttons the person has recorded now on list <paramref name="requestId"/>, by item (none for an item not
    /// asked about): what an acknowledgement may say and a card shows as pressed.
    /// </summary>
    public static async Task<ILookup<long, string>> RecordedAsync(EventStore events, long userId, Guid requestId, IEnumerable<long> itemIds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(events);
        var keys = itemIds.Distinct().SelectMany(item => Buttons.Select(b => (Item: item, b.Kind, Key: Key(requestId, item, b.Kind)))).ToList();
        var stored = await events.StoredKeysAsync(userId, [.. keys.Select(k => k.Key)], ct);
        return keys.Where(k => stored.Contains(k.Key)).ToLookup(k => k.Item, k => k.Kind);
    }

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
