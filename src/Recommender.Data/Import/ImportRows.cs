using Recommender.Core;

namespace Recommender.Data.Import;

/// <summary>A bad row in an import file; the message reads <c>file:line: reason</c>.</summary>
public sealed class ImportException(string file, long line, string reason)
    : Exception($"{file}:{line}: {reason}")
{
    public string File { get; } = file;
    public long Line { get; } = line;
    public string Reason { get; } = reason;
}

/// <summary>
/// A source; <paramref name="CredibilityBasis"/> says in plain words what the credibility rests on. <paramref name="PublicKey"/>
/// (base64 Ed25519) registers a key for the source, retiring its older ones (docs/provenance.md). <paramref name="Absent"/>
/// names the <see cref="OptionalColumns"/> the row does not carry: a stored source keeps its values there (null: the row
/// carries every column, and replaces the source).
/// </summary>
public sealed record SourceRow(long Line, string ExternalId, string Name, float? Credibility, string? Url = null, string? CredibilityBasis = null,
    string? PublicKey = null, string[]? Absent = null)
{
    /// <summary>The columns a row may leave out, named as the import file names them.</summary>
    public static IReadOnlyList<string> OptionalColumns { get; } = ["credibility", "url", "credibility_basis"];
}

/// <summary>A topic and the topic it belongs under (null: a subject of its own).</summary>
/// <summary>A topic of the tree; <paramref name="Title"/> is what people read, and a file without a title column (<paramref name="TitleAbsent"/>) keeps the stored one.</summary>
public sealed record TopicRow(long Line, string Name, string? Parent, string? Title = null, bool TitleAbsent = true);

/// <summary>A person known by a name; people only named by events are called "User &lt;id&gt;".</summary>
public sealed record UserRow(long Line, string ExternalId, string DisplayName);

public sealed record ItemRow(
    long Line,
    string ExternalId,
    string Title,
    string? Url,
    string? Summary,
    DateTimeOffset? PublishedAt,
    short? Level,
    string? SourceExternalId,
    float? Stance,
    string[] Topics,
    string? LevelBasis = null,
    string? Body = null,
    string? AskedBySourceExternalId = null,
    string? License = null,
    string? Signature = null,
    string[]? Absent = null)
{
    /// <summary>
    /// The columns an item row may leave out (<see cref="Absent"/>), named as the import file names them; a stored item
    /// keeps its values there. Null <see cref="Absent"/>: the row carries every column, and replaces the item.
    /// </summary>
    public static IReadOnlyList<string> OptionalColumns { get; } =
        ["url", "summary", "published_at", "level", "source_id", "stance", "topics", "level_basis", "body", "asked_by", "license"];

    /// <summary>The columns a <see cref="Signature"/> covers: a signed row states all of them, so none of them can be absent.</summary>
    public static IReadOnlyList<string> SignedColumns { get; } = ["url", "summary", "published_at", "level", "source_id", "topics"];

    /// <summary>What the publisher's <see cref="Signature"/> (base64 Ed25519, already checked) covers.</summary>
    public SignedContent SignedContent() => new(ExternalId, SourceExternalId, Title, Url, Summary, PublishedAt, Level, Topics);
}

public readonly record struct EventRow(
    long Line,
    string UserExternalId,
    string ItemExternalId,
    EventKind Kind,
    float? Value,
    DateTimeOffset OccurredAt,
    string IdempotencyKey);

/// <summary>Everything one import brings in, already parsed and checked row by row. Files are named for error messages.</summary>
public sealed class ImportBatch
{
    public string TopicsFile { get; init; } = "topics";
    public List<TopicRow> Topics { get; } = [];
    public string UsersFile { get; init; } = "users";
    public List<UserRow> Users { get; } = [];
    public string SourcesFile { get; init; } = "sources";
    public List<SourceRow> Sources { get; } = [];
    public string ItemsFile { get; init; } = "items";
    public List<ItemRow> Items { get; } = [];
    public string EventsFile { get; init; } = "events";
    public List<EventRow> Events { get; } = [];

    /// <summary>
    /// Whether a topic only items name, new to the catalog and a near miss of a known one (<see cref="DidYouMean.Misspelling"/>),
    /// is refused as a likely typo: set for files people write (the generic import), not for a data set's own vocabulary
    /// (MovieTweetings' genres include both Short and Sport).
    /// </summary>
    public bool RefusesMisspeltTopics { get; init; }

    /// <summary>Ratings use one scale everywhere: 0 to 10 (MovieTweetings' own; 1..5 data fits inside it).</summary>
    public const float MinRating = Factorization.RatingTable.MinRating, MaxRating = Factorization.RatingTable.MaxRating;

    /// <summary>A key that makes re-importing the same row a no-op: one kind, item and instant per user.</summary>
    public static string DerivedKey(EventKind kind, string itemExternalId, DateTimeOffset at) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"import:{kind.ToName()}:{itemExternalId}:{at.ToUnixTimeMilliseconds()}");
}

/// <summary>What an import changed in the database; <paramref name="TopicsCreated"/> names each new topic with where it was first named.</summary>
public sealed record ImportResult(int SourcesAdded, int TopicsAdded, int ItemsAdded, int ItemsUpdated, int UsersAdded, long EventsAdded, long RowsRead, TimeSpan Elapsed,
    IReadOnlyList<CreatedTopic>? TopicsCreated = null);

/// <summary>
/// A topic an import created, with the file and line that first named it: a topic file's own line (<paramref name="FromTopicFile"/>),
/// or the first item naming it.
/// </summary>
public sealed record CreatedTopic(string Name, string File, long Line, bool FromTopicFile);

/// <summary>Progress of an import, for a progress bar: a phase, and rows done out of a total in that phase.</summary>
public readonly record struct ImportProgress(string Phase, long Done, long Total);
