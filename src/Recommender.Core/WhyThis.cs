namespace Recommender.Core;

/// <summary>
/// The "mostly because" part of "why this": the score components that lifted an item most, in words. Each claim is
/// made only where the item's own data (what its card shows) holds it: no "credible source" for a source of unknown
/// or middling credibility, no "a topic you chose" unless the item is in one, no "right level" for an item without a
/// level or one whose level fits poorly, no "what you have enjoyed" for a reader who has enjoyed nothing yet.
/// </summary>
public static class WhyThis
{
    /// <summary>Credibility from which a source is called credible, on the card and in reasons alike.</summary>
    public const double CredibleFrom = 0.7;

    /// <summary>Credibility from which a source counts as mixed rather than low.</summary>
    public const double MixedFrom = 0.4;

    /// <summary>How a source's credibility reads on the card.</summary>
    public static string CredibilityLabel(double? credibility) => credibility switch
    {
        null => "credibility unknown",
        >= CredibleFrom => "credible source",
        >= MixedFrom => "mixed credibility",
        _ => "low credibility",
    };

    /// <summary>
    /// "Its signature checks out against the key registered for …" for an item whose signature was verified against its
    /// source's key, null otherwise: an unsigned item, or one whose signature does not hold, is never said to be signed.
    /// It names the key's source, not a person who signed: a key says who registered it here, not whose hand used it.
    /// </summary>
    public static string? Signed(ItemInfo item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return item.IsVerified
            ? $"Its signature checks out against the key registered for {item.Provenance!.Signer ?? "its source"}: unchanged since it was signed."
            : null;
    }

    /// <summary>
    /// The component of how well an item's difficulty fits the reader, from 0 to 1 (1: the success the goal aims for); the
    /// only one whose reason reads the reader's topics.
    /// </summary>
    public const string LevelFit = "zone_fit";

    /// <summary>
    /// A level fit from which an item's level is said to suit the reader. Below it the fit can still be one of an item's
    /// two strongest parts (on a list where the others are small), but "the right level" would contradict the card's
    /// own figure: at 0.33 the predicted success is 0.16 away from the aim, a challenge or a gentle start.
    /// </summary>
    public const double FitsFrom = 0.5;

    /// <summary>A component lifting an item by less than this share of its strongest one is not named as a reason.</summary>
    public const double NamedFromShare = 0.1;

    /// <summary>An item published at most this long before the list was served may be called recent.</summary>
    public static readonly TimeSpan RecentWithin = TimeSpan.FromDays(30);

    /// <summary>
    /// "Mostly because …" over the two strongest components that the item's data supports, or null when none does. A
    /// component that lifted the item by less than <see cref="NamedFromShare"/> of the strongest one did not make it
    /// "mostly", so it is not named. <paramref name="knownTopics"/> are the topics the reader has shown us something about
    /// (read, answered, marked); on any other topic a level that fits is the one that fits a newcomer, and is called that.
    /// A <paramref name="newItem"/> is one the model has not learned: its relevance is its topic's (<see cref="NewItems"/>).
    /// </summary>
    public static string? MainFactors(IReadOnlyDictionary<string, double> components, ItemInfo item, Catalog catalog, IReadOnlyCollection<string> chosenTopics,
        Taste taste, ObjectiveRegistry objectives, DateTimeOffset now, IReadOnlySet<string>? knownTopics = null, bool newItem = false)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(components);
        ArgumentNullException.ThrowIfNull(item);
        var strongest = components.Values.DefaultIfEmpty(0).Max();
        var named = components.Where(c => c.Value > 0 && c.Value >= NamedFromShare * strongest)
            .OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).ToList();
        // Two goals of a mix are one claim, not the same sentence twice.
        if (named.Count >= 2 && objectives is not null && objectives.TryGet(named[0].Key, out var first) && objectives.TryGet(named[1].Key, out var second))
            return $"Mostly because the \u201c{first.DisplayName}\u201d and \u201c{second.DisplayName}\u201d parts of your mix rank it high.";
        var claims = named
            .Select(c => Claim(c.Key, c.Value, item, catalog, chosenTopics, taste, objectives, now, knownTopics, newItem))
            .OfType<string>().Distinct(StringComparer.Ordinal).Take(2).ToList();
        return claims.Count == 0 ? null : $"Mostly because {string.Join(" and ", claims)}.";
    }

    private static string? Claim(string component, double value, ItemInfo item, Catalog catalog, IReadOnlyCollection<string> chosenTopics, Taste taste,
        ObjectiveRegistry? objectives, DateTimeOffset now, IReadOnlySet<string>? knownTopics, bool newItem) =>
        component switch
        {
            // No one has read a new item: its relevance is its topic's (see NewItems), and no one is known to like it.
            "relevance" when newItem => taste == Taste.None ? null : "items on its topic suit you",
            "popularity" when newItem => null,
            "relevance" => taste switch
            {
                Taste.Enjoyed => "it matches what you have enjoyed",
                Taste.ChosenTopics => "it is like popular items on the topics you chose",
                Taste.Activity => "it is like items you have tried",
                _ => "many people like it",
            },
            LevelFit => item.Level is null || value < FitsFrom ? null
                : knownTopics is not null && item.Topics.Any(knownTopics.Contains) ? "it is at the right level for you"
                : "its level suits someone new to the topic",
            "topic_match" => item.Topics.FirstOrDefault(chosenTopics.Contains) is { } topic ? $"it is about {catalog.Label(topic)}, a topic you chose" : null,
            "novelty" => "it is new to you",
            "credibility" => item.Credibility >= CredibleFrom ? "it comes from a credible source" : null,
            "popularity" => "many people like it",
            "recency" => item.PublishedAt is { } at && now - at <= RecentWithin ? "it is recent" : null,
            "topic_balance" => "it keeps the topics balanced",
            "redundancy" => "it is unlike the items above it",
            // Calibration fills the list towards the widened mix the goal aims at, which may be beyond what the reader reads. It
            // lifts a list's first pick too, where nothing is yet "short", so the claim is about the mix, not what is above.
            "calibration" => item.Topics.Count == 0 ? null : "its topics are in the wider mix this goal aims for",
            "viewpoint" => item.Stance is null ? null : "it brings another viewpoint",
            _ => objectives is not null && objectives.TryGet(component, out var part) ? $"the \u201c{part.DisplayName}\u201d part of your mix ranks it high" : null,
        };
}

/// <summary>What a list's relevance scores were learned from, so that "why this" names it truthfully.</summary>
public enum Taste
{
    /// <summary>Nothing about the reader: relevance is popularity.</summary>
    None,

    /// <summary>What the reader showed a liking for (<see cref="Ranking.RankingMath.HasEnjoyed"/>), or the model's own vector of their history.</summary>
    Enjoyed,

    /// <summary>Only the popular items of the topics the reader chose, standing in for a taste not shown yet.</summary>
    ChosenTopics,

    /// <summary>Only items the reader tried and did not take to (too hard, too easy, a wrong answer), without chosen topics.</summary>
    Activity,
}
