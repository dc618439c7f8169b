using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Recommender.Core;

/// <summary>
/// The one place the audit record of a served list becomes JSON and back. Items are stored as an array of
/// <c>{rank, item_id, score, components, reasons, provenance}</c>: components ordered by name, <c>provenance</c> left out
/// when unknown, scores and components at single precision (enough to audit a ranking, and half the bytes of every list
/// stored), and a score that is not a finite number as null (JSON has neither NaN nor infinity, and one broken score must
/// not fail the whole record). The bytes are those the audit log has always held, so stored records read back unchanged.
/// This is the stored format only: the REST API shows served items in its own camelCase shape.
/// </summary>
public static class AuditRecordJson
{
    /// <summary>The items as the audit log stores them.</summary>
    public static string WriteItems(IReadOnlyList<ServedItem> items) =>
        Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(items, AuditJsonContext.Default.IReadOnlyListServedItem));

    /// <summary>Reads the items of a stored list; a record from before provenance was kept has null <see cref="ServedItem.Provenance"/>.</summary>
    /// <exception cref="JsonException">The text is not an audit record's items.</exception>
    public static IReadOnlyList<ServedItem> ReadItems(string json)
    {
        var items = JsonSerializer.Deserialize(json, AuditJsonContext.Default.IReadOnlyListServedItem)
            ?? throw new JsonException("An audit record's items must be an array, not null.");
        // A record missing its components or reasons reads as having none, rather than as nulls every reader must check.
        return items.Any(i => i.Components is null || i.Reasons is null)
            ? [.. items.Select(i => i with { Components = i.Components ?? new Dictionary<string, double>(), Reasons = i.Reasons ?? [] })]
            : items;
    }

    /// <summary>The whole record (who, which objective and settings, which model, the items) as one JSON object, e.g. for an export.</summary>
    public static string Write(ServedList list)
    {
        ArgumentNullException.ThrowIfNull(list);
        using var parameters = JsonDocument.Parse(list.ParametersJson);
        var record = new ListRecord(list.UserId, list.ObjectiveId, list.ObjectiveVersion, parameters.RootElement, list.ParameterHash, list.ModelVersion,
            list.RerankerVersion, list.Seed, list.ServedAt, list.CandidatesConsidered, list.Items);
        return JsonSerializer.Serialize(record, AuditJsonContext.Default.ListRecord);
    }

    internal sealed record ListRecord(long? UserId, string ObjectiveId, string ObjectiveVersion, JsonElement Parameters, string ParameterHash,
        string ModelVersion, string? RerankerVersion, int Seed, DateTimeOffset ServedAt, int CandidatesConsidered, IReadOnlyList<ServedItem> Items);
}

/// <summary>Writes a score at single precision, and one that is not a finite number as null; null reads back as NaN.</summary>
public sealed class AuditScoreConverter : JsonConverter<double>
{
    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var single = (float)value;
        if (float.IsFinite(single))
            writer.WriteNumberValue(single);
        else
            writer.WriteNullValue();
    }
}

/// <summary>Writes score components ordered by name (so equal lists give equal bytes), each as <see cref="AuditScoreConverter"/> does.</summary>
public sealed class AuditComponentsConverter : JsonConverter<IReadOnlyDictionary<string, double>>
{
    private static readonly AuditScoreConverter Score = new();

    public override IReadOnlyDictionary<string, double> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException("Score components must be an object of numbers.");
        var components = new Dictionary<string, double>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            components[name] = Score.Read(ref reader, typeof(double), options);
        }
        return components;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, double> value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartObject();
        foreach (var (name, component) in value.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            writer.WritePropertyName(name);
            Score.Write(writer, component, options);
        }
        writer.WriteEndObject();
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(AuditScoreConverter), typeof(AuditComponentsConverter)])]
[JsonSerializable(typeof(IReadOnlyList<ServedItem>))]
[JsonSerializable(typeof(AuditRecordJson.ListRecord))]
internal sealed partial class AuditJsonContext : JsonSerializerContext;
