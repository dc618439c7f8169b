using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.RateLimiting;
using Recommender.Serving;

namespace Recommender.Web;

/// <summary>Registration of the web app: its own sign-in cookie, the admin policy and the pages.</summary>
public static class WebServiceExtensions
{
    public const string AdminPolicy = "admin";
    public const string CookieName = "recommender.web";

    private const string BusyPage = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1.0">
        <title>Busy · Recommender</title><link rel="stylesheet" href="/app.css"></head>
        <body><main><h1>Busy right now</h1>
        <p>Recommender has more requests than it can take this moment. Nothing you did was lost; try again in a second.</p>
        <p><a href="">Try again</a></p></main></body></html>
        """;

    /// <summary>Why a signed-in person is refused an admin page: the roles are reader and admin, and admins give the role.</summary>
    public const string AdminsOnly = "This is for admins. If you need it, ask one of this site's admins to make your account an admin.";

    private const string ForbiddenAnswer = $"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1.0">
        <title>Not for this account · Recommender</title><link rel="stylesheet" href="/app.css"></head>
        <body><main><h1>Not for this account</h1>
        <p>{AdminsOnly}</p>
        <p><a href="/">Back to your feed</a></p></main></body></html>
        """;

    public static IHostApplicationBuilder AddRecommenderWeb(this IHostApplicationBuilder builder)
    {
        builder.AddRecommenderServing();
        builder.AddRecommenderTelemetry();
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddSingleton<AdminStatistics>();
        builder.Services.AddSingleton<FlashMessages>();
        builder.Services.AddSingleton<NewApiKeys>();
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddPersonCookie(serving => serving.WebSessionLifetime, o =>
            {
                o.Cookie.Name = CookieName;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.LoginPath = "/sign-in";
                o.AccessDeniedPath = "/forbidden";
                // A person without the admin role gets a real 403, not a redirect to a page that says so with 200. A page
                // opened in the browser is answered by the status code pages with the site's own page, header and menu
                // included; a form post, which they leave alone, gets a short page of its own.
                o.Events.OnRedirectToAccessDenied = async context =>
                {
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
                        return;
                    context.Response.ContentType = "text/html; charset=utf-8";
                    await context.Response.WriteAsync(ForbiddenAnswer, context.HttpContext.RequestAborted);
                };
            });
        builder.Services.AddOptions<Microsoft.AspNetCore.Antiforgery.AntiforgeryOptions>()
            .Configure<Microsoft.Extensions.Options.IOptions<ServingOptions>>((o, serving) => o.Cookie.SecurePolicy = serving.Value.SecureCookies);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, p => p.RequireAuthenticatedUser().RequireRole("admin"));
        // The REST service's limit on sign-in attempts, same policy and setting; a refused form post is a 429 that goes on to the form.
        // Admission control as in the REST service: a busy process answers 503 at once instead of slowing everyone down.
        builder.Services.AddRateLimiter(o =>
        {
            o.AddSignInLimit(builder.Configuration, BackToSignIn);
            o.AddOverloadLimit(builder.Configuration);
            o.OnRejected = async (context, ct) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "1";
                context.HttpContext.Response.ContentType = "text/html; charset=utf-8";
                await context.HttpContext.Response.WriteAsync(BusyPage, ct);
            };
        });
        return builder;
    }

    public static WebApplication UseRecommenderWeb(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
            app.UseExceptionHandler("/error", createScopeForErrors: true);
        app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "same-origin";
            headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'";
            return next(context);
        });
        // An address with no page, or an error answered without a body, gets a page a person can read, status kept.
        // Only for pages a browser navigates to: a refused form post keeps its own short answer.
        app.UseStatusCodePagesWithReExecute("/status/{0}", createScopeForStatusCodePages: true);
        app.Use((context, next) =>
        {
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method)
                && context.Features.Get<Microsoft.AspNetCore.Diagnostics.IStatusCodePagesFeature>() is { } pages)
                pages.Enabled = false;
            return next(context);
        });
        app.UseOriginCheck();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapHealthChecks("/health", new() { ResponseWriter = HealthReportWriter.WriteAsync }).AllowAnonymous();
        app.MapRecommenderMetrics();
        app.MapWebEndpoints();
        app.MapAuditDownloads();
        app.MapRazorComponents<Components.App>().AddInteractiveServerRenderMode();
        return app;
    }

    /// <summary>
    /// A sign-in refused by the address limit gets what a locked account gets (<see cref="WebEndpoints.SignInRefused"/>):
    /// 429 with the real wait, and the sign-in form again saying so. The password is not checked at all while the limit holds.
    /// </summary>
    private static async ValueTask BackToSignIn(OnRejectedContext context, CancellationToken ct)
    {
        var request = context.HttpContext.Request;
        var form = request.HasFormContentType ? await request.ReadFormAsync(ct) : null;
        await WebEndpoints.SignInRefused(context.HttpContext, SignInRateLimit.RetryAfter(context), "", form?["login"].ToString(),
            WebEndpoints.LocalOr(form?["returnUrl"].ToString(), "/"), context.HttpContext.RequestServices.GetRequiredService<FlashMessages>()).ExecuteAsync(context.HttpContext);
    }
}
