using Recommender.Core.Objectives;

namespace Recommender.Core.Ranking;

/// <summary>
/// A reader's provenance settings as the ranking applies them. <see cref="OnlyVerified"/> keeps verified items only;
/// <see cref="CountVerification"/> makes the credibility floor count signatures: an item whose signature does not check
/// out counts as credibility 0, and an unrated source's item passes only when verified (unrated and unsigned counts as 0).
/// </summary>
public readonly record struct ProvenanceRule(bool OnlyVerified, bool CountVerification)
{
    public static ProvenanceRule None => default;

    /// <summary>The rule from resolved parameters; settings an objective does not have are off.</summary>
    public static ProvenanceRule From(ObjectiveParameters resolved)
    {
        ArgumentNullException.ThrowIfNull(resolved);
        return new(resolved.GetBoolean(CommonParameters.OnlyVerifiedSources), resolved.GetBoolean(CommonParameters.FloorCountsVerification));
    }

    /// <summary>The credibility the floor compares, or null for an item the floor lets through unrated.</summary>
    public double? FloorCredibility(ItemInfo item)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (!CountVerification)
            return item.Credibility;
        if (item.Provenance?.State == ProvenanceStates.Invalid)
            return 0;
        return item.Credibility ?? (item.IsVerified ? null : 0);
    }
}
