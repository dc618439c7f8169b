using System.Text.Json;
using System.Text.Json.Serialization;

namespace Recommender.Service;

/// <summary>
/// A time sent without an offset is UTC, as in the import files, whatever the server's time zone: System.Text.Json
/// alone reads it in the server's local time, so replicas in different zones would store different instants.
/// </summary>
public sealed class UtcTimestamps : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        // The framework's own message ("could not be converted") names the field and what was expected.
        if (reader.TokenType != JsonTokenType.String || !reader.TryGetDateTimeOffset(out var time))
            throw new JsonException();
        return reader.TryGetDateTime(out var local) && local.Kind == DateTimeKind.Unspecified ? new DateTimeOffset(local, TimeSpan.Zero) : time;
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
