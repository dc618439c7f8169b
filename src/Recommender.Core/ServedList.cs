namespace Recommender.Core;

/// <summary>
/// One served item as recorded for the audit log and shown to the user, with its provenance state when it was served
/// (see <see cref="ProvenanceStates"/>). Stored as JSON by <see cref="AuditRecordJson"/>; a score that was not a finite
/// number is stored as null and reads back as <see cref="double.NaN"/>.
/// </summary>
public sealed record ServedItem(int Rank, long ItemId, double Score, IReadOnlyDictionary<string, double> Components, IReadOnlyList<string> Reasons,
    string? Provenance = null);

/// <summary>
/// Everything needed to audit and reproduce a served list: which objective (and version) with which settings
/// (canonical JSON and its SHA-256), which model version, how many candidates were considered, and the items.
/// </summary>
public sealed record ServedList(
    long? UserId,
    string ObjectiveId,
    string ObjectiveVersion,
    string ParametersJson,
    string ParameterHash,
    string ModelVersion,
    int Seed,
    DateTimeOffset ServedAt,
    int CandidatesConsidered,
    IReadOnlyList<ServedItem> Items)
{
    /// <summary>The learned second stage that rescored the candidates (e.g. "reranker v3"); null when MF alone did.</summary>
    public string? RerankerVersion { get; init; }

    /// <summary>The whole record as JSON, e.g. for an export (see <see cref="AuditRecordJson.Write"/>).</summary>
    public string ToJson() => AuditRecordJson.Write(this);

    /// <summary>The items as the audit log stores them (see <see cref="AuditRecordJson.WriteItems"/>).</summary>
    public string ItemsJson() => AuditRecordJson.WriteItems(Items);
}
