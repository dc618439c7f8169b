using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Recommender.Service;

/// <summary>
/// PostgreSQL text cannot hold the NUL character (U+0000): a string carrying one would fail deep inside a write. It
/// is refused where it enters instead, as a 400 naming the field: in JSON bodies (through the API's JSON options), in
/// the route and in the query string.
/// </summary>
public static class StorableText
{
    public const string Reason = "must not contain the NUL character (U+0000)";

    public static bool IsStorable(string? text) => text is null || !text.Contains('\0', StringComparison.Ordinal);

    /// <summary>Whether every name and string inside a JSON tree is storable (free-form JSON is not read through the converter).</summary>
    public static bool IsStorable(JsonNode? node) => node switch
    {
        JsonObject o => o.All(p => IsStorable(p.Key) && IsStorable(p.Value)),
        JsonArray a => a.All(IsStorable),
        JsonValue v => !v.TryGetValue<string>(out var s) || IsStorable(s),
        _ => true,
    };

    /// <summary>Every string in a JSON body goes through this: a NUL fails deserialization with the field's JSON path.</summary>
    public sealed class JsonConverter : JsonConverter<string>
    {
        public override bool HandleNull => false;

        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.GetString();
            return IsStorable(text) ? text : throw new JsonException(Reason);
        }

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
    }

    /// <summary>Refuses a request whose route or query values hold a NUL, naming the parameter.</summary>
    public static IApplicationBuilder UseStorableText(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var errors = new Dictionary<string, string[]>();
        foreach (var (name, value) in context.Request.RouteValues)
        {
            if (value is string s && !IsStorable(s))
                errors[name] = [Reason];
        }
        foreach (var (name, values) in context.Request.Query)
        {
            if (!IsStorable(name) || values.Any(v => !IsStorable(v)))
                errors[IsStorable(name) ? name : "query"] = [Reason];
        }
        if (errors.Count == 0)
        {
            await next();
            return;
        }
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new HttpValidationProblemDetails(errors) { Status = StatusCodes.Status400BadRequest },
        });
    });
}
