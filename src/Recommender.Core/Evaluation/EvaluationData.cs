using System.Globalization;
using System.Text.RegularExpressions;
using Recommender.Factorization;

namespace Recommender.Core.Evaluation;

/// <summary>
/// An offline data set: the global temporal split of its ratings, the item metadata as a <see cref="Catalog"/>
/// (popularity = training interactions), and the threshold at which a rating counts as a positive.
/// </summary>
public sealed partial class EvaluationData
{
    private EvaluationData(string name, RatingSplit split, Catalog catalog, float positiveThreshold, bool hasCredibility)
    {
        Name = name;
        Split = split;
        Catalog = catalog;
        PositiveThreshold = positiveThreshold;
        HasCredibility = hasCredibility;
    }

    public string Name { get; }

    public RatingSplit Split { get; }

    public Catalog Catalog { get; }

    public float PositiveThreshold { get; }

    /// <summary>False for data without source credibility (MovieTweetings): credibility metrics are then not reported.</summary>
    public bool HasCredibility { get; }

    /// <summary>
    /// Loads a directory: synthetic data (<c>ratings.csv</c>, <c>items.csv</c>, <c>sources.csv</c>; positives ≥ 4 of 5)
    /// or MovieTweetings (<c>ratings.dat</c>, <c>movies.dat</c>, genres as topics; positives ≥ 7 of 10).
    /// </summary>
    public static EvaluationData Load(string directory)
    {
        var split = TemporalSplit.Split(RatingTable.Load(directory));
        var popularity = new Dictionary<long, int>();
        var train = split.Train;
        for (var j = 0; j < train.Count; j++)
        {
            var id = train.Items.IdAt(train.ItemIndices[j]);
            popularity[id] = popularity.GetValueOrDefault(id) + 1;
        }
        var itemsCsv = Path.Combine(directory, "items.csv");
        if (File.Exists(itemsCsv))
        {
            var items = LoadSynthetic(itemsCsv, Path.Combine(directory, "sources.csv"));
            return new EvaluationData(Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)), split, new Catalog(items, popularity), 4, true);
        }
        var movies = LoadMovies(Path.Combine(directory, "movies.dat"));
        return new EvaluationData(Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)), split, new Catalog(movies, popularity), 7, false);
    }

    private static List<ItemInfo> LoadSynthetic(string itemsPath, string sourcesPath)
    {
        var credibility = new Dictionary<string, double>(StringComparer.Ordinal);
        if (File.Exists(sourcesPath))
        {
            foreach (var line in File.ReadLines(sourcesPath).Skip(1).Where(l => l.Length > 0))
            {
                var f = line.Split(',');
                credibility[f[0]] = double.Parse(f[2], CultureInfo.InvariantCulture);
            }
        }
        var items = new List<ItemInfo>();
        foreach (var line in File.ReadLines(itemsPath).Skip(1).Where(l => l.Length > 0))
        {
            // item_id,title,topics,level,source_id,stance
            var f = line.Split(',');
            var id = long.Parse(f[0], CultureInfo.InvariantCulture);
            items.Add(new ItemInfo(
                id, f[0], f[1], f[2].Split('|', StringSplitOptions.RemoveEmptyEntries),
                int.TryParse(f[3], CultureInfo.InvariantCulture, out var level) ? level : null,
                f[4], credibility.TryGetValue(f[4], out var c) ? c : null,
                double.TryParse(f[5], CultureInfo.InvariantCulture, out var stance) ? stance : null,
                null));
        }
        return items;
    }

    private static List<ItemInfo> LoadMovies(string path)
    {
        var items = new List<ItemInfo>();
        foreach (var line in File.ReadLines(path).Where(l => l.Length > 0))
        {
            // movie_id::Title (Year)::Genre|Genre
            var f = line.Split("::");
            var year = YearPattern().Match(f[1]);
            DateTimeOffset? published = year.Success ? new DateTimeOffset(int.Parse(year.Groups[1].Value, CultureInfo.InvariantCulture), 1, 1, 0, 0, 0, TimeSpan.Zero) : null;
            var topics = f.Length > 2 ? f[2].Split('|', StringSplitOptions.RemoveEmptyEntries) : [];
            items.Add(new ItemInfo(long.Parse(f[0], CultureInfo.InvariantCulture), f[0], f[1], topics, null, null, null, null, published));
        }
        return items;
    }

    [GeneratedRegex(@"\((\d{4})\)\s*$")]
    private static partial Regex YearPattern();
}
