using Microsoft.AspNetCore.Diagnostics;
using Npgsql;
using Recommender.Data;
using Recommender.Serving;

namespace Recommender.Service;

/// <summary>
/// Maps the unexpected to ProblemDetails. An unreachable database or a full audit buffer is a 503 with Retry-After
/// (the client should retry; nothing it was told was stored is lost); anything else is a 500.
/// </summary>
public sealed class ApiExceptionHandler(IProblemDetailsService problems, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title) = exception switch
        {
            NpgsqlException or TimeoutException when Database.IsUnavailable(exception) => (StatusCodes.Status503ServiceUnavailable, "The database is unavailable; retry shortly."),
            AuditBacklogFullException => (StatusCodes.Status503ServiceUnavailable, exception.Message),
            ServingNotReadyException => (StatusCodes.Status503ServiceUnavailable, "The service is still starting; retry shortly."),
            BadHttpRequestException bad => (bad.StatusCode, bad.Message),
            UnknownUserException => (StatusCodes.Status404NotFound, "There is no such user."),
            _ => (StatusCodes.Status500InternalServerError, "Something went wrong on our side."),
        };
        if (status >= 500)
            logger.Log(status == 500 ? LogLevel.Error : LogLevel.Warning, exception, "{Title}", title);
        if (status == StatusCodes.Status503ServiceUnavailable)
            httpContext.Response.Headers.RetryAfter = "5";
        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title },
        });
    }
}
