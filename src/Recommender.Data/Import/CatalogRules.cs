using System.Globalization;
using System.Text.Json;
using Recommender.Core;

namespace Recommender.Data.Import;

/// <summary>
/// What an item, a source or an event must be to be stored, however it arrives: the platform API, the personal API, an import
/// file or a demo data set. Fields are named as the API spells them (<c>publishedAt</c>); an import names the column
/// instead (<see cref="Column"/>), with its file and line.
/// </summary>
public static class CatalogRules
{
    public const int MaxIdLength = 200;
    public const int MaxTitleLength = 1000;

    /// <summary>A topic's title is a name on a chip and in a sentence.</summary>
    public const int MaxTopicTitleLength = 100;
    public const int MaxNameLength = 200;
    public const int MaxBasisLength = 1000;

    /// <summary>A summary is a few paragraphs shown beside the title.</summary>
    public const int MaxSummaryLength = 10_000;

    /// <summary>A body is a whole post (a Stack Exchange question or answer is at most 30,000 characters of Markdown, more as HTML).</summary>
    public const int MaxBodyLength = 200_000;
    public const int MaxTopics = 50;
    public const int MaxTopicLength = 100;
    public const short MinLevel = 1, MaxLevel = 5;

    /// <summary>The largest magnitude of an event's value other than a rating.</summary>
    public const double MaxEventValue = 1e6;

    /// <summary>The earliest instant accepted anywhere (1900-01-01 UTC): older than any catalog item, far from <see cref="DateTimeOffset.MinValue"/>.</summary>
    public static DateTimeOffset EarliestInstant { get; } = new(1900, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The latest instant accepted anywhere (2200-01-01 UTC), far from <see cref="DateTimeOffset.MaxValue"/>.</summary>
    public static DateTimeOffset LatestInstant { get; } = new(2200, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>How far ahead of the receiving clock an event may be stamped: a client's clock may run fast, but not by more.</summary>
    public static TimeSpan ClockSkew { get; } = TimeSpan.FromDays(1);

    /// <summary>Why an id (an item's, a user's, a source's, an idempotency key) is refused, or null.</summary>
    public static string? IdProblem(string? id) =>
        string.IsNullOrWhiteSpace(id) || id.Length > MaxIdLength ? $"is required, at most {MaxIdLength} characters" : null;

    /// <summary>Why an instant is refused, or null when it is absent or between <see cref="EarliestInstant"/> and <see cref="LatestInstant"/>.</summary>
    public static string? InstantProblem(DateTimeOffset? value) =>
        value is { } v && (v < EarliestInstant || v > LatestInstant)
            ? $"must be between {EarliestInstant:yyyy-MM-dd} and {LatestInstant:yyyy-MM-dd}"
            : null;

    /// <summary>Why the time an event happened is refused, or null: from 1970 to <see cref="ClockSkew"/> after <paramref name="now"/>.</summary>
    public static string? OccurredAtProblem(DateTimeOffset? value, DateTimeOffset now) =>
        value is { } v && (v > now + ClockSkew || v < DateTimeOffset.UnixEpoch) ? "must be from 1970 to no more than a day ahead of now" : null;

    /// <summary>Why an event's value is refused, or null: a rating needs one in 0..10; anything else may carry a finite number.</summary>
    public static string? ValueProblem(EventKind kind, double? value) => kind == EventKind.Rating
        ? value is { } r && double.IsFinite(r) && r >= ImportBatch.MinRating && r <= ImportBatch.MaxRating
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"a rating needs a value between {ImportBatch.MinRating} and {ImportBatch.MaxRating}")
        : value is { } v && (!double.IsFinite(v) || Math.Abs(v) > MaxEventValue)
            ? string.Create(CultureInfo.InvariantCulture, $"must be a number between -{MaxEventValue:0} and {MaxEventValue:0}")
            : null;

    /// <summary>Everything wrong with an item, each with the field it is about.</summary>
    public static IEnumerable<(string Field, string Problem)> ItemProblems(ItemRow item)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (IdProblem(item.ExternalId) is { } id)
            yield return ("itemId", id);
        if (string.IsNullOrWhiteSpace(item.Title) || item.Title.Length > MaxTitleLength)
            yield return ("title", $"is required, at most {MaxTitleLength} characters");
        if (item.Url is not null && !WebAddress.IsHttp(item.Url))
            yield return ("url", WebAddress.Rule);
        if (item.Summary?.Length > MaxSummaryLength)
            yield return ("summary", $"at most {MaxSummaryLength} characters");
        if (item.Body?.Length > MaxBodyLength)
            yield return ("body", $"at most {MaxBodyLength} characters");
        if (InstantProblem(item.PublishedAt) is { } published)
            yield return ("publishedAt", published);
        if (item.Level is < MinLevel or > MaxLevel)
            yield return ("level", $"must be between {MinLevel} and {MaxLevel}");
        if (item.SourceExternalId is not null && IdProblem(item.SourceExternalId) is { } source)
            yield return ("sourceId", source);
        if (item.Stance is { } stance && (!float.IsFinite(stance) || stance is < -1 or > 1))
            yield return ("stance", "must be between -1 and 1");
        if (item.Topics.Length > MaxTopics || item.Topics.Any(t => string.IsNullOrWhiteSpace(t) || t.Length > MaxTopicLength))
            yield return ("topics", $"at most {MaxTopics} topics, each 1 to {MaxTopicLength} characters");
        if (item.Signature is not null && PublisherKeys.ParseSignature(item.Signature) is null)
            yield return ("signature", PublisherKeys.SignatureRule);
    }

    /// <summary>Everything wrong with a source, each with the field it is about.</summary>
    public static IEnumerable<(string Field, string Problem)> SourceProblems(SourceRow source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (IdProblem(source.ExternalId) is { } id)
            yield return ("sourceId", id);
        if (string.IsNullOrWhiteSpace(source.Name) || source.Name.Length > MaxNameLength)
            yield return ("name", $"is required, at most {MaxNameLength} characters");
        if (source.Credibility is { } credibility && (!float.IsFinite(credibility) || credibility is < 0 or > 1))
            yield return ("credibility", "must be between 0 and 1");
        if (source.Url is not null && !WebAddress.IsHttp(source.Url))
            yield return ("url", WebAddress.Rule);
        if (source.CredibilityBasis?.Length > MaxBasisLength)
            yield return ("credibilityBasis", $"at most {MaxBasisLength} characters");
        if (source.PublicKey is not null && PublisherKeys.ParsePublicKey(source.PublicKey) is null)
            yield return ("publicKey", PublisherKeys.PublicKeyRule);
    }

    /// <summary>The first thing wrong with an imported event, or null (one check per row of a file that may hold millions).</summary>
    public static (string Field, string Problem)? EventProblem(in EventRow e, DateTimeOffset now) =>
        IdProblem(e.UserExternalId) is { } user ? ("userId", user)
        : IdProblem(e.ItemExternalId) is { } item ? ("itemId", item)
        : ValueProblem(e.Kind, e.Value) is { } value ? ("value", value)
        : OccurredAtProblem(e.OccurredAt, now) is { } at ? ("occurredAt", at)
        : IdProblem(e.IdempotencyKey) is { } key ? ("idempotencyKey", key)
        : null;

    /// <summary>
    /// Stops an import at the first row these rules refuse, with its file, line and column, before anything is
    /// written. Every way into the catalog passes here, so no way in accepts what another refuses.
    /// </summary>
    public static void Check(ImportBatch batch, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(batch);
        foreach (var user in batch.Users)
        {
            if (IdProblem(user.ExternalId) is { } problem)
                throw new ImportException(batch.UsersFile, user.Line, $"{Column("userId")} {problem}");
        }
        foreach (var source in batch.Sources)
        {
            if (SourceProblems(source).FirstOrDefault() is ({ } field, { } problem))
                throw new ImportException(batch.SourcesFile, source.Line, $"{Column(field)} {problem}");
        }
        foreach (var item in batch.Items)
            Checked(batch.ItemsFile, item);
        foreach (var e in batch.Events)
            Checked(batch.EventsFile, e, now);
    }

    /// <summary>The item, or an <see cref="ImportException"/> at its line naming the first column these rules refuse.</summary>
    private static ItemRow Checked(string file, ItemRow item) =>
        ItemProblems(item).FirstOrDefault() is ({ } field, { } problem) ? throw new ImportException(file, item.Line, $"{Column(field)} {problem}") : item;

    /// <summary>The event, or an <see cref="ImportException"/> at its line naming the first column these rules refuse.</summary>
    private static EventRow Checked(string file, in EventRow e, DateTimeOffset now) =>
        EventProblem(e, now) is { } found ? throw new ImportException(file, e.Line, $"{Column(found.Field)} {found.Problem}") : e;

    /// <summary>The import column a field is read from: <c>publishedAt</c> is <c>published_at</c>.</summary>
    public static string Column(string field) => JsonNamingPolicy.SnakeCaseLower.ConvertName(field);

    /// <summary>
    /// An ISO 8601 date or date-time (<see cref="IsoForms"/>), in UTC; false for anything else. Exact forms only: a
    /// culture-aware parse reads 02/04/2024 month-first and silently misdates it. Imports and the API's query times share it.
    /// </summary>
    public static bool TryParseIso(string? value, out DateTimeOffset at)
    {
        var parsed = DateTimeOffset.TryParseExact(value?.Trim(), IsoForms, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out at);
        at = at.ToUniversalTime();
        return parsed;
    }

    /// <summary>
    /// The end of the time <paramref name="text"/> (read as <paramref name="at"/>) names, so that "to 2026-12-06"
    /// includes that day and "to 18:30" that minute: a date a whole day, a time to the minute a minute, a time with
    /// seconds nothing more; an offset (Z, +01:00) is not part of the time. The audit page and <c>recommender audit</c>
    /// read their "to" this way. Past <see cref="LatestInstant"/> it is left as it is, for <see cref="InstantProblem"/> to refuse.
    /// </summary>
    public static DateTimeOffset EndOf(string text, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (at > LatestInstant)
            return at;
        var trimmed = text.Trim();
        var time = trimmed.IndexOfAny(['T', ' ']);
        if (time < 0)
            return at.AddDays(1);
        var clock = trimmed[(time + 1)..].Split('Z', '+', '-')[0];
        return clock.Count(c => c == ':') == 1 ? at.AddMinutes(1) : at;
    }

    /// <summary>ISO 8601 as the API reads it: a date, or a date-time to the minute or second with an optional fraction, then Z, an offset or nothing (UTC).</summary>
    private static readonly string[] IsoForms =
    [
        "yyyy'-'MM'-'dd",
        "yyyy'-'MM'-'dd'T'HH':'mmK",
        "yyyy'-'MM'-'dd'T'HH':'mm':'ssK",
        .. Enumerable.Range(1, 7).Select(digits => $"yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'{new string('f', digits)}K"),
    ];
}
