using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Recommender.Data;

namespace Recommender.Service;

/// <summary>Platforms authenticate with <c>X-Api-Key</c>; each of the key's scopes becomes a <c>scope</c> claim.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    public const string ScopeClaim = "scope";

    /// <summary>Set in <see cref="HttpContext.Items"/> when the request carried a key that is unknown or revoked, so the refusal can say so.</summary>
    public static readonly object KeyRefused = new();

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var values) || values.Count != 1 || string.IsNullOrWhiteSpace(values[0]))
            return AuthenticateResult.NoResult();
        var key = await keys.FindAsync(values[0]!, Context.RequestAborted);
        if (key is null)
        {
            Context.Items[KeyRefused] = true;
            return AuthenticateResult.Fail("unknown or revoked API key");
        }
        // At most once a minute per key: an admin can then tell a key in use from a forgotten one before revoking it.
        await keys.RecordUseAsync(key.Id, Context.RequestAborted);
        var claims = new List<Claim> { new(ClaimTypes.Name, key.Name), new("api_key_id", key.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)) };
        claims.AddRange(key.Scopes.Select(s => new Claim(ScopeClaim, s)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }
}
