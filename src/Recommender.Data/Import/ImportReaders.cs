using System.Globalization;
using System.Text.Json;
using CsvHelper;
using CsvHelper.Configuration;
using Recommender.Core;
using static Recommender.Data.Import.ImportFiles;

namespace Recommender.Data.Import;

/// <summary>
/// Reads import files into an <see cref="ImportBatch"/>, checking every row. Nothing touches the database here,
/// so a bad row stops the import before anything is written.
/// </summary>
public static class ImportReaders
{
    /// <summary>
    /// MovieTweetings: <c>movies.dat</c> (<c>id::Title (Year)::Genre|Genre</c>) and <c>ratings.dat</c>
    /// (<c>user::movie::rating::unix_time</c>). Genres become topics, ratings become rating events (0..10).
    /// </summary>
    public static ImportBatch MovieTweetings(string directory)
    {
        RequireDirectory(directory);
        var moviesPath = RequireFile(directory, "movies.dat");
        var ratingsPath = RequireFile(directory, "ratings.dat");
        var batch = new ImportBatch { ItemsFile = moviesPath, EventsFile = ratingsPath };

        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        ForEachLine(ReadUtf8(moviesPath), (line, text) =>
        {
            var first = text.IndexOf("::", StringComparison.Ordinal);
            var last = text.LastIndexOf("::", StringComparison.Ordinal);
            if (first < 0 || last == first)
                throw new ImportException(moviesPath, line, "expected 3 fields 'id::title::genres'");
            var id = Required(moviesPath, line, "movie id", text[..first]);
            if (!seen.TryAdd(id, line))
                throw new ImportException(moviesPath, line, $"movie id {id} already appeared on line {seen[id]}");
            var title = Required(moviesPath, line, "title", text[(first + 2)..last]);
            batch.Items.Add(new ItemRow(line, id, title, $"https://www.imdb.com/title/tt{id}/", null,
                YearInTitle(title), null, null, null, Topics(text[(last + 2)..]), Absent: NotInMovieTweetings));
        });

        ForEachLine(ReadUtf8(ratingsPath), (line, text) =>
        {
            var parts = text.Split("::");
            if (parts.Length != 4)
                throw new ImportException(ratingsPath, line, $"expected 4 fields 'user::movie::rating::time', found {parts.Length}");
            var rating = OptionalFloat(ratingsPath, line, "rating", parts[2], ImportBatch.MinRating, ImportBatch.MaxRating)
                ?? throw new ImportException(ratingsPath, line, "rating is empty");
            var at = Timestamp(ratingsPath, line, "timestamp", parts[3]);
            var item = Required(ratingsPath, line, "movie id", parts[1]);
            batch.Events.Add(new EventRow(line, Required(ratingsPath, line, "user id", parts[0]), item, EventKind.Rating, rating, at,
                ImportBatch.DerivedKey(EventKind.Rating, item, at)));
        });
        return batch;
    }

    /// <summary>What movies.dat does not say about a film, and a re-import leaves as it is.</summary>
    private static readonly string[] NotInMovieTweetings = [.. ItemRow.OptionalColumns.Except(["url", "published_at", "topics"])];

    /// <summary>What the generic files have no column for, and an import of them leaves as it is.</summary>
    private static readonly string[] NotInGenericFiles = ["asked_by", "license"];

    /// <summary>
    /// The generic format (docs/cli.md "Import your own catalog"): <c>topics.csv</c>, <c>sources.csv</c>, <c>items.csv</c>
    /// or <c>items.jsonl</c>, and <c>events.csv</c>, each optional but one of them needed. The synthetic generator's output
    /// is this format with <c>ratings.csv</c> for its events.
    /// </summary>
    public static ImportBatch Directory(string directory, string eventsFileName = "events.csv", bool refusesMisspeltTopics = true)
    {
        RequireDirectory(directory);
        var csvItems = Path.Combine(directory, "items.csv");
        var jsonItems = Path.Combine(directory, "items.jsonl");
        // Two files for one thing would leave one of them silently unread; which one is meant is the user's to say.
        if (File.Exists(csvItems) && File.Exists(jsonItems))
            throw new InvalidDataException($"{directory}: both items.csv and items.jsonl are here; items come from one of them, so remove or rename the other");
        var itemsPath = File.Exists(csvItems) ? csvItems : File.Exists(jsonItems) ? jsonItems : null;
        var sourcesPath = Path.Combine(directory, "sources.csv");
        var eventsPath = Path.Combine(directory, eventsFileName);
        var jsonEvents = Path.Combine(directory, "events.jsonl");
        if (File.Exists(jsonEvents))
            throw new InvalidDataException(File.Exists(eventsPath)
                ? $"{directory}: both {eventsFileName} and events.jsonl are here; events are read from {eventsFileName} only, so remove or rename events.jsonl"
                : $"{directory}: events.jsonl is not read; events are read from {eventsFileName}");
        var topicsPath = Path.Combine(directory, "topics.csv");
        // topics.csv or sources.csv alone is a catalog's frame, set up before its items arrive through the platform API,
        // which takes only topics the catalog has.
        if (itemsPath is null && !File.Exists(eventsPath) && !File.Exists(topicsPath) && !File.Exists(sourcesPath))
            throw new FileNotFoundException($"{directory}: found none of topics.csv, sources.csv, items.csv, items.jsonl or {eventsFileName}");

        var batch = new ImportBatch
        {
            TopicsFile = topicsPath,
            SourcesFile = sourcesPath,
            ItemsFile = itemsPath ?? csvItems,
            EventsFile = eventsPath,
            RefusesMisspeltTopics = refusesMisspeltTopics,
        };
        if (File.Exists(topicsPath))
            ReadTopics(topicsPath, batch);
        if (File.Exists(sourcesPath))
            ReadSources(sourcesPath, batch);
        if (itemsPath == csvItems)
            ReadItemsCsv(csvItems, batch);
        else if (itemsPath == jsonItems)
            ReadItemsJsonl(jsonItems, batch);
        if (File.Exists(eventsPath))
            ReadEvents(eventsPath, batch);
        return batch;
    }

    /// <summary>
    /// The synthetic generator's output: the generic format with <c>ratings.csv</c> for its events. It always writes
    /// <see cref="SyntheticFiles"/>, so a folder without one of them is not its output (or not all of it), and is refused
    /// naming the file rather than imported in part: without ratings.csv, say, an import would add items and no event.
    /// </summary>
    public static ImportBatch Synthetic(string directory)
    {
        RequireDirectory(directory);
        foreach (var name in SyntheticFiles)
        {
            if (!File.Exists(Path.Combine(directory, name)))
                throw new FileNotFoundException($"{Path.Combine(directory, name)}: no such file (synthetic data is {string.Join(", ", SyntheticFiles)})");
        }
        // The generator's topics are its own vocabulary, not typed by a person.
        return Directory(directory, "ratings.csv", refusesMisspeltTopics: false);
    }

    /// <summary>The files the synthetic generator writes, every one of which <see cref="Synthetic"/> reads.</summary>
    public static IReadOnlyList<string> SyntheticFiles { get; } = ["items.csv", "sources.csv", "ratings.csv"];

    /// <summary>
    /// <c>topics.csv</c>: <c>topic,parent</c>, an empty parent making the topic a subject of its own, and an optional
    /// <c>title</c>: the name people read. A file without the title column keeps the stored titles; an empty one clears it.
    /// </summary>
    private static void ReadTopics(string path, ImportBatch batch)
    {
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        ReadCsv(path, ["topic", "parent"], (line, get) =>
        {
            var name = Required(path, line, "topic", get("topic"));
            if (!seen.TryAdd(name, line))
                throw new ImportException(path, line, $"topic {name} already appeared on line {seen[name]}");
            var parent = NullIfEmpty(get("parent"));
            if (parent == name)
                throw new ImportException(path, line, $"topic {name} cannot be its own parent");
            var title = get("title");
            if (title?.Trim() is { Length: > CatalogRules.MaxTopicTitleLength })
                throw new ImportException(path, line, $"title: at most {CatalogRules.MaxTopicTitleLength} characters");
            batch.Topics.Add(new TopicRow(line, name, parent, NullIfEmpty(title), TitleAbsent: title is null));
        });
    }

    private static void ReadSources(string path, ImportBatch batch)
    {
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        ReadCsv(path, ["source_id", "name"], (line, get) =>
        {
            var id = Required(path, line, "source_id", get("source_id"));
            if (!seen.TryAdd(id, line))
                throw new ImportException(path, line, $"source_id {id} already appeared on line {seen[id]}");
            // What a source may be (CatalogRules) is checked once for every way in, when the batch is imported.
            batch.Sources.Add(new SourceRow(line, id, Required(path, line, "name", get("name")),
                OptionalFloat(path, line, "credibility", get("credibility")), NullIfEmpty(get("url")), NullIfEmpty(get("credibility_basis")),
                NullIfEmpty(get("public_key")), [.. SourceRow.OptionalColumns.Where(c => get(c) is null)]));
        });
    }

    private static void ReadItemsCsv(string path, ImportBatch batch)
    {
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        ReadCsv(path, ["item_id", "title"], (line, get) =>
            batch.Items.Add(ItemFrom(path, line, get, get("topics") is { } t ? Topics(t) : null, seen)));
    }

    /// <summary>
    /// The items of an <c>items.jsonl</c> file as an import reads them, each with its line's text (for <c>provenance sign</c>
    /// and <c>verify</c>); a line the import would refuse, by its reading or by <see cref="CatalogRules"/>, is an
    /// <see cref="ImportException"/> here too, so nothing is signed that the catalog will not take.
    /// </summary>
    public static IReadOnlyList<(ItemRow Item, string Text)> ItemsJsonl(string path)
    {
        var texts = new Dictionary<long, string>();
        ForEachLine(ReadUtf8(path), (line, text) => texts[line] = text);
        var batch = new ImportBatch { ItemsFile = path };
        ReadItemsJsonl(path, batch);
        CatalogRules.Check(batch, DateTimeOffset.UtcNow);
        return [.. batch.Items.Select(i => (i, texts[i.Line]))];
    }

    private static void ReadItemsJsonl(string path, ImportBatch batch)
    {
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        ForEachLine(ReadUtf8(path), (line, text) =>
        {
            JsonElement root;
            try
            {
                using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 8 });
                root = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                // System.Text.Json ends its message with its position ("LineNumber: 0 | BytePositionInLine: 40"), zero-based and
                // counted within this one line; say the character instead, after the file:line that locates the row.
                var at = e.Message.IndexOf(" LineNumber:", StringComparison.Ordinal);
                var reason = (at >= 0 ? e.Message[..at] : e.Message).TrimEnd('.');
                throw new ImportException(path, line, e.BytePositionInLine is { } position
                    ? string.Create(CultureInfo.InvariantCulture, $"not a JSON object: {reason} (at byte {position + 1} of the line)")
                    : $"not a JSON object: {reason}");
            }
            if (root.ValueKind != JsonValueKind.Object)
                throw new ImportException(path, line, "not a JSON object");
            // A property left out is a column left out (null); a property set to null is an empty field.
            string? Get(string name) => root.TryGetProperty(name, out var v) ? v.ValueKind switch
            {
                JsonValueKind.String => Storable(path, line, name, v.GetString()),
                JsonValueKind.Number => v.GetRawText(),
                JsonValueKind.Null => "",
                _ => throw new ImportException(path, line, $"{name} must be a string or a number"),
            } : null;
            string[]? topics = null;
            if (root.TryGetProperty("topics", out var t))
            {
                topics = t.ValueKind switch
                {
                    JsonValueKind.Array => t.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String
                        ? Storable(path, line, "topics", e.GetString())!.Trim()
                        : throw new ImportException(path, line, "topics must hold strings")).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).ToArray(),
                    JsonValueKind.Null => [],
                    // Not split on '|' as items.csv is: JSON has arrays, the REST API refuses a string here too, and a
                    // topic holding a '|' would otherwise become two.
                    _ => throw new ImportException(path, line, "topics must be an array of strings"),
                };
            }
            batch.Items.Add(ItemFrom(path, line, Get, topics, seen));
        });
    }

    /// <summary>An item row; <paramref name="get"/> answers null, and <paramref name="topics"/> is null, for a column the row leaves out.</summary>
    private static ItemRow ItemFrom(string path, long line, Func<string, string?> get, string[]? topics, Dictionary<string, long> seen)
    {
        var id = Required(path, line, "item_id", get("item_id"));
        if (!seen.TryAdd(id, line))
            throw new ImportException(path, line, $"item_id {id} already appeared on line {seen[id]}");
        var source = get("source_id");
        // A signature is read as one here; the rest of what the catalog accepts (CatalogRules) is checked once for every
        // way in, when the batch is imported.
        var signature = Checked(path, line, "signature", get("signature"), PublisherKeys.ParseSignature, PublisherKeys.SignatureRule);
        // A column left out keeps what is stored, except under a signature: it vouches for every column it covers, as the row states them.
        string[] absent = [.. ItemRow.OptionalColumns.Where(c => NotInGenericFiles.Contains(c) || (c == "topics" ? topics is null : get(c) is null))
            .Where(c => signature is null || !ItemRow.SignedColumns.Contains(c))];
        return new ItemRow(line, id, Required(path, line, "title", get("title")),
            NullIfEmpty(get("url")), NullIfEmpty(get("summary")),
            OptionalTimestamp(path, line, "published_at", get("published_at")),
            OptionalLevel(path, line, get("level")),
            string.IsNullOrWhiteSpace(source) ? null : source.Trim(),
            OptionalFloat(path, line, "stance", get("stance")),
            topics ?? [], NullIfEmpty(get("level_basis")), NullIfEmpty(get("body")),
            Signature: signature, Absent: absent);
    }

    /// <summary>A key or signature in base64, refused at its line when it is not one; blank means none.</summary>
    private static string? Checked(string path, long line, string column, string? value, Func<string, byte[]?> parse, string rule) =>
        NullIfEmpty(value) is not { } text ? null
        : parse(text) is not null ? text
        : throw new ImportException(path, line, $"{column} {rule}");

    private static string Given(Dictionary<(string, string), (long Line, string Item, EventKind Kind, float? Value)> given, string path, long line, string user, string key,
        (long Line, string Item, EventKind Kind, float? Value) e)
    {
        if (!given.TryAdd((user, key), e) && given[(user, key)] is var first && (first.Item, first.Kind, first.Value) != (e.Item, e.Kind, e.Value))
            throw new ImportException(path, line, $"idempotency_key '{key}' already used on line {first.Line} for a different event");
        return key;
    }

    private static void ReadEvents(string path, ImportBatch batch)
    {
        // A key given twice for different events would keep only the first; the time is not compared, as over REST.
        var given = new Dictionary<(string User, string Key), (long Line, string Item, EventKind Kind, float? Value)>();
        // Two shapes: the full one (kind, value, occurred_at) and the ratings one (rating, timestamp).
        ReadCsv(path, ["user_id", "item_id"], oneOf: [["kind", "rating"], ["occurred_at", "timestamp"]], row: (line, get) =>
        {
            var user = Required(path, line, "user_id", get("user_id"));
            var item = Required(path, line, "item_id", get("item_id"));
            var kindName = get("kind");
            EventKind kind;
            float? value;
            if (kindName is null)
            {
                kind = EventKind.Rating;
                value = OptionalFloat(path, line, "rating", get("rating"), ImportBatch.MinRating, ImportBatch.MaxRating)
                    ?? throw new ImportException(path, line, "rating is empty");
            }
            else
            {
                if (!EventKinds.TryParse(kindName.Trim(), out kind))
                    throw new ImportException(path, line, $"kind '{kindName}' is not one of {string.Join(", ", EventKinds.All)}");
                value = kind == EventKind.Rating
                    ? OptionalFloat(path, line, "value", get("value"), ImportBatch.MinRating, ImportBatch.MaxRating)
                        ?? throw new ImportException(path, line, "a rating needs a value")
                    : OptionalFloat(path, line, "value", get("value"), -1e6f, 1e6f);
            }
            var at = Timestamp(path, line, "occurred_at", get("occurred_at") ?? get("timestamp"));
            var key = NullIfEmpty(get("idempotency_key")) is { } own
                ? Given(given, path, line, user, own, (line, item, kind, value))
                : ImportBatch.DerivedKey(kind, item, at);
            batch.Events.Add(new EventRow(line, user, item, kind, value, at, key));
        });
    }

    /// <summary>
    /// Header-driven CSV: columns are found by name, unknown columns are ignored, every row must have the header's width.
    /// Each group in <paramref name="oneOf"/> needs at least one of its columns. Quotes must be balanced: an unclosed
    /// quote would otherwise swallow the rest of the file into one field, and a stray one inside an unquoted field is
    /// refused rather than guessed at.
    /// </summary>
    private static void ReadCsv(string path, string[] requiredColumns, Action<long, Func<string, string?>> row, string[][]? oneOf = null)
    {
        var text = ReadUtf8(path);
        var lines = new LineIndex(text);
        var config = new CsvConfiguration(CultureInfo.InvariantCulture) { BadDataFound = null };
        using var parser = new CsvParser(new StringReader(text), config);
        // The line a record starts on, from its position in the text: a quoted field may span lines.
        long RecordLine()
        {
            var raw = parser.RawRecord;
            var start = parser.CharCount - raw.Length + (raw.Length - raw.TrimStart('\r', '\n').Length);
            return lines.LineOf(start);
        }
        void CheckQuotes()
        {
            if (QuoteProblem(parser.RawRecord) is { } problem)
                throw new ImportException(path, RecordLine(), problem);
        }
        if (!parser.Read())
            throw new ImportException(path, 1, "the file is empty; expected a header line");
        CheckQuotes();
        var header = parser.Record!.Select(h => h.Trim().ToLowerInvariant()).ToArray();
        foreach (var column in requiredColumns.Concat((oneOf ?? []).Where(g => !g.Any(header.Contains)).Select(g => g[0])))
        {
            if (Array.IndexOf(header, column) < 0)
                throw new ImportException(path, 1, $"the header has no '{column}' column (it has: {string.Join(", ", header)})");
        }
        var index = header.Select((name, i) => (name, i)).GroupBy(p => p.name).ToDictionary(g => g.Key, g => g.First().i, StringComparer.Ordinal);
        while (parser.Read())
        {
            CheckQuotes();
            var line = RecordLine();
            var record = parser.Record!;
            if (record.Length == 1 && record[0].Length == 0)
                continue;
            if (record.Length != header.Length)
                throw new ImportException(path, line, $"expected {header.Length} columns, found {record.Length}");
            row(line, name => index.TryGetValue(name, out var i) ? record[i] : null);
        }
    }

    /// <summary>What is wrong with the quoting of one raw CSV record, if anything (RFC 4180: a quote opens a field or is doubled inside one).</summary>
    private static string? QuoteProblem(string raw)
    {
        var quoted = false;
        var fieldStart = true;
        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (quoted)
            {
                if (c != '"')
                    continue;
                if (i + 1 < raw.Length && raw[i + 1] == '"')
                {
                    i++;
                    continue;
                }
                quoted = false;
                if (i + 1 < raw.Length && raw[i + 1] is not (',' or '\r' or '\n'))
                    return "text after a closing quote; quote the whole field and double any quote in it";
            }
            else if (c == '"')
            {
                if (!fieldStart)
                    return "a quote inside an unquoted field; quote the whole field and double any quote in it";
                quoted = true;
            }
            fieldStart = c is ',' or '\n' or '\r' && !quoted;
        }
        return quoted ? "a quoted field is never closed (unbalanced quote)" : null;
    }

    /// <summary>Line numbers (from 1) of character positions in a text, asked in increasing order: one pass over the text in all.</summary>
    private sealed class LineIndex(string text)
    {
        private int _position;
        private long _line = 1;

        public long LineOf(long position)
        {
            var end = (int)Math.Min(position, text.Length);
            if (end < _position)
            {
                (_position, _line) = (0, 1);
            }
            _line += text.AsSpan(_position, end - _position).Count('\n');
            _position = end;
            return _line;
        }
    }

    private static void ForEachLine(string text, Action<long, string> action)
    {
        var line = 0L;
        foreach (var raw in text.AsSpan().EnumerateLines())
        {
            line++;
            if (raw.IsWhiteSpace())
                continue;
            action(line, raw.ToString());
        }
    }

    /// <summary>A folder given to read from: a missing one, or a file given in its place, is named as such.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder is missing or is a file; the message starts with the path.</exception>
    public static void RequireDirectory(string directory)
    {
        if (File.Exists(directory))
            throw new DirectoryNotFoundException($"{directory}: is a file, not a folder; give the folder that holds the files");
        if (!System.IO.Directory.Exists(directory))
            throw new DirectoryNotFoundException($"{directory}: no such directory");
    }

    private static string RequireFile(string directory, string name)
    {
        var path = Path.Combine(directory, name);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path}: no such file");
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static DateTimeOffset? YearInTitle(string title)
    {
        // "Title (1994)" → 1994-01-01: MovieTweetings has no release date, and recency matters to some objectives.
        // A year the catalog refuses as a date (an 1898 short is in the data) leaves the date unknown rather than failing the import.
        var open = title.LastIndexOf('(');
        return open >= 0 && title.Length - open == 6 && title[^1] == ')' &&
               int.TryParse(title.AsSpan(open + 1, 4), NumberStyles.None, CultureInfo.InvariantCulture, out var year) && year >= 1
               && new DateTimeOffset(year, 1, 1, 0, 0, 0, TimeSpan.Zero) is var published && CatalogRules.InstantProblem(published) is null
            ? published
            : null;
    }
}
