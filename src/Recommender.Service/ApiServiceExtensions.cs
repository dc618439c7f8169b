using System.Security.Claims;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Recommender.Serving;

namespace Recommender.Service;

/// <summary>Authentication, authorization policies, rate limits, errors and OpenAPI for the REST service.</summary>
public static class ApiServiceExtensions
{
    public const string PersonPolicy = "person";
    public const string AdminPolicy = "admin";
    public const string CatalogScope = "catalog";
    public const string EventsScope = "events";
    public const string FeedsScope = "feeds";
    public const string SignInLimit = SignInRateLimit.PolicyName;
    public const string EventsLimit = "events";
    public const string CookieName = "recommender.api";

    /// <summary>
    /// Largest request body accepted (1 MiB); a larger one is refused with 413 before it is read. The largest request
    /// the API needs, 1,000 events with 200-character keys, is about a third of that.
    /// </summary>
    public const int MaxRequestBodyBytes = 1 << 20;

    public static IHostApplicationBuilder AddRecommenderApi(this IHostApplicationBuilder builder)
    {
        builder.AddRecommenderServing();
        builder.AddRecommenderTelemetry();
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx => ctx.ProblemDetails.Detail ??= AccessDetail(ctx.HttpContext, ctx.ProblemDetails.Status));
        builder.Services.AddExceptionHandler<ApiExceptionHandler>();
        builder.Services.AddOpenApi(o => o.AddIntroduction().AddSecurity().AddConvertedTypes().AddErrorResponses());
        builder.Services.Configure<KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = MaxRequestBodyBytes);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new StorableText.JsonConverter());
            o.SerializerOptions.Converters.Add(new UtcTimestamps());
            // A misspelt or import-style name (source_id) would otherwise be dropped, and a PUT replaces: the field is wiped.
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        });
        // A body or parameter that cannot be read reaches ApiExceptionHandler, which names the field in the 400.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);

        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddPersonCookie(serving => serving.ApiSessionLifetime, o =>
            {
                o.Cookie.Name = CookieName;
                o.Cookie.HttpOnly = true;
                // Strict: a cookie-authenticated JSON call can only come from this site, which is the CSRF defence for the API.
                o.Cookie.SameSite = SameSiteMode.Strict;
                // An API answers 401/403; it does not redirect to a login page.
                o.Events.OnRedirectToLogin = ctx => { ctx.Response.StatusCode = StatusCodes.Status401Unauthorized; return Task.CompletedTask; };
                o.Events.OnRedirectToAccessDenied = ctx => { ctx.Response.StatusCode = StatusCodes.Status403Forbidden; return Task.CompletedTask; };
            })
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);

        var people = new AuthorizationPolicyBuilder(CookieAuthenticationDefaults.AuthenticationScheme).RequireAuthenticatedUser().Build();
        // Every API route names its own policy (AccessTests checks), so the fallback guards what no route answers: an
        // unknown path, a wrong method or content type. A platform's key is a caller too, told 404, 405 or 415, not 401.
        var anyCaller = new AuthorizationPolicyBuilder(CookieAuthenticationDefaults.AuthenticationScheme, ApiKeyAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser().Build();
        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(anyCaller)
            .AddPolicy(PersonPolicy, people)
            .AddPolicy(AdminPolicy, p => p.AddAuthenticationSchemes(CookieAuthenticationDefaults.AuthenticationScheme).RequireRole("admin"))
            .AddPolicy(CatalogScope, Scope(CatalogScope))
            .AddPolicy(EventsScope, Scope(EventsScope))
            .AddPolicy(FeedsScope, Scope(FeedsScope));

        builder.Services.AddRateLimiter(o =>
        {
            o.OnRejected = async (context, ct) =>
            {
                var overload = OverloadLimit.IsOverload(context);
                var status = overload ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status429TooManyRequests;
                context.HttpContext.Response.StatusCode = status;
                // The limiter's own wait (a sign-in window can be most of a minute away), not a guess.
                context.HttpContext.Response.Headers.RetryAfter = overload ? "1"
                    : SignInRateLimit.RetryAfterSeconds(SignInRateLimit.RetryAfter(context)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails = overload
                        ? new ProblemDetails { Status = status, Title = "Service busy", Detail = "Too many requests are in progress; retry after the time in Retry-After." }
                        : new ProblemDetails { Status = status, Title = "Too many requests", Detail = "Slow down and retry after the time in Retry-After." },
                });
            };
            // Every request: a bounded number in progress and in the queue, so overload is refused fast, not slowed down.
            o.AddOverloadLimit(builder.Configuration);
            // Sign-in: a few attempts per client address per minute against password guessing, as in the web app.
            o.AddSignInLimit(builder.Configuration);
            // Events: per caller (person or API key), generous enough for batched ingestion.
            o.AddPolicy(EventsLimit, ctx => RateLimitPartition.GetTokenBucketLimiter(
                ctx.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? ctx.User.FindFirstValue("api_key_id") ?? ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new TokenBucketRateLimiterOptions { TokenLimit = 200, TokensPerPeriod = 200, ReplenishmentPeriod = TimeSpan.FromSeconds(1), QueueLimit = 0 }));
        });
        return builder;
    }

    /// <summary>
    /// What a bare 404 means (no such route, or no such id), what a bare 415 asks for, and what a bare 401 or 403 means and what to do next, from the route's own policy, so that a platform engineer's first
    /// call does not end at "Unauthorized": a key that was sent and refused is told apart from the wrong kind of caller.
    /// </summary>
    internal static string? AccessDetail(HttpContext context, int? status)
    {
        if (status == StatusCodes.Status404NotFound)
            return context.GetEndpoint() is null
                ? "No route has this path: the routes are listed at /docs. An id that holds '/' is sent percent-encoded (docs%2Fintro)."
                : "Nothing has this id. An id that holds '/' is sent percent-encoded (docs%2Fintro).";
        if (status == StatusCodes.Status415UnsupportedMediaType)
            return "Send the body as JSON with the header Content-Type: application/json.";
        if (status is not (StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden))
            return null;
        if (status == StatusCodes.Status401Unauthorized && context.Items.ContainsKey(ApiKeyAuthenticationHandler.KeyRefused))
            return $"The key in {ApiKeyAuthenticationHandler.HeaderName} is not known or has been revoked; an admin creates one with `recommender keys create`.";
        var policy = context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).LastOrDefault(p => p is not null);
        return policy switch
        {
            CatalogScope or EventsScope or FeedsScope =>
                $"This route needs a platform API key with the '{policy}' scope in the {ApiKeyAuthenticationHandler.HeaderName} header; a sign-in is not enough.",
            AdminPolicy => "This route is for admins: sign in as an admin with POST /api/auth/sign-in.",
            PersonPolicy => "This route is for a signed-in person: sign in with POST /api/auth/sign-in. A platform calls the /api/platform routes with an API key instead.",
            _ => $"Send a platform API key in the {ApiKeyAuthenticationHandler.HeaderName} header, or sign in with POST /api/auth/sign-in. Every route is described at /docs.",
        };
    }

    private static Action<AuthorizationPolicyBuilder> Scope(string scope) =>
        p => p.AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName).RequireClaim(ApiKeyAuthenticationHandler.ScopeClaim, scope);

    /// <summary>Security headers on every response; CORS stays closed because no policy is registered.</summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        // The API answers JSON and needs nothing loaded; only the API browser is a page, served from this host alone.
        headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments(DocsPath)
            ? "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
            : "default-src 'none'; frame-ancestors 'none'";
        await next();
    });

    /// <summary>Where the API browser lives: Swagger UI over <c>/openapi/v1.json</c>, its files embedded in the package (no CDN).</summary>
    public const string DocsPath = "/docs";

    public static IApplicationBuilder UseApiBrowser(this IApplicationBuilder app) => app.UseSwaggerUI(o =>
    {
        o.RoutePrefix = DocsPath.TrimStart('/');
        o.SwaggerEndpoint("/openapi/v1.json", "Recommender API");
        o.DocumentTitle = "Recommender API";
    });
}
