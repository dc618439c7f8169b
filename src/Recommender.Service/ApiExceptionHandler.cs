using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;
using Recommender.Data;
using Recommender.Serving;

namespace Recommender.Service;

/// <summary>
/// Maps the unexpected to ProblemDetails. An unreachable database or a full audit buffer is a 503 with Retry-After
/// (the client should retry; nothing it was told was stored is lost); a body or parameter that cannot be read is a
/// 400 naming the field (413 when the body is too large); anything else is a 500.
/// </summary>
public sealed partial class ApiExceptionHandler(IProblemDetailsService problems, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title) = exception switch
        {
            NpgsqlException or TimeoutException when Database.IsUnavailable(exception) => (StatusCodes.Status503ServiceUnavailable, "The database is unavailable; retry shortly."),
            AuditBacklogFullException => (StatusCodes.Status503ServiceUnavailable, exception.Message),
            ServingNotReadyException => (StatusCodes.Status503ServiceUnavailable, "The service is still starting; retry shortly."),
            BadHttpRequestException bad => (bad.StatusCode, bad.StatusCode == StatusCodes.Status400BadRequest ? "The request is malformed." : bad.Message),
            UnknownUserException => (StatusCodes.Status404NotFound, "There is no such user."),
            // A sign-in cookie outlives an account deleted from another device; writing for it hits the user foreign key.
            PostgresException { SqlState: PostgresErrorCodes.ForeignKeyViolation, ConstraintName: { } c } when c.EndsWith("_user_id_fkey", StringComparison.Ordinal)
                => (StatusCodes.Status404NotFound, "There is no such user."),
            _ => (StatusCodes.Status500InternalServerError, "Something went wrong on our side."),
        };
        if (status >= 500)
            logger.Log(status == 500 ? LogLevel.Error : LogLevel.Warning, exception, "{Title}", title);
        if (status == StatusCodes.Status503ServiceUnavailable)
            httpContext.Response.Headers.RetryAfter = "5";
        httpContext.Response.StatusCode = status;
        var problem = exception is BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest } unreadable
            ? new HttpValidationProblemDetails(new Dictionary<string, string[]> { [FieldOf(unreadable, out var reason)] = [reason] })
            : new Microsoft.AspNetCore.Mvc.ProblemDetails();
        problem.Status = status;
        problem.Title = title;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, Exception = exception, ProblemDetails = problem });
    }

    /// <summary>
    /// The field a request could not be read at: the JSON path inside the body (<c>[2].itemId</c>, <c>title</c>; the
    /// whole body is <c>body</c>), else the query or route parameter ASP.NET Core names in its message.
    /// </summary>
    private static string FieldOf(BadHttpRequestException e, out string reason)
    {
        if (e.InnerException is JsonException json)
        {
            var path = json.Path is { Length: > 1 } p ? p[1..].TrimStart('.') : "";
            var message = json.Message;
            var cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
            reason = cut > 0 ? message[..cut] : message;
            return path.Length > 0 ? path : "body";
        }
        var match = ParameterName().Match(e.Message);
        reason = e.Message.Length <= 300 ? e.Message : e.Message[..300] + "…";
        return match.Success ? match.Groups["name"].Value : "body";
    }

    [GeneratedRegex("parameter \"[^\"]*?(?<name>[A-Za-z_][A-Za-z0-9_]*)\"")]
    private static partial Regex ParameterName();
}
