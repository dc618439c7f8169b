using System.Text.Json;

namespace Recommender.Web;

/// <summary>One item of a stored served list: rank, score, the named components it was built from, and its reasons.</summary>
public sealed record AuditedItem(int Rank, long ItemId, double Score, IReadOnlyDictionary<string, double> Components, IReadOnlyList<string> Reasons)
{
    /// <summary>Reads the items column of the audit log.</summary>
    public static IReadOnlyList<AuditedItem> Parse(string itemsJson)
    {
        using var doc = JsonDocument.Parse(itemsJson);
        return [.. doc.RootElement.EnumerateArray().Select(e => new AuditedItem(
            e.GetProperty("rank").GetInt32(),
            e.GetProperty("item_id").GetInt64(),
            e.GetProperty("score").GetDouble(),
            e.TryGetProperty("components", out var c) ? c.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble(), StringComparer.Ordinal) : [],
            e.TryGetProperty("reasons", out var r) ? [.. r.EnumerateArray().Select(x => x.GetString() ?? "")] : []))];
    }
}
