using Recommender.Core;
using Recommender.Core.Evaluation;

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
        ImportBatch batch;
        try
        {
            batch = StackExchangeReader.Read(directory);
        }
        catch (ImportException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
        return FromBatch(Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)), batch, kind, seed);
    }

    /// <summary>Any parsed import: items get ids in file order, people in order of first appearance.</summary>
    public static EvaluationData FromBatch(string name, ImportBatch batch, SplitKind kind = SplitKind.Temporal, int seed = 42)
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
        var people = new Dictionary<string, long>(StringComparer.Ordinal);
        var events = batch.Events
            .Where(e => itemIds.ContainsKey(e.ItemExternalId))
            .Select(e => (people.TryGetValue(e.UserExternalId, out var u) ? u : people[e.UserExternalId] = people.Count + 1,
                itemIds[e.ItemExternalId], e.Kind, e.OccurredAt.ToUnixTimeSeconds()));
        var cells = ImplicitFeedback.Cells(events);
        var parents = batch.Topics.Where(t => t.Parent is not null).GroupBy(t => t.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last().Parent!, StringComparer.Ordinal);
        return EvaluationData.FromActivity(name, cells, items, parents, kind, seed);
    }
}
