using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Recommender.Serving;

/// <summary>
/// A second CSRF defence beside SameSite cookies and antiforgery tokens, the same in the REST service and the web
/// app: a state-changing request (POST, PUT, PATCH, DELETE) whose <c>Origin</c> (or, without one, <c>Referer</c>)
/// names another site is refused with 403. Browsers send one of them on every cross-site form post and fetch, so a
/// forged request is caught even where SameSite is not honoured; server-to-server callers send neither and pass.
/// The request's own origin counts as this site — behind a proxy that is the public one once forwarded headers are
/// honoured — and so does each of <see cref="ServingOptions.AllowedOrigins"/>.
/// </summary>
public static class OriginCheck
{
    public static IApplicationBuilder UseOriginCheck(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) || HttpMethods.IsOptions(context.Request.Method)
            || HttpMethods.IsTrace(context.Request.Method) || IsSameSite(context))
        {
            await next(context);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync("This request came from another site (its Origin or Referer header names it), so it was refused.", context.RequestAborted);
    });

    private static bool IsSameSite(HttpContext context)
    {
        var headers = context.Request.Headers;
        string? claimed = headers.Origin.Count > 0 ? headers.Origin.ToString() : headers.Referer.Count > 0 ? headers.Referer.ToString() : null;
        if (claimed is null)
            return true;
        // "null" (sandboxed frames, some redirects) and anything unparsable are foreign.
        if (!Uri.TryCreate(claimed, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            return false;
        var origin = uri.GetLeftPart(UriPartial.Authority);
        var own = $"{context.Request.Scheme}://{context.Request.Host.Value}";
        if (string.Equals(origin, new Uri(own).GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase))
            return true;
        var allowed = context.RequestServices.GetRequiredService<IOptions<ServingOptions>>().Value.AllowedOrigins;
        return allowed.Any(a => Uri.TryCreate(a, UriKind.Absolute, out var u) && string.Equals(u.GetLeftPart(UriPartial.Authority), origin, StringComparison.OrdinalIgnoreCase));
    }
}
