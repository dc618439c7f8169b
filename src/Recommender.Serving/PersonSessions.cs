using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>
/// People's sign-in cookies, the same in the REST service and the web app: a sliding lifetime from the settings, a
/// session in the database behind every cookie, and a check of that session every
/// <see cref="ServingOptions.SessionCheckInterval"/>, so that a sign-out, an account deletion or a role change reaches
/// every copy of the cookie, not only the browser that made it. Requests where the role matters (an admin's, or to a
/// role-gated endpoint) are checked every time.
/// </summary>
public static class PersonSessions
{
    public const string Scheme = CookieAuthenticationDefaults.AuthenticationScheme;

    // When the session was last found alive, kept in the cookie's own (protected) properties.
    private const string CheckedAt = ".checked";

    /// <summary>Adds the cookie scheme for people; <paramref name="lifetime"/> picks this host's setting.</summary>
    public static AuthenticationBuilder AddPersonCookie(this AuthenticationBuilder auth, Func<ServingOptions, TimeSpan> lifetime, Action<CookieAuthenticationOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(auth);
        auth.AddCookie(Scheme, o =>
        {
            o.SlidingExpiration = true;
            configure(o);
            o.Events.OnValidatePrincipal = ValidateAsync;
        });
        auth.Services.AddOptions<CookieAuthenticationOptions>(Scheme)
            .Configure<IOptions<ServingOptions>>((o, serving) =>
            {
                o.ExpireTimeSpan = lifetime(serving.Value);
                o.Cookie.SecurePolicy = serving.Value.SecureCookies;
            });
        return auth;
    }

    /// <summary>Starts a session for <paramref name="account"/> and issues its cookie.</summary>
    public static async Task SignInAsync(HttpContext http, Account account, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(account);
        var options = http.RequestServices.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(Scheme);
        var sessionId = await http.RequestServices.GetRequiredService<SessionStore>().StartAsync(account.Id, options.ExpireTimeSpan, ct);
        var properties = new AuthenticationProperties();
        properties.Items[CheckedAt] = Now(options).ToString("O", CultureInfo.InvariantCulture);
        await http.SignInAsync(Scheme, AccountClaims.Principal(account, sessionId, Scheme), properties);
    }

    /// <summary>Ends the caller's session in the database, so no copy of its cookie works any more, and removes the cookie.</summary>
    public static async Task SignOutAsync(HttpContext http, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (TryRead(http.User, out var userId, out var sessionId))
            await http.RequestServices.GetRequiredService<SessionStore>().EndAsync(userId, sessionId, ct);
        await http.SignOutAsync(Scheme);
    }

    private static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var services = context.HttpContext.RequestServices;
        if (context.Principal is not { } principal || !TryRead(principal, out var userId, out var sessionId))
        {
            await RefuseAsync(context);
            return;
        }
        var interval = services.GetRequiredService<IOptions<ServingOptions>>().Value.SessionCheckInterval;
        var now = Now(context.Options);
        if (!NeedsFreshRole(context.HttpContext, principal)
            && context.Properties.Items.TryGetValue(CheckedAt, out var text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var checkedAt)
            && checkedAt <= now && now - checkedAt < interval)
            return;
        Account? account;
        try
        {
            account = await services.GetRequiredService<SessionStore>().TouchAsync(userId, sessionId, context.HttpContext.RequestAborted);
        }
        catch (Exception e) when (Database.IsUnavailable(e))
        {
            // The database is away: the session was alive at its last check and feeds keep serving from memory, so the
            // person stays signed in; the session is checked again on its next request.
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PersonSessions))
                .LogDebug("Session check deferred: the database is unavailable ({Reason})", e.GetType().Name);
            return;
        }
        if (account is null)
        {
            await RefuseAsync(context);
            return;
        }
        if (account.Role != principal.FindFirstValue(ClaimTypes.Role) || account.Login != principal.Identity?.Name
            || account.DisplayName != principal.FindFirstValue(AccountClaims.DisplayName))
            context.ReplacePrincipal(AccountClaims.Principal(account, sessionId, context.Scheme.Name));
        context.Properties.Items[CheckedAt] = now.ToString("O", CultureInfo.InvariantCulture);
        context.ShouldRenew = true;
    }

    /// <summary>
    /// Whether this request must see the role as it is now, not as it was at the last check: anything an admin cookie
    /// does, and any endpoint that asks for more than a signed-in person (a role or a named policy). A demoted admin
    /// loses the role, and a promoted person gains it, on their very next such request; plain reader requests keep
    /// the cheaper periodic check.
    /// </summary>
    private static bool NeedsFreshRole(HttpContext http, ClaimsPrincipal principal) =>
        principal.IsInRole("admin")
        || (http.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => !string.IsNullOrEmpty(a.Roles) || !string.IsNullOrEmpty(a.Policy)) ?? false);

    private static async Task RefuseAsync(CookieValidatePrincipalContext context)
    {
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(context.Scheme.Name);
    }

    private static bool TryRead(ClaimsPrincipal user, out long userId, out Guid sessionId)
    {
        sessionId = Guid.Empty;
        return long.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), NumberStyles.None, CultureInfo.InvariantCulture, out userId)
            && Guid.TryParseExact(user.FindFirstValue(AccountClaims.SessionId), "N", out sessionId);
    }

    private static DateTimeOffset Now(CookieAuthenticationOptions options) => (options.TimeProvider ?? TimeProvider.System).GetUtcNow();
}
