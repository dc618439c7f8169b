using Npgsql;
using NpgsqlTypes;

namespace Recommender.Data;

/// <summary>Bulk writes through Npgsql's binary COPY: one place that opens, fills and completes the importer.</summary>
internal static class BinaryCopy
{
    /// <summary>Runs <paramref name="copy"/> (a <c>copy … from stdin (format binary)</c> command) over the rows.</summary>
    public static async Task WriteAsync<T>(NpgsqlConnection conn, string copy, IEnumerable<T> rows,
        Action<NpgsqlBinaryImporter, T> writeRow, CancellationToken ct)
    {
        await using var writer = await conn.BeginBinaryImportAsync(copy, ct);
        foreach (var row in rows)
        {
            writer.StartRow();
            writeRow(writer, row);
        }
        await writer.CompleteAsync(ct);
    }

    public static void WriteOrNull<T>(this NpgsqlBinaryImporter writer, T? value, NpgsqlDbType type) where T : struct
    {
        if (value is { } v)
            writer.Write(v, type);
        else
            writer.WriteNull();
    }

    public static void WriteOrNull<T>(this NpgsqlBinaryImporter writer, T? value, NpgsqlDbType type) where T : class
    {
        if (value is null)
            writer.WriteNull();
        else
            writer.Write(value, type);
    }
}
