using Recommender.Data;

namespace Recommender.Serving;

/// <summary>Publishers' signing keys with how many items they verify, and the provenance of the catalog as it stands.</summary>
public sealed record PublisherKeyOverview(IReadOnlyList<PublisherKeyInfo> Keys, ProvenanceCounts Counts);

public enum KeyRevocationOutcome
{
    Revoked,

    /// <summary>No reason, or more than <see cref="PublisherKeyAdministration.MaxReasonLength"/> characters: it is kept with every item the key signed.</summary>
    ReasonMissing,

    /// <summary>No such key, or it is already revoked.</summary>
    NoSuchKey,
}

public sealed record KeyRevocation(KeyRevocationOutcome Outcome, long ItemsNoLongerVerified = 0);

/// <summary>
/// Admins managing publishers' signing keys: listing them and revoking one, always with a reason, which is kept with
/// every item the key verified. The REST API and the publisher keys page revoke through here.
/// </summary>
public sealed class PublisherKeyAdministration(ProvenanceStore store)
{
    public const int MaxReasonLength = 500;

    public static bool IsReason(string? reason) => !string.IsNullOrWhiteSpace(reason) && reason.Length <= MaxReasonLength;

    /// <summary>Each publisher's keys, with how many items each verified and whether, when, by whom and why it was revoked.</summary>
    public Task<IReadOnlyList<PublisherKeyInfo>> ListAsync(CancellationToken ct = default) => store.ListKeysAsync(ct);

    /// <summary>The keys, and how many items are now verified, unsigned or signed by a key that does not match.</summary>
    public async Task<PublisherKeyOverview> OverviewAsync(CancellationToken ct = default) =>
        new(await store.ListKeysAsync(ct), await store.CountAsync(ct));

    /// <summary>Revokes a key: the items it verified show as no longer verified, with <paramref name="reason"/>.</summary>
    public async Task<KeyRevocation> RevokeAsync(string keyId, string revokedBy, string? reason, CancellationToken ct = default)
    {
        if (!IsReason(reason))
            return new(KeyRevocationOutcome.ReasonMissing);
        return await store.RevokeAsync(keyId, revokedBy, reason, ct) is { } items
            ? new(KeyRevocationOutcome.Revoked, items)
            : new(KeyRevocationOutcome.NoSuchKey);
    }
}
