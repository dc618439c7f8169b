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
    private EvaluationData(string name, RatingSplit split, RatingSplit validation, Catalog catalog, float positiveThreshold, bool hasCredibility, DateTimeOffset lastRating,
        bool implicitStrength = false)
    {
        ImplicitStrength = implicitStrength;
        LastRating = lastRating;
        Name = name;
        Split = split;
        Validation = validation;
        Catalog = catalog;
        PositiveThreshold = positiveThreshold;
        HasCredibility = hasCredibility;
    }

    public string Name { get; }

    /// <summary>Time of the data set's newest rating: the evaluation's default serving clock.</summary>
    public DateTimeOffset LastRating { get; }

    public RatingSplit Split { get; }

    /// <summary>
    /// The same kind of split cut again inside <see cref="Split"/>'s training rows (90/10): what hyperparameters are
    /// chosen on, so the test rows are never looked at before the final measurement.
    /// </summary>
    public RatingSplit Validation { get; }

    public Catalog Catalog { get; }

    public float PositiveThreshold { get; }

    /// <summary>
    /// True when the values are implicit feedback strengths (<see cref="ImplicitFeedback"/>) rather than ratings: every
    /// row is then a positive and the one-class model weighs it by its strength instead of counting it as 1.
    /// </summary>
    public bool ImplicitStrength { get; }

    /// <summary>False for data without source credibility (MovieTweetings): credibility metrics are then not reported.</summary>
    public bool HasCredibility { get; }

    /// <summary>
    /// Loads a directory: synthetic data (<c>ratings.csv</c>, <c>items.csv</c>, <c>sources.csv</c>; positives ≥ 4 of 5)
    /// or MovieTweetings (<c>ratings.dat</c>, <c>movies.dat</c>, genres as topics; positives ≥ 7 of 10), and splits it.
    /// </summary>
    /// <param name="directory">The data set's directory.</param>
    /// <param name="kind">Global temporal split (default), or a random one drawn with <paramref name="seed"/>.</param>
    /// <param name="seed">Seed of the random split; unused by the temporal one.</param>
    /// <exception cref="InvalidDataException">A file cannot be parsed (the message names file:line), or too little is left after the split to evaluate.</exception>
    public static EvaluationData Load(string directory, SplitKind kind = SplitKind.Temporal, int seed = 42)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"{directory}: no such directory.");
        var (split, validation, popularity, lastRating) = SplitTable(RatingTable.Load(directory), directory, kind, seed);
        var itemsCsv = Path.Combine(directory, "items.csv");
        if (File.Exists(itemsCsv))
        {
            var items = LoadSynthetic(itemsCsv, Path.Combine(directory, "sources.csv"));
            return Checked(new EvaluationData(Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)), split, validation, new Catalog(items, popularity), 4, true, lastRating), directory);
        }
        var moviesDat = Path.Combine(directory, "movies.dat");
        if (!File.Exists(moviesDat))
            throw new FileNotFoundException($"No items.csv or movies.dat in {directory}.");
        var movies = LoadMovies(moviesDat);
        return Checked(new EvaluationData(Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)), split, validation, new Catalog(movies, popularity), 7, false, lastRating), directory);
    }

    /// <summary>
    /// Evaluation data from ratings on the product's 0–10 scale (a generic import's <c>rating</c> events), positives at
    /// <see cref="ImplicitFeedback.PositiveRating"/> or more as the ranking model trains on them; the topic tree is kept.
    /// </summary>
    /// <exception cref="InvalidDataException">Too little is left after the split to evaluate.</exception>
    public static EvaluationData FromRatings(string name, RatingTable ratings, IReadOnlyList<ItemInfo> items, IReadOnlyDictionary<string, string> topicParents,
        SplitKind kind = SplitKind.Temporal, int seed = 42)
    {
        ArgumentNullException.ThrowIfNull(items);
        var (split, validation, popularity, last) = SplitTable(ratings, name, kind, seed);
        var hasCredibility = items.Any(i => i.Credibility is not null);
        return Checked(new EvaluationData(name, split, validation, new Catalog(items, popularity, topicParents: topicParents), ImplicitFeedback.PositiveRating,
            hasCredibility, last), name);
    }

    /// <summary>
    /// Evaluation data from implicit feedback: one row per (person, item) pair with its strength and the time of its
    /// first event (<see cref="ImplicitFeedback.Cells"/>), every row a positive; the catalog's topic tree is kept.
    /// </summary>
    /// <exception cref="InvalidDataException">Too little is left after the split to evaluate.</exception>
    public static EvaluationData FromActivity(string name, IReadOnlyList<ImplicitFeedback.Cell> cells, IReadOnlyList<ItemInfo> items,
        IReadOnlyDictionary<string, string> topicParents, SplitKind kind = SplitKind.Temporal, int seed = 42)
    {
        ArgumentNullException.ThrowIfNull(cells);
        var table = RatingTable.FromRows([.. cells.Select(c => c.UserId)], [.. cells.Select(c => c.ItemId)],
            [.. cells.Select(c => c.Strength)], [.. cells.Select(c => c.FirstUnixSeconds)]);
        var (split, validation, popularity, last) = SplitTable(table, name, kind, seed);
        // The weakest single event (weight 1) has strength ln 2; every pair is at least that, so every pair is a positive.
        var threshold = ImplicitFeedback.Strength(1) - 1e-6f;
        var hasCredibility = items.Any(i => i.Credibility is not null);
        return Checked(new EvaluationData(name, split, validation, new Catalog(items, popularity, topicParents: topicParents), threshold, hasCredibility, last, implicitStrength: true), name);
    }

    private static (RatingSplit Split, RatingSplit Validation, Dictionary<long, int> Popularity, DateTimeOffset Last) SplitTable(RatingTable table, string directory, SplitKind kind, int seed)
    {
        if (table.Count < MinimumRows)
            throw new InvalidDataException($"{directory}: {table.Count} ratings; evaluation needs at least {MinimumRows} (a train, a validation and a test share).");
        var lastRating = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(Enumerable.Range(0, table.Count).Max(table.Timestamp), 0, 253402300799));
        var split = kind switch
        {
            SplitKind.Random => TemporalSplit.RandomSplit(table, seed),
            SplitKind.Newcomers => TemporalSplit.SplitWithNewcomers(table),
            _ => TemporalSplit.Split(table),
        };
        // The split leaves the train rows at the front of the table, so their timestamps (or random keys) line up with them.
        var trainRows = RatingTable.FromRows(
            [.. Enumerable.Range(0, split.Train.Count).Select(j => split.Train.Users.IdAt(split.Train.UserIndices[j]))],
            [.. Enumerable.Range(0, split.Train.Count).Select(j => split.Train.Items.IdAt(split.Train.ItemIndices[j]))],
            split.Train.Values.AsSpan(0, split.Train.Count), [.. Enumerable.Range(0, split.Train.Count).Select(table.Timestamp)]);
        var validation = kind == SplitKind.Newcomers ? TemporalSplit.SplitWithNewcomers(trainRows) : TemporalSplit.Split(trainRows);
        return (split, validation, PopularityOf(split.Train), lastRating);
    }

    /// <summary>Rows per item id: the popularity a catalog built on <paramref name="train"/> counts, and nothing after it.</summary>
    internal static Dictionary<long, int> PopularityOf(TrainingData train)
    {
        var popularity = new Dictionary<long, int>();
        for (var j = 0; j < train.Count; j++)
        {
            var id = train.Items.IdAt(train.ItemIndices[j]);
            popularity[id] = popularity.GetValueOrDefault(id) + 1;
        }
        return popularity;
    }

    /// <summary>Fewer ratings cannot give a train, a validation and a test share that each hold a positive.</summary>
    public const int MinimumRows = 100;

    /// <summary>Fewer test users with a positive make every figure one person's taste.</summary>
    public const int MinimumTestUsers = 10;

    private static EvaluationData Checked(EvaluationData data, string directory)
    {
        static int Positives(TrainingData d, float threshold) => Enumerable.Range(0, d.Count).Count(j => d.Values[j] >= threshold);
        var threshold = data.PositiveThreshold;
        var f = System.Globalization.CultureInfo.InvariantCulture;
        var testUsers = Enumerable.Range(0, data.Split.Test.Count).Where(j => data.Split.Test.Values[j] >= threshold).Select(j => data.Split.Test.UserIndices[j]).Distinct().Count();
        // On activity every pair is a positive, and its threshold (ln 2) means nothing to the person who ran the command.
        var positive = data.ImplicitStrength ? "an item they were active on" : string.Create(f, $"a rating ≥ {threshold}");
        if (testUsers < MinimumTestUsers)
            throw new InvalidDataException(string.Create(f, $"{directory}: {testUsers} people have {positive} in the test share after the split ({data.Split.Test.Count} test rows kept, {data.Split.DroppedTestRows} dropped for an unseen user or item); evaluation needs at least {MinimumTestUsers}."));
        if (Positives(data.Validation.Test, threshold) == 0)
            throw new InvalidDataException(string.Create(f, $"{directory}: no validation rating ≥ {threshold} is left inside the training share; too little data to choose settings on."));
        return data;
    }

    private static List<ItemInfo> LoadSynthetic(string itemsPath, string sourcesPath)
    {
        var credibility = new Dictionary<string, double>(StringComparer.Ordinal);
        if (File.Exists(sourcesPath))
        {
            foreach (var (line, number) in Lines(sourcesPath).Skip(1))
            {
                var f = line.Split(',');
                credibility[f[0]] = f.Length > 2 && double.TryParse(f[2], CultureInfo.InvariantCulture, out var c) ? c
                    : throw new InvalidDataException($"{sourcesPath}:{number}: expected source_id,name,credibility.");
            }
        }
        var items = new List<ItemInfo>();
        foreach (var (line, number) in Lines(itemsPath).Skip(1))
        {
            // item_id,title,topics,level,source_id,stance
            var f = line.Split(',');
            if (f.Length < 6 || !long.TryParse(f[0], CultureInfo.InvariantCulture, out var id))
                throw new InvalidDataException($"{itemsPath}:{number}: expected item_id,title,topics,level,source_id,stance.");
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
        foreach (var (line, number) in Lines(path))
        {
            // movie_id::Title (Year)::Genre|Genre
            var f = line.Split("::");
            if (f.Length < 2 || !long.TryParse(f[0], CultureInfo.InvariantCulture, out var movieId))
                throw new InvalidDataException($"{path}:{number}: expected movie_id::Title (Year)::Genres.");
            var year = YearPattern().Match(f[1]);
            DateTimeOffset? published = year.Success ? new DateTimeOffset(int.Parse(year.Groups[1].Value, CultureInfo.InvariantCulture), 1, 1, 0, 0, 0, TimeSpan.Zero) : null;
            var topics = f.Length > 2 ? f[2].Split('|', StringSplitOptions.RemoveEmptyEntries) : [];
            items.Add(new ItemInfo(movieId, f[0], f[1], topics, null, null, null, null, published));
        }
        return items;
    }

    /// <summary>Non-empty lines with their 1-based line numbers, for file:line errors.</summary>
    private static IEnumerable<(string Line, int Number)> Lines(string path) =>
        File.ReadLines(path).Select((line, i) => (line, i + 1)).Where(p => p.line.Length > 0);

    [GeneratedRegex(@"\((\d{4})\)\s*$")]
    private static partial Regex YearPattern();
}

/// <summary>How the evaluation separates what a model learns from what it is tested on.</summary>
public enum SplitKind
{
    /// <summary>A global cut in time: the first 90% of ratings train, the rest test (the model never sees the future).</summary>
    Temporal,

    /// <summary>A seeded random 90/10 cut of the ratings: easier, but comparable with most published figures.</summary>
    Random,

    /// <summary>
    /// The temporal cut, but people with no rating before it are tested on the later half of theirs after it, given the
    /// earlier half: what the product's training gate measures (people who arrived lately are measured too).
    /// </summary>
    Newcomers,
}
