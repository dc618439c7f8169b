using System.Globalization;
using System.Security.Claims;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>The claims a signed-in person carries, the same in the REST service and the web app.</summary>
public static class AccountClaims
{
    public const string DisplayName = "display_name";

    /// <summary>The session the sign-in started (see <see cref="PersonSessions"/>).</summary>
    public const string SessionId = "session_id";

    public static ClaimsPrincipal Principal(Account account, Guid sessionId, string authenticationScheme) => new(new ClaimsIdentity(
    [
        new Claim(SessionId, sessionId.ToString("N")),
        new Claim(ClaimTypes.NameIdentifier, account.Id.ToString(CultureInfo.InvariantCulture)),
        new Claim(ClaimTypes.Name, account.Login),
        new Claim(DisplayName, account.DisplayName),
        new Claim(ClaimTypes.Role, account.Role),
    ], authenticationScheme));

    /// <summary>The signed-in person's user id.</summary>
    public static long UserId(this ClaimsPrincipal user) =>
        long.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("not a signed-in person"), CultureInfo.InvariantCulture);
}
