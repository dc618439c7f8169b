using Recommender.Core;
using Recommender.Core.Evaluation;
using Recommender.Factorization;

namespace Recommender.Data.Import;

/// <summary>
/// Offline evaluation data from a Stack Exchange dump: the same items, topic tree, levels and credibility the import
/// stores, and its activity as implicit feedback (<see cref="ImplicitFeedback"/>), split in time by each pair's first event.
/// </summary>
public static class ActivityEvaluation
{
    /// <summary>True when <paramref name="directory"/> is a Stack Exchange site folder or a folder of them.</summary>
    public static bool IsStackExchange(string directory) =>
        Directory.Exists(directory) && (File.Exists(Path.Combine(directory, "Posts.xml"))
            || Directory.GetDirectories(directory).Any(d => File.Exists(Path.Combine(d, "Posts.xml"))));

    /// <exception cref="InvalidDataException">A file does not parse (the message names file:line), or too little is left after the split.</exception>
    public static EvaluationData LoadStackExchange(string directory, SplitKind kind = SplitKind.Temporal, int seed = 42)
    {
        var batch = Read(() => StackExchangeReader.Read(directory));
        return FromBatch(Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)), batch, kind, seed);
    }

    /// <summary>Reads a batch as an import would; a file that does not parse is bad data to evaluate, named by file:line.</summary>
    private static ImportBatch Read(Func<ImportBatch> read)
    {
        try
        {
            return read();
        }
        catch (ImportException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
    }

    /// <summary>True when <paramref name="directory"/> holds a catalog in the generic import format with its history (<c>events.csv</c>).</summary>
    public static bool IsGeneric(string directory) =>
        File.Exists(Path.Combine(directory, "events.csv"))
        && (File.Exists(Path.Combine(directory, "items.csv")) || File.Exists(Path.Combine(directory, "items.jsonl")));

    /// <summary>
    /// A directory in the generic import format, read as <c>recommender import generic</c> reads it and evaluated as
    /// <c>recommender train</c> would train on it: its ratings when it has enough of them, else its activity.
    /// </summary>
    /// <exception cref="InvalidDataException">A file does not parse (the message names file:line), or too little is left after the split.</exception>
    public static EvaluationData LoadGeneric(string directory, SplitKind kind = SplitKind.Temporal, int seed = 42)
    {
        var batch = Read(() => ImportReaders.Directory(directory));
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(directory));
        var (itemIds, items, parents) = Catalog(batch);
        var ratings = batch.Events.Where(e => e.Kind == EventKind.Rating && e.Value is not null && itemIds.ContainsKey(e.ItemExternalId)).ToList();
        if (ratings.Count < EvaluationData.MinimumRows)
            return FromBatch(name, batch, kind, seed);
        var people = new Dictionary<string, long>(StringComparer.Ordinal);
        var table = RatingTable.FromRows(
            [.. ratings.Select(e => people.TryGetValue(e.UserExternalId, out var u) ? u : people[e.UserExternalId] = people.Count + 1)],
            [.. ratings.Select(e => itemIds[e.ItemExternalId])], [.. ratings.Select(e => e.Value!.Value)],
            [.. ratings.Select(e => e.OccurredAt.ToUnixTimeSeconds())]);
        return EvaluationData.FromRatings(name, table, items, parents, kind, seed);
    }

    /// <summary>Any parsed import: items get ids in file order, people in order of first appearance.</summary>
    public static EvaluationData FromBatch(string name, ImportBatch batch, SplitKind kind = SplitKind.Temporal, int seed = 42)
    {
        var (itemIds, items, parents) = Catalog(batch);
        var people = new Dictionary<string, long>(StringComparer.Ordinal);
        var events = batch.Events
            .Where(e => itemIds.ContainsKey(e.ItemExternalId))
            .Select(e => (people.TryGetValue(e.UserExternalId, out var u) ? u : people[e.UserExternalId] = people.Count + 1,
                itemIds[e.ItemExternalId], e.Kind, e.OccurredAt.ToUnixTimeSeconds()));
        var cells = ImplicitFeedback.Cells(events);
        return EvaluationData.FromActivity(name, cells, items, parents, kind, seed);
    }

    private static (Dictionary<string, long> ItemIds, List<ItemInfo> Items, Dictionary<string, string> TopicParents) Catalog(ImportBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var credibility = batch.Sources.ToDictionary(s => s.ExternalId, s => s.Credibility, StringComparer.Ordinal);
        var itemIds = new Dictionary<string, long>(StringComparer.Ordinal);
        var items = new List<ItemInfo>(batch.Items.Count);
        foreach (var row in batch.Items)
        {
            var id = itemIds[row.ExternalId] = itemIds.Count + 1;
            var cred = row.SourceExternalId is { } source && credibility.TryGetValue(source, out var c) ? c : null;
            items.Add(new ItemInfo(id, row.ExternalId, row.Title, row.Topics, row.Level, row.SourceExternalId, cred, row.Stance, row.PublishedAt));
        }
        var parents = batch.Topics.Where(t => t.Parent is not null).GroupBy(t => t.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last().Parent!, StringComparer.Ordinal);
        return (itemIds, items, parents);
    }
}
