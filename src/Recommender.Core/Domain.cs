namespace Recommender.Core;

/// <summary>What a user did with an item. Stored as its snake_case name (see <see cref="EventKinds"/>).</summary>
public enum EventKind
{
    Impression,
    View,
    Click,
    Rating,
    Complete,
    Like,
    NotInterested,
    Learned,
    TooEasy,
    TooHard,
    QuizCorrect,
    QuizWrong,
    Ask,
    Answer,
    Comment,
    Favourite,
    Edit,
}

/// <summary>Conversions between <see cref="EventKind"/> and the names used in the database, the API and import files.</summary>
public static class EventKinds
{
    private static readonly string[] Names =
    [
        "impression", "view", "click", "rating", "complete", "like", "not_interested",
        "learned", "too_easy", "too_hard", "quiz_correct", "quiz_wrong",
        "ask", "answer", "comment", "favourite", "edit",
    ];

    private static readonly Dictionary<string, EventKind> ByName =
        Names.Select((name, i) => (name, kind: (EventKind)i)).ToDictionary(p => p.name, p => p.kind, StringComparer.Ordinal);

    /// <summary>Every kind's wire name, in enum order.</summary>
    public static IReadOnlyList<string> All => Names;

    public static string ToName(this EventKind kind) => Names[(int)kind];

    public static bool TryParse(string? name, out EventKind kind) => ByName.TryGetValue(name ?? "", out kind);

    /// <summary>Evidence events say how well a learner coped with an item; the learning objective reads them.</summary>
    public static bool IsLearningEvidence(this EventKind kind) =>
        kind is EventKind.Complete or EventKind.Learned or EventKind.TooEasy or EventKind.TooHard
            or EventKind.QuizCorrect or EventKind.QuizWrong;
}

/// <summary>
/// A catalog item as the ranking sees it. <see cref="Level"/> is 1..5, <see cref="Stance"/> -1..1, <see cref="Credibility"/> 0..1;
/// <see cref="Provenance"/> null means unsigned.
/// </summary>
public sealed record ItemInfo(
    long Id,
    string ExternalId,
    string Title,
    IReadOnlyList<string> Topics,
    int? Level,
    string? Source,
    double? Credibility,
    double? Stance,
    DateTimeOffset? PublishedAt,
    ItemAttribution? Attribution = null,
    ItemProvenance? Provenance = null)
{
    /// <summary>True only when the item's signature was checked against a key of its source and holds.</summary>
    public bool IsVerified => Provenance?.IsVerified == true;
}

/// <summary>
/// What a card shows about where an item comes from and what its level and credibility rest on; every field is
/// optional because catalogs differ (a movie has no author). <see cref="Author"/> is the source the credibility is
/// about (for a Q&amp;A item, who wrote the answer shown); <see cref="AskedBy"/> who asked, when that is someone else.
/// </summary>
public sealed record ItemAttribution(
    string? Summary,
    string? Body,
    string? OriginalUrl,
    ItemAuthor? Author,
    ItemAuthor? AskedBy,
    string? Site,
    string? LevelBasis,
    string? License)
{
    /// <summary>Stack Exchange content, whose licence asks for the network to be named beside it.</summary>
    public bool IsStackExchange => OriginalUrl is { } url && Uri.TryCreate(url, UriKind.Absolute, out var u) &&
        u.Host.EndsWith(".stackexchange.com", StringComparison.OrdinalIgnoreCase);
}

/// <summary>A named author with a link to their profile and, when known, the plain-language basis of their credibility.</summary>
public sealed record ItemAuthor(string Name, string? ProfileUrl, string? CredibilityBasis);

/// <summary>One interaction, keyed by database ids.</summary>
public sealed record Interaction(long UserId, long ItemId, EventKind Kind, double? Value, DateTimeOffset OccurredAt);
