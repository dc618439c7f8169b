using Recommender.Data.Import;

namespace Recommender.Service;

/// <summary>
/// Times in the query string (<c>from</c>, <c>to</c>) are ISO 8601 only, as imports and JSON bodies are: minimal APIs
/// bind a <see cref="DateTimeOffset"/> with the invariant culture, which reads <c>02/04/2024</c> month-first and
/// answers a silently different window. Anything else is a 400 naming the parameter.
/// </summary>
internal sealed class IsoTimeQuery : IEndpointFilter
{
    private static readonly string[] Names = ["from", "to"];

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var query = context.HttpContext.Request.Query;
        var errors = Names.Where(n => query.TryGetValue(n, out var value) && !CatalogRules.TryParseIso(value.ToString(), out _))
            .ToDictionary(n => n, _ => new[] { "must be an ISO 8601 date or time, such as 2026-12-06 or 2026-12-06T09:30:00Z" });
        return errors.Count > 0 ? TypedResults.ValidationProblem(errors) : await next(context);
    }
}
