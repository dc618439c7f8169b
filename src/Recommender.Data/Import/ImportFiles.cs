using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace Recommender.Data.Import;

/// <summary>Shared reading rules for import files: strict UTF-8 with the line of the first bad byte, and value parsers that name the field.</summary>
internal static class ImportFiles
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads a whole file as text, failing with <c>file:line</c> at the first line that is not valid UTF-8.</summary>
    public static string ReadUtf8(string path)
    {
        var bytes = File.ReadAllBytes(path);
        ReadOnlySpan<byte> span = bytes;
        if (span.StartsWith("\uFEFF"u8))
            span = span[3..];
        if (!Utf8.IsValid(span))
        {
            var line = 1L;
            var rest = span;
            while (true)
            {
                var end = rest.IndexOf((byte)'\n');
                var current = end < 0 ? rest : rest[..end];
                if (!Utf8.IsValid(current))
                    throw new ImportException(path, line, "not valid UTF-8");
                rest = rest[(end + 1)..];
                line++;
            }
        }
        var text = Strict.GetString(span);
        var nul = text.IndexOf('\0', StringComparison.Ordinal);
        if (nul >= 0)
            throw new ImportException(path, 1 + text.AsSpan(0, nul).Count('\n'), NulReason);
        return text;
    }

    private const string NulReason = "contains a NUL character (U+0000), which PostgreSQL text cannot store";

    /// <summary>A value decoded from an escape (JSON's <c>\u0000</c>) can still carry a NUL; refused like a raw one.</summary>
    public static string? Storable(string path, long line, string field, string? value) =>
        value is null || !value.Contains('\0', StringComparison.Ordinal) ? value : throw new ImportException(path, line, $"{field} {NulReason}");

    public static string Required(string path, long line, string field, string? value)
    {
        value = value?.Trim();
        return string.IsNullOrEmpty(value) ? throw new ImportException(path, line, $"{field} is empty") : value;
    }

    public static float? OptionalFloat(string path, long line, string field, string? value, float min, float max)
    {
        if (string.IsNullOrWhiteSpace(value))
            return null;
        if (!float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) || !float.IsFinite(f))
            throw new ImportException(path, line, $"{field} '{value}' is not a number");
        if (f < min || f > max)
            throw new ImportException(path, line, $"{field} {value} is outside {min.ToString(CultureInfo.InvariantCulture)}..{max.ToString(CultureInfo.InvariantCulture)}");
        return f;
    }

    /// <summary>A number, whatever its size: the range an item's field must be in is <see cref="CatalogRules"/>' to say.</summary>
    public static float? OptionalFloat(string path, long line, string field, string? value) =>
        OptionalFloat(path, line, field, value, float.MinValue, float.MaxValue);

    /// <summary>A level as written; whether it is in range is <see cref="CatalogRules"/>' to say.</summary>
    public static short? OptionalLevel(string path, long line, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            return null;
        return short.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var level)
            ? level
            : throw new ImportException(path, line, $"level '{value}' is not a whole number");
    }

    /// <summary>Unix seconds, or an ISO 8601 date or date-time (UTC unless it says otherwise).</summary>
    public static DateTimeOffset Timestamp(string path, long line, string field, string? value)
    {
        value = Required(path, line, field, value);
        if (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds))
        {
            // 20200102 is both a compact date and a time in 1970; guessing either silently misplaces every event.
            if (value.Trim().TrimStart('+').Length == 8
                && DateTime.TryParseExact(value.Trim().TrimStart('+'), "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var compact))
                throw new ImportException(path, line, $"{field} {value} is ambiguous: the date {compact:yyyy-MM-dd} or unix seconds "
                    + $"({DateTimeOffset.FromUnixTimeSeconds(seconds):yyyy-MM-dd HH:mm:ss}Z); write an ISO 8601 date such as {compact:yyyy-MM-dd}");
            return seconds is >= 0 and <= 253402300799
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : throw new ImportException(path, line, $"{field} {value} is out of range");
        }
        return CatalogRules.TryParseIso(value, out var at)
            ? at
            : throw new ImportException(path, line, $"{field} '{value}' is neither unix seconds nor ISO 8601: write a date such as 2024-04-02 "
                + "or a date-time such as 2024-04-02T10:00:00Z (seconds, a fraction and an offset such as +01:00 are optional)");
    }

    public static DateTimeOffset? OptionalTimestamp(string path, long line, string field, string? value) =>
        string.IsNullOrWhiteSpace(value) ? null : Timestamp(path, line, field, value);

    public static string[] Topics(string? value) =>
        string.IsNullOrWhiteSpace(value)
            ? []
            : value.Split('|', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToArray();
}
