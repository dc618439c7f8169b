using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Recommender.Service;

/// <summary>
/// Ids in a route are the platform's own strings and may hold '/', '%', spaces or any Unicode, percent-encoded by the
/// client (<c>docs/intro</c> is sent as <c>docs%2Fintro</c>). The server decodes the path once but leaves <c>%2F</c> as
/// it is, so that it cannot split a segment: the route value would read <c>docs%2Fintro</c>, and an id that really is
/// <c>50%2F</c> (sent as <c>50%252F</c>) would read the same. So each string route value is read again from the
/// request target as the client sent it, and decoded exactly once.
/// </summary>
public static partial class EncodedRouteValues
{
    /// <summary>Runs after routing has chosen the endpoint and before anything reads its route values.</summary>
    public static IApplicationBuilder UseEncodedRouteValues(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        // A target with no escape in it was bound as sent: nothing to read again (the common case, on every request).
        if (context.GetEndpoint() is RouteEndpoint endpoint && context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } target
            && target.Contains('%', StringComparison.Ordinal))
            Decode(endpoint.RoutePattern, target, context.Request.RouteValues);
        return next(context);
    });

    /// <summary>
    /// Replaces each string value of a single-parameter segment of <paramref name="pattern"/> with the matching segment of
    /// <paramref name="target"/> decoded once. A value is replaced only when the raw segment decodes (all but <c>%2F</c>)
    /// to what routing bound, so a target that does not line up with the pattern is left as routing read it.
    /// </summary>
    public static void Decode(RoutePattern pattern, string target, RouteValueDictionary values)
    {
        var path = target.AsSpan();
        var end = path.IndexOfAny('?', '#');
        if (end >= 0)
            path = path[..end];
        if (path.Length > 1 && path[^1] == '/')
            path = path[..^1];
        var segments = path.ToString().Split('/');
        // The pattern's segments are the target's last ones (a path base, if any, comes before them).
        var first = segments.Length - pattern.PathSegments.Count;
        if (first < 1)
            return;
        for (var i = 0; i < pattern.PathSegments.Count; i++)
        {
            if (pattern.PathSegments[i].Parts is not [RoutePatternParameterPart { IsCatchAll: false } parameter]
                || !values.TryGetValue(parameter.Name, out var bound) || bound is not string routed)
                continue;
            var raw = segments[first + i];
            if (!raw.Contains('%', StringComparison.Ordinal) || !string.Equals(DecodeAllButSlash(raw), routed, StringComparison.Ordinal))
                continue;
            values[parameter.Name] = Uri.UnescapeDataString(raw);
        }
    }

    // What the server makes of a segment: every escape decoded but %2F (in the case it was sent).
    private static string DecodeAllButSlash(string raw) => Uri.UnescapeDataString(EncodedSlash().Replace(raw, m => "%25" + m.Value[1..]));

    [GeneratedRegex("%2[Ff]")]
    private static partial Regex EncodedSlash();
}
