using System.Globalization;
using Recommender.Core;

namespace Recommender.Data.Import;

/// <summary>
/// A small catalog made up from a fixed seed, for a clone that has no real data beside it. Every title, source and
/// person says it is generated, so nobody mistakes it for content; levels and credibility are stated as generated too.
/// Ratings follow two hidden tastes so that a model trained on them has something to learn.
/// </summary>
public static class GeneratedDemo
{
    public const string Label = "generated demo";

    private static readonly string[] Subjects = ["Subject A", "Subject B", "Subject C"];
    private const int SubTopicsPerSubject = 4, Sources = 12, Items = 300, Users = 200, RatingsPerUser = 30;

    public static ImportBatch Create(int seed = 15)
    {
        var random = new Random(seed);
        var batch = new ImportBatch { TopicsFile = Label, SourcesFile = Label, ItemsFile = Label, EventsFile = Label, UsersFile = Label };
        var line = 0L;
        var topics = new List<string>();
        foreach (var subject in Subjects)
        {
            batch.Topics.Add(new TopicRow(++line, subject, null));
            for (var t = 1; t <= SubTopicsPerSubject; t++)
            {
                var name = string.Create(CultureInfo.InvariantCulture, $"{subject}/topic {t}");
                batch.Topics.Add(new TopicRow(++line, name, subject));
                topics.Add(name);
            }
        }
        for (var s = 1; s <= Sources; s++)
        {
            var credibility = (float)Math.Round((s - 1) / (double)(Sources - 1), 2);
            batch.Sources.Add(new SourceRow(++line, Id("source", s), string.Create(CultureInfo.InvariantCulture, $"Generated source {s}"),
                credibility, null, "generated for the demo: not a real source's record"));
        }
        var taste = new double[Items];
        for (var i = 1; i <= Items; i++)
        {
            var topic = topics[random.Next(topics.Count)];
            taste[i - 1] = random.NextDouble() * 2 - 1;
            batch.Items.Add(new ItemRow(++line, Id("item", i), string.Create(CultureInfo.InvariantCulture, $"Generated item {i} ({topic})"),
                null, "Generated for the demo: not real content. Load real data with recommender import.",
                new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).AddHours(i * 7), (short)(1 + random.Next(5)),
                Id("source", 1 + random.Next(Sources)), null, [topic], "generated for the demo: not derived from any text"));
        }
        var start = new DateTimeOffset(2024, 6, 1, 0, 0, 0, TimeSpan.Zero);
        for (var u = 1; u <= Users; u++)
        {
            var user = Id("person", u);
            batch.Users.Add(new UserRow(++line, user, string.Create(CultureInfo.InvariantCulture, $"Generated person {u}")));
            var likes = random.NextDouble() * 2 - 1;
            foreach (var i in Enumerable.Range(0, Items).OrderBy(_ => random.Next()).Take(RatingsPerUser))
            {
                var rating = (float)Math.Clamp(Math.Round(5.5 + 4 * likes * taste[i] + random.NextDouble() * 2 - 1), 0, 10);
                var at = start.AddMinutes(u * 1_000 + i);
                var item = Id("item", i + 1);
                batch.Events.Add(new EventRow(++line, user, item, EventKind.Rating, rating, at, ImportBatch.DerivedKey(EventKind.Rating, item, at)));
            }
        }
        return batch;
    }

    private static string Id(string kind, int n) => string.Create(CultureInfo.InvariantCulture, $"generated:{kind}:{n}");
}
