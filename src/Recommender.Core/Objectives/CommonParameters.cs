namespace Recommender.Core.Objectives;

/// <summary>Parameters several objectives share, so they are named and explained the same way everywhere.</summary>
public static class CommonParameters
{
    public const string CredibilityFloor = "credibility_floor";
    public const string Topics = "topics";
    public const string CredibilityWeight = "credibility_weight";
    public const string PopularityWeight = "popularity_weight";

    /// <summary>
    /// Default weight of the popularity prior next to the model's score (see <see cref="Ranking.RankingMath.EngagementRelevance"/>)
    /// for objectives that do not choose their own (engagement does: <see cref="EngagementObjective.DefaultPopularityWeight"/>).
    /// </summary>
    public const double DefaultPopularityWeight = 1.0;

    public const string PriorShrinkage = "prior_shrinkage";

    /// <summary>Default shrinkage: a user with 4 items weighs the prior 5×, one with 200 items about 1.1×.</summary>
    public const double DefaultPriorShrinkage = 20;

    public static ParameterSpec PriorShrinkageSpec(double defaultValue = DefaultPriorShrinkage) => new(
        PriorShrinkage, ParameterType.Number, defaultValue,
        "How much more the popularity prior counts while your history is short (it fades as you read more).", 0, 100);

    public static ParameterSpec PopularityWeightSpec(double defaultValue = DefaultPopularityWeight) => new(
        PopularityWeight, ParameterType.Number, defaultValue,
        "How much what many people like right now counts next to your own tastes.", 0, 5);

    public static ParameterSpec CredibilityFloorSpec(double defaultValue) => new(
        CredibilityFloor, ParameterType.Number, defaultValue,
        "Never show items from sources rated below this credibility (0 = show everything).", 0, 1);

    public static ParameterSpec TopicsSpec() => new(
        Topics, ParameterType.TextList, Array.Empty<string>(),
        "Topics you want to focus on. Empty means the topics you already read about.");

    public static ParameterSpec CredibilityWeightSpec(double defaultValue) => new(
        CredibilityWeight, ParameterType.Number, defaultValue,
        "How much more to favour well-sourced items above the floor.", 0, 2);

    public const string OnlyVerifiedSources = "only_verified_sources";

    public const string FloorCountsVerification = "floor_counts_verification";

    public static ParameterSpec OnlyVerifiedSourcesSpec() => new(
        OnlyVerifiedSources, ParameterType.Boolean, false,
        "Show only items their publisher signed, with a signature that checks out (marked \u201csignature verified\u201d on the card).");

    public static ParameterSpec FloorCountsVerificationSpec() => new(
        FloorCountsVerification, ParameterType.Boolean, false,
        "Let the credibility floor count signatures: an item whose signature does not check out counts as credibility 0, and an item from an unrated source passes only if its publisher signed it.");
}
