using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Recommender.Core;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>
/// A stored list as the REST API and <c>recommender audit --out</c> give it. <c>RerankerVersion</c> names the learned
/// re-ranker that reordered the model's candidates, or is null when the model's scores alone did.
/// </summary>
public sealed record ServedListDto(Guid RequestId, string ObjectiveId, string ObjectiveVersion, string ParametersHash, JsonNode? Parameters,
    int Seed, string ModelVersion, int CandidatesConsidered, IReadOnlyList<ServedItemDto> Items, DateTime CreatedAt, string? RerankerVersion)
{
    /// <summary>The list as it is shown; <paramref name="externalIdOf"/> gives each item's external id (null for one since removed).</summary>
    public static ServedListDto From(ServedListRow r, Func<long, string?> externalIdOf) => new(r.RequestId, r.ObjectiveId, r.ObjectiveVersion, r.ParametersHash,
        JsonNode.Parse(r.ParametersJson), r.Seed, r.ModelVersion, r.CandidatesConsidered, [.. r.ReadItems().Select(i => ServedItemDto.From(i, externalIdOf))],
        r.CreatedAt, r.RerankerVersion);
}

/// <summary>
/// One item of a stored list, named like a feed's items (<c>itemId</c>, and the platform's <c>externalId</c>, null when
/// the item has since left the catalog). Score and components are as recorded: single precision, null when not a finite number.
/// </summary>
public sealed record ServedItemDto(int Rank, long ItemId, string? ExternalId, [property: JsonConverter(typeof(AuditScoreConverter))] double Score,
    [property: JsonConverter(typeof(AuditComponentsConverter))] IReadOnlyDictionary<string, double> Components, IReadOnlyList<string> Reasons,
    string? Provenance)
{
    public static ServedItemDto From(ServedItem i, Func<long, string?> externalIdOf) =>
        new(i.Rank, i.ItemId, externalIdOf(i.ItemId), i.Score, i.Components, i.Reasons, i.Provenance);
}

/// <summary>A served list in an admin's audit search: the record's id (for paging with <c>before</c>), whose it was (our user id), and the list.</summary>
public sealed record AuditRow(long Id, long UserId, ServedListDto List)
{
    /// <summary>The record as GET /api/admin/served/{requestId} answers it; <paramref name="externalIdOf"/> gives each item's external id.</summary>
    public static AuditRow From(ServedListRow row, Func<long, string?> externalIdOf)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new(row.Id, row.UserId, ServedListDto.From(row, externalIdOf));
    }

    /// <summary>
    /// JSON as the REST API writes it (ASP.NET Core's web defaults: camelCase names, nothing left out), for a record
    /// handed on as a file: a download from the audit pages reads byte for byte as the API's answer.
    /// </summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);
}
