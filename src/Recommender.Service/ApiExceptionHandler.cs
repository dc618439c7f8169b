using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;
using Recommender.Core;
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
            ? Unreadable(httpContext, unreadable, ref title)
            : new Microsoft.AspNetCore.Mvc.ProblemDetails();
        problem.Status = status;
        problem.Title = title;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, Exception = exception, ProblemDetails = problem });
    }

    /// <summary>
    /// A 400 naming the field a request could not be read at, in plain words: the JSON path inside the body
    /// (<c>[2].itemId</c>, <c>title</c>; the whole body is <c>body</c>), else the query or route parameter. The
    /// framework's own messages name .NET types, which mean nothing to a caller; the handler's parameters and body
    /// type say what was expected instead.
    /// </summary>
    private static HttpValidationProblemDetails Unreadable(HttpContext context, BadHttpRequestException e, ref string title)
    {
        // The handler runs with the endpoint cleared; the feature keeps the one that failed.
        var endpoint = context.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint();
        var bodyType = endpoint?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.RequestType;
        string field, reason;
        if (e.InnerException is JsonException json)
        {
            var path = json.Path ?? "$";
            field = path.Length > 1 ? path[1..].TrimStart('.') : "body";
            var message = json.Message;
            var cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
            reason = cut > 0 ? message[..cut] : message;
            if (UnmappedMember().Match(reason) is { Success: true } unmapped)
            {
                var name = unmapped.Groups["name"].Value;
                // The path may end at the object or at the member sent inside it; the field is the member.
                var objectPath = path.EndsWith(name, StringComparison.Ordinal) ? path[..^name.Length].TrimEnd('.', '[', '\'') : path;
                field = objectPath.Length > 1 ? $"{objectPath[1..].TrimStart('.')}.{name}" : name;
                reason = NotAField(TypeAt(bodyType, objectPath), name);
            }
            // A value of the wrong type ("The JSON value could not be converted to …+ItemInput"), or any message naming a type.
            else if (reason.StartsWith("The JSON value could not be converted", StringComparison.Ordinal) || TypeName().IsMatch(reason))
                reason = TypeAt(bodyType, path) is { } expected ? $"expected {Expected(expected)}" : "is not of the expected type";
        }
        else if (bodyType is not null && MissingBody().IsMatch(e.Message))
        {
            title = "A JSON body is required.";
            field = "body";
            reason = $"is required: send {Expected(bodyType)} as JSON";
        }
        else if (ParameterName().Match(e.Message) is { Success: true } match)
        {
            field = match.Groups["name"].Value;
            var type = endpoint?.Metadata.GetMetadata<System.Reflection.MethodInfo>()?.GetParameters().FirstOrDefault(p => p.Name == field)?.ParameterType;
            reason = e.Message.StartsWith("Required parameter", StringComparison.Ordinal) ? "is required"
                : type is not null ? $"must be {Expected(type)}"
                : "is not valid";
        }
        else
        {
            field = "body";
            reason = e.Message.Length <= 300 ? e.Message : e.Message[..300] + "…";
        }
        return new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [reason] });
    }

    /// <summary>Why a member is refused, with the field meant when only its spelling differs (<c>source_id</c> for <c>sourceId</c>).</summary>
    private static string NotAField(Type? type, string name)
    {
        var fields = type?.GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance)
            .Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)).ToList() ?? [];
        var meant = DidYouMean.Closest(fields, name);
        return meant is not null ? $"is not a field; did you mean {meant}?"
            : fields.Count > 0 ? $"is not a field; the fields are {string.Join(", ", fields)}"
            : "is not a field";
    }

    /// <summary>The type found at a JSON path (<c>$[2].itemId</c>) inside <paramref name="root"/>, or null when the path leaves it.</summary>
    private static Type? TypeAt(Type? root, string path)
    {
        var type = root;
        foreach (Match step in PathStep().Matches(path))
        {
            if (type is null)
                return null;
            type = step.Groups["index"].Success
                ? ElementType(type)
                : type.GetProperty(step.Groups["name"].Success ? step.Groups["name"].Value : step.Groups["quoted"].Value,
                    System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase)?.PropertyType;
        }
        return type;
    }

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];

    private static bool IsDictionary(Type type) =>
        type.GetInterfaces().Append(type).Any(i => i.IsGenericType && i.GetGenericTypeDefinition() is var d && (d == typeof(IDictionary<,>) || d == typeof(IReadOnlyDictionary<,>)));

    /// <summary>What a value of <paramref name="type"/> looks like to someone writing JSON or a query string.</summary>
    private static string Expected(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return Type.GetTypeCode(type) switch
        {
            TypeCode.Byte or TypeCode.SByte or TypeCode.Int16 or TypeCode.UInt16 or TypeCode.Int32 or TypeCode.UInt32 or TypeCode.Int64 or TypeCode.UInt64
                when !type.IsEnum => "a whole number",
            TypeCode.Single or TypeCode.Double or TypeCode.Decimal => "a number",
            TypeCode.Boolean => "true or false",
            TypeCode.String or TypeCode.Char => "a string",
            TypeCode.DateTime => "a date and time (ISO 8601, e.g. 2024-05-01T10:00:00Z)",
            _ when type.IsEnum => $"one of: {string.Join(", ", Enum.GetNames(type).Select(JsonNamingPolicy.CamelCase.ConvertName))}",
            _ when type == typeof(DateTimeOffset) => "a date and time (ISO 8601, e.g. 2024-05-01T10:00:00Z)",
            _ when type == typeof(Guid) => "a GUID",
            // A dictionary (a JSON object such as parameters) is a sequence of pairs in .NET, but an object to the caller.
            _ when IsDictionary(type) => "an object",
            _ when ElementType(type) is not null => "an array",
            _ => "an object",
        };
    }

    [GeneratedRegex("^The JSON property '(?<name>.*)' could not be mapped to any .NET member")]
    private static partial Regex UnmappedMember();

    [GeneratedRegex("parameter \"[^\"]*?(?<name>[A-Za-z_][A-Za-z0-9_]*)\"")]
    private static partial Regex ParameterName();

    // ASP.NET Core's words for a body that was required but empty (implicit and [FromBody] parameters).
    [GeneratedRegex("no body was provided|was not provided from body")]
    private static partial Regex MissingBody();

    [GeneratedRegex(@"\.(?<name>[A-Za-z_][A-Za-z0-9_]*)|\[(?<index>\d+)\]|\['(?<quoted>[^']*)'\]")]
    private static partial Regex PathStep();

    // A .NET type's full name (System.Int32, Recommender.Service.PlatformApi+ItemInput): never shown to a caller.
    [GeneratedRegex(@"\b(System|Recommender|Microsoft)\.[A-Za-z0-9_.+`\[\]]+")]
    private static partial Regex TypeName();
}
