using System.Globalization;
using System.Xml;
using Recommender.Core;

namespace Recommender.Data.Import;

/// <summary>
/// Reads Stack Exchange's public data-dump format (<c>Posts.xml</c>, <c>Users.xml</c>, <c>Comments.xml</c>,
/// <c>Votes.xml</c>, <c>Tags.xml</c> per site) from one site folder or a folder of site folders. Questions become items,
/// a site and its tags a topic tree, authors sources, people (one per network-wide <c>AccountId</c>) users, and their
/// activity events. Level and credibility come from <see cref="ContentSignals"/>; the rules are in docs/demo-data.md.
/// </summary>
public static class StackExchangeReader
{
    /// <summary>Every file a site folder must hold.</summary>
    public static readonly IReadOnlyList<string> SiteFiles = ["Posts.xml", "Users.xml", "Comments.xml", "Votes.xml", "Tags.xml"];

    /// <summary>
    /// Sites' titles, for the subject a site becomes: a dump names its site only by its address (the folder,
    /// <c>quantumcomputing</c> for quantumcomputing.stackexchange.com). Another site keeps its address as its name.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> SiteTitles = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["quantumcomputing"] = "Quantum Computing",
        ["cardano"] = "Cardano",
    };

    public static ImportBatch Read(string directory) => ReadDump(directory, answersAsQuiz: false);

    /// <summary>
    /// <see cref="Read"/> plus every answer as an attempt at its question, for <c>evaluate skill</c>: a
    /// <c>quiz_correct</c> when the asker accepted it, else a <c>quiz_wrong</c>, at the time it was posted. Real people's
    /// success on real questions, with the questions' tags as topics and their level from the text. Not used by the
    /// demo's import: a Stack Exchange answer that was not accepted is often not wrong, only not chosen.
    /// </summary>
    public static ImportBatch ReadAnswers(string directory) => ReadDump(directory, answersAsQuiz: true);

    private static ImportBatch ReadDump(string directory, bool answersAsQuiz)
    {
        ImportReaders.RequireDirectory(directory);
        string[] sites = File.Exists(Path.Combine(directory, "Posts.xml"))
            ? [directory]
            : [.. Directory.GetDirectories(directory).Where(d => File.Exists(Path.Combine(d, "Posts.xml"))).Order(StringComparer.Ordinal)];
        if (sites.Length == 0)
            throw new FileNotFoundException($"{directory}: neither it nor any folder in it holds a Stack Exchange Posts.xml");

        var parsed = sites.Select(ReadSite).ToList();
        var batch = new ImportBatch
        {
            TopicsFile = Path.Combine(sites[0], "Tags.xml"),
            UsersFile = Path.Combine(sites[0], "Users.xml"),
            SourcesFile = Path.Combine(sites[0], "Users.xml"),
            ItemsFile = Path.Combine(sites[0], "Posts.xml"),
            EventsFile = Path.Combine(sites[0], "Posts.xml"),
        };

        // One person per AccountId across every site read, named and linked by the site where they stand highest.
        var people = parsed.SelectMany(s => s.Users.Values)
            .GroupBy(u => u.Person, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => new Person(g.ToList()), StringComparer.Ordinal);
        foreach (var site in parsed)
        {
            foreach (var answer in site.Answers.Values)
            {
                if (site.Person(answer.Owner) is { } p)
                    people[p].Answers.Add((answer.Score, site.IsAccepted(answer)));
            }
        }

        foreach (var site in parsed)
        {
            batch.Topics.Add(SiteTitles.TryGetValue(site.Name, out var title)
                ? new TopicRow(1, site.Name, null, title, TitleAbsent: false)
                : new TopicRow(1, site.Name, null));
            foreach (var (tag, line) in site.Tags)
                batch.Topics.Add(new TopicRow(line, site.Topic(tag), site.Name));
            foreach (var q in site.Questions.Values.OrderBy(q => q.Line))
                batch.Items.Add(site.Item(q));
            site.AddEvents(batch.Events, answersAsQuiz);
        }

        // People who did something become users; people who wrote a question or an answer become sources.
        var active = batch.Events.Select(e => e.UserExternalId).ToHashSet(StringComparer.Ordinal);
        var authors = parsed.SelectMany(s => s.Questions.Values.Select(q => s.Person(q.Owner)).Concat(s.Answers.Values.Select(a => s.Person(a.Owner))))
            .OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var (key, person) in people.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var best = person.Best;
            if (active.Contains(key))
                batch.Users.Add(new UserRow(best.Line, key, best.Name));
            if (authors.Contains(key))
            {
                var standing = ContentSignals.Standing(person.Reputation, person.Sites, person.Answers);
                batch.Sources.Add(new SourceRow(best.Line, key, best.Name, standing.Value, best.ProfileUrl, standing.Basis));
            }
        }
        return batch;
    }

    private static SiteDump ReadSite(string folder)
    {
        foreach (var file in SiteFiles)
        {
            if (!File.Exists(Path.Combine(folder, file)))
                throw new FileNotFoundException($"{Path.Combine(folder, file)}: no such file (a site folder holds {string.Join(", ", SiteFiles)})");
        }
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
        var site = new SiteDump(folder, name);

        Rows(site.File("Users.xml"), "users", row =>
        {
            var id = row.Int("Id");
            var account = row.OptionalInt("AccountId");
            // The Community bot (-1) is the site itself, not a person.
            if (id < 0)
                return;
            var user = new SiteUser(row.Line, id, account is { } a and > 0 ? $"stackexchange:{a}" : $"stackexchange:{name}:{id}",
                row.Required("DisplayName"), row.Int("Reputation"), $"https://{name}.stackexchange.com/users/{id}", name);
            if (!site.Users.TryAdd(id, user))
                throw row.Error($"user Id {id} already appeared on line {site.Users[id].Line}");
        });

        Rows(site.File("Tags.xml"), "tags", row => site.Tags.TryAdd(row.Required("TagName"), row.Line));

        Rows(site.File("Posts.xml"), "posts", row =>
        {
            var id = row.Int("Id");
            if (!site.PostLines.TryAdd(id, row.Line))
                throw row.Error($"post Id {id} already appeared on line {site.PostLines[id]}");
            var type = row.Int("PostTypeId");
            var owner = row.OptionalInt("OwnerUserId");
            var editor = row.OptionalInt("LastEditorUserId");
            var edited = editor is null ? null : row.OptionalTime("LastEditDate");
            if (type == 1)
            {
                var tags = ParseTags(row.Attribute("Tags"));
                foreach (var tag in tags)
                    site.Tags.TryAdd(tag, row.Line);
                site.Questions[id] = new Question(row.Line, id, row.Required("Title"), row.Attribute("Body") ?? "", row.Time("CreationDate"),
                    row.Int("Score"), owner, editor, edited, row.OptionalInt("AcceptedAnswerId"), tags, row.Attribute("ContentLicense"));
            }
            else if (type == 2)
            {
                site.Answers[id] = new Answer(row.Line, id, row.Int("ParentId"), row.Attribute("Body") ?? "", row.Time("CreationDate"),
                    row.Int("Score"), owner, editor, edited);
            }
        });
        foreach (var a in site.Answers.Values)
        {
            if (!site.Questions.ContainsKey(a.Question))
                throw new ImportException(site.File("Posts.xml"), a.Line, $"answer {a.Id} names ParentId {a.Question}, which is not a question in this file");
            if (site.Person(a.Owner) is null && a.Owner is > 0)
                throw new ImportException(site.File("Posts.xml"), a.Line, $"OwnerUserId {a.Owner} is not in Users.xml");
        }
        foreach (var q in site.Questions.Values)
        {
            if (site.Person(q.Owner) is null && q.Owner is > 0)
                throw new ImportException(site.File("Posts.xml"), q.Line, $"OwnerUserId {q.Owner} is not in Users.xml");
            if (q.AcceptedAnswer is { } acc && (!site.Answers.TryGetValue(acc, out var accepted) || accepted.Question != q.Id))
                throw new ImportException(site.File("Posts.xml"), q.Line, $"AcceptedAnswerId {acc} is not an answer to question {q.Id}");
        }

        Rows(site.File("Comments.xml"), "comments", row =>
        {
            var user = row.OptionalInt("UserId");
            var post = row.Int("PostId");
            var at = row.Time("CreationDate");
            var score = row.OptionalInt("Score") ?? 0;
            site.Comments.Add(new Comment(row.Line, row.Int("Id"), post, user, score, at));
            if (user is > 0 && site.Person(user) is null)
                throw row.Error($"UserId {user} is not in Users.xml");
        });

        Rows(site.File("Votes.xml"), "votes", row =>
        {
            if (row.Int("VoteTypeId") != FavouriteVote)
                return;
            var user = row.OptionalInt("UserId");
            if (user is > 0 && site.Person(user) is null)
                throw row.Error($"UserId {user} is not in Users.xml");
            site.Favourites.Add(new Comment(row.Line, row.Int("Id"), row.Int("PostId"), user, 0, row.Time("CreationDate")));
        });
        return site;
    }

    private const int FavouriteVote = 5;

    /// <summary>Tags as the 2018 dumps write them (<c>&lt;a&gt;&lt;b&gt;</c>) or the later ones (<c>|a|b|</c>).</summary>
    internal static string[] ParseTags(string? tags) =>
        string.IsNullOrWhiteSpace(tags) ? [] : tags.Split(['<', '>', '|'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToArray();

    private static void Rows(string path, string rootName, Action<XmlRow> row)
    {
        // XmlReader reports an empty file as "root element is missing" on line 0, which points nowhere.
        if (new FileInfo(path).Length == 0)
            throw new ImportException(path, 1, $"the file is empty; expected a <{rootName}> element");
        try
        {
            using var reader = XmlReader.Create(path, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, IgnoreComments = true, IgnoreWhitespace = true });
            var info = (IXmlLineInfo)reader;
            reader.MoveToContent();
            if (reader.NodeType != XmlNodeType.Element || reader.LocalName != rootName)
                throw new ImportException(path, info.LineNumber, $"expected a <{rootName}> element, found <{reader.LocalName}>");
            while (reader.Read())
            {
                if (reader.NodeType != XmlNodeType.Element)
                    continue;
                if (reader.LocalName != "row")
                    throw new ImportException(path, info.LineNumber, $"expected a <row> element, found <{reader.LocalName}>");
                row(new XmlRow(path, info.LineNumber, reader));
            }
        }
        catch (XmlException e)
        {
            // The message ends with "Line n, position m.", which the file:line prefix already says.
            var reason = e.LineNumber > 0 && e.Message.LastIndexOf(" Line ", StringComparison.Ordinal) is var at and > 0 ? e.Message[..at] : e.Message;
            throw new ImportException(path, Math.Max(1, e.LineNumber), $"not well-formed XML: {reason}");
        }
    }

    private sealed class XmlRow(string path, long line, XmlReader reader)
    {
        public long Line => line;

        public string? Attribute(string name) => ImportFiles.Storable(path, line, name, reader.GetAttribute(name));

        public string Required(string name) => ImportFiles.Required(path, line, name, Attribute(name));

        public int Int(string name) => OptionalInt(name) ?? throw Error($"{name} is missing");

        public int? OptionalInt(string name)
        {
            var value = Attribute(name);
            if (string.IsNullOrWhiteSpace(value))
                return null;
            return int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : throw Error($"{name} '{value}' is not a whole number");
        }

        public DateTimeOffset Time(string name) => OptionalTime(name) ?? throw Error($"{name} is missing");

        // The dumps write UTC times without a zone.
        public DateTimeOffset? OptionalTime(string name)
        {
            var value = Attribute(name);
            if (string.IsNullOrWhiteSpace(value))
                return null;
            return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
                ? t : throw Error($"{name} '{value}' is not a date and time");
        }

        public ImportException Error(string reason) => new(path, line, reason);
    }

    private sealed record SiteUser(long Line, int Id, string Person, string Name, int Reputation, string ProfileUrl, string Site);

    private sealed record Question(long Line, int Id, string Title, string Body, DateTimeOffset CreatedAt, int Score, int? Owner,
        int? Editor, DateTimeOffset? EditedAt, int? AcceptedAnswer, string[] Tags, string? License);

    private sealed record Answer(long Line, int Id, int Question, string Body, DateTimeOffset CreatedAt, int Score, int? Owner,
        int? Editor, DateTimeOffset? EditedAt);

    private sealed record Comment(long Line, int Id, int Post, int? User, int Score, DateTimeOffset At);

    private sealed class Person(List<SiteUser> accounts)
    {
        public SiteUser Best { get; } = accounts.OrderByDescending(a => a.Reputation).ThenBy(a => a.Site, StringComparer.Ordinal).First();
        public int Reputation { get; } = accounts.Sum(a => a.Reputation);
        public int Sites { get; } = accounts.Count;
        public List<(int Score, bool Accepted)> Answers { get; } = [];
    }

    private sealed class SiteDump(string folder, string name)
    {
        // Content contributed before this instant is CC BY-SA 3.0, from it on 4.0 (Stack Exchange's licensing terms).
        private static readonly DateTimeOffset FourPointZero = new(2018, 5, 2, 0, 0, 0, TimeSpan.Zero);

        public string Name => name;
        public Dictionary<int, SiteUser> Users { get; } = [];
        public Dictionary<string, long> Tags { get; } = new(StringComparer.Ordinal);
        public Dictionary<int, long> PostLines { get; } = [];
        public Dictionary<int, Question> Questions { get; } = [];
        public Dictionary<int, Answer> Answers { get; } = [];
        public List<Comment> Comments { get; } = [];
        public List<Comment> Favourites { get; } = [];

        public string File(string file) => Path.Combine(folder, file);

        public string Topic(string tag) => $"{name}/{tag}";

        public string? Person(int? userId) => userId is { } id && Users.TryGetValue(id, out var u) ? u.Person : null;

        /// <summary>Whether the asker accepted the answer.</summary>
        public bool IsAccepted(Answer a) => Questions[a.Question].AcceptedAnswer == a.Id;

        /// <summary>The answer a reader gets: the accepted one, else the best-scored one above zero.</summary>
        private Answer? BestAnswer(Question q) =>
            q.AcceptedAnswer is { } acc ? Answers[acc]
            : Answers.Values.Where(a => a.Question == q.Id && a.Score > 0).OrderByDescending(a => a.Score).ThenBy(a => a.Id).FirstOrDefault();

        public ItemRow Item(Question q)
        {
            var answer = BestAnswer(q);
            var questionText = ContentSignals.FromHtml(q.Body);
            var answerText = answer is null ? null : ContentSignals.FromHtml(answer.Body);
            var level = ContentSignals.Level(answerText is null ? [questionText] : [questionText, answerText]);
            var asker = Person(q.Owner);
            var source = answer is not null && Person(answer.Owner) is { } answerer ? answerer : asker;
            var license = q.License ?? (q.CreatedAt < FourPointZero ? "CC BY-SA 3.0" : "CC BY-SA 4.0");
            // An item in a sub-topic is in its subject too, so choosing the whole site finds it.
            string[] topics = [name, .. q.Tags.Select(Topic)];
            return new ItemRow(q.Line, $"{name}:{q.Id}", MathText.ToPlainText(System.Net.WebUtility.HtmlDecode(q.Title)),
                $"https://{name}.stackexchange.com/questions/{q.Id}", ContentSignals.Summary(questionText.Text), q.CreatedAt,
                level.Value, source, null, topics, level.Basis, answerText?.Text, asker, license);
        }

        /// <summary>Activity that names a person; activity on posts missing from the dump (deleted ones) is left out.</summary>
        public void AddEvents(List<EventRow> events, bool answersAsQuiz)
        {
            void Add(long line, int? user, int question, EventKind kind, float? value, DateTimeOffset at, int keyId)
            {
                if (Person(user) is { } person)
                    events.Add(new EventRow(line, person, $"{name}:{question}", kind, value, at, $"se:{name}:{kind.ToName()}:{keyId}"));
            }
            int? QuestionOf(int post) => Questions.ContainsKey(post) ? post : Answers.TryGetValue(post, out var a) ? a.Question : null;

            foreach (var q in Questions.Values.OrderBy(q => q.Line))
            {
                Add(q.Line, q.Owner, q.Id, EventKind.Ask, q.Score, q.CreatedAt, q.Id);
                if (q.EditedAt is { } e)
                    Add(q.Line, q.Editor, q.Id, EventKind.Edit, null, e, q.Id);
            }
            foreach (var a in Answers.Values.OrderBy(a => a.Line))
            {
                Add(a.Line, a.Owner, a.Question, EventKind.Answer, a.Score, a.CreatedAt, a.Id);
                if (answersAsQuiz)
                    Add(a.Line, a.Owner, a.Question, IsAccepted(a) ? EventKind.QuizCorrect : EventKind.QuizWrong, null, a.CreatedAt, a.Id);
                if (a.EditedAt is { } e)
                    Add(a.Line, a.Editor, a.Question, EventKind.Edit, null, e, a.Id);
            }
            foreach (var c in Comments)
            {
                if (QuestionOf(c.Post) is { } q)
                    Add(c.Line, c.User, q, EventKind.Comment, c.Score, c.At, c.Id);
            }
            foreach (var f in Favourites)
            {
                if (QuestionOf(f.Post) is { } q)
                    Add(f.Line, f.User, q, EventKind.Favourite, null, f.At, f.Id);
            }
        }
    }
}
