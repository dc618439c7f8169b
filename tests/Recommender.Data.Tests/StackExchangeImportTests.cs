using Dapper;
using Recommender.Data.Import;
using Recommender.Testing;

namespace Recommender.Data.Tests;

public sealed class StackExchangeImportTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();
    private readonly string _scratch = Directory.CreateTempSubdirectory("recommender-se-").FullName;

    public Task InitializeAsync() => _db.InitializeAsync();

    public async Task DisposeAsync()
    {
        Directory.Delete(_scratch, recursive: true);
        await _db.DisposeAsync();
    }

    private Task<ImportResult> ImportAsync(ImportBatch batch) => new CatalogImporter(_db.DataSource).ImportAsync(batch);

    private async Task<CatalogCounts> CountsAsync() => await new CatalogStore(_db.DataSource).CountAsync();

    [SharedDataFact(SharedDataSet.StackExchange)]
    public async Task ImportAsync_real_dumps_store_exact_counts_and_rerun_adds_nothing()
    {
        var first = await ImportAsync(StackExchangeReader.Read(RepositoryPaths.StackExchange));

        // 612 + 1,042 questions; 2 sites + 378 tags; people matched by AccountId: 1,364 active, 1,029 who wrote a post.
        Assert.Equal(new CatalogCounts(Items: 1_654, Topics: 380, Sources: 1_029, Users: 1_364, Events: 12_158), await CountsAsync());
        Assert.Equal(12_158, first.EventsAdded);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var kinds = (await conn.QueryAsync<(string Kind, long Count)>("select kind, count(*) from events group by kind order by kind")).ToList();
        // Asks: questions minus 3 without an owner; answers minus 1; comments minus 3 without a user, 7 by the Community
        // bot and 1 on a tag wiki; favourites minus 4 on deleted posts; last edits minus 9 by the Community bot.
        Assert.Equal([("answer", 2_555L), ("ask", 1_651L), ("comment", 5_231L), ("edit", 1_724L), ("favourite", 997L)], kinds);

        var second = await ImportAsync(StackExchangeReader.Read(RepositoryPaths.StackExchange));

        Assert.Equal((0, 0, 0, 0, 0, 0L), (second.SourcesAdded, second.ItemsAdded, second.ItemsUpdated, second.TopicsAdded, second.UsersAdded, second.EventsAdded));
        Assert.Equal(new CatalogCounts(1_654, 380, 1_029, 1_364, 12_158), await CountsAsync());
    }

    [SharedDataFact(SharedDataSet.StackExchange)]
    public async Task ImportAsync_real_dumps_keep_the_question_its_answer_authors_topics_and_one_person_across_sites()
    {
        await ImportAsync(StackExchangeReader.Read(RepositoryPaths.StackExchange));
        await using var conn = await _db.DataSource.OpenConnectionAsync();

        // Quantum Computing question 1, asked by Riker (user 7), accepted answer 18 by Nat (user 15).
        var item = await conn.QuerySingleAsync<(string Title, string Url, DateTime At, string Summary, string Body, string Answerer, string AnswererUrl, string Asker, string License)>("""
            select i.title, i.url, i.published_at, i.summary, i.body, s.name, s.url, a.name, i.license
            from items i join sources s on s.id = i.source_id join sources a on a.id = i.asked_by_source_id
            where i.external_id = 'quantumcomputing:1'
            """);
        Assert.Equal("Can a Turing machine simulate a quantum computer?", item.Title);
        Assert.Equal("https://quantumcomputing.stackexchange.com/questions/1", item.Url);
        Assert.Equal(new DateTime(2018, 3, 12, 17, 0, 45, 567, DateTimeKind.Utc), item.At);
        Assert.StartsWith("I know that a Turing machine1 can theoretically simulate \"anything\"", item.Summary);
        Assert.DoesNotContain("<", item.Summary);
        Assert.True(item.Summary.Length <= 281);
        Assert.DoesNotContain("<p>", item.Body);
        Assert.Equal(("Nat", "https://quantumcomputing.stackexchange.com/users/15", "Riker"), (item.Answerer, item.AnswererUrl, item.Asker));
        Assert.Equal("CC BY-SA 3.0", item.License);

        var topics = await conn.QueryAsync<(string Topic, string Parent)>("""
            select t.name, p.name from items i join item_topics it on it.item_id = i.id join topics t on t.id = it.topic_id
            join topics p on p.id = t.parent_id where i.external_id = 'quantumcomputing:1' order by t.name
            """);
        Assert.Equal([("quantumcomputing/quantum-turing-machine", "quantumcomputing"), ("quantumcomputing/simulation", "quantumcomputing")], topics);
        Assert.Equal(2, await conn.ExecuteScalarAsync<long>("select count(*) from topics where parent_id is null"));

        // AccountId 6085540 (Glorfindel) has a user id on each site; both sites' activity lands on one person.
        var sites = await conn.QueryAsync<string>("""
            select distinct split_part(i.external_id, ':', 1) from events e join users u on u.id = e.user_id join items i on i.id = e.item_id
            where u.external_id = 'stackexchange:6085540' order by 1
            """);
        Assert.Equal(["cardano", "quantumcomputing"], sites);

        var answer = await conn.QuerySingleAsync<(float Value, DateTime At)>("""
            select e.value, e.occurred_at from events e where e.kind = 'answer' and e.idempotency_key = 'se:quantumcomputing:answer:18'
            """);
        Assert.Equal(new DateTime(2018, 3, 12, 17, 59, 39, 560, DateTimeKind.Utc), answer.At);
        Assert.True(answer.Value > 0);
    }

    [SharedDataFact(SharedDataSet.StackExchange)]
    public async Task ImportAsync_real_dumps_give_every_level_and_credibility_its_stated_basis()
    {
        await ImportAsync(StackExchangeReader.Read(RepositoryPaths.StackExchange));
        await using var conn = await _db.DataSource.OpenConnectionAsync();

        var levels = (await conn.QueryAsync<short>("select distinct level from items where level_basis like 'reads at US school grade %' order by 1")).ToList();
        Assert.Equal([1, 2, 3, 4, 5], levels);
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("select count(*) from items where level is null or level_basis is null"));
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("select count(*) from sources where credibility is null or credibility_basis not like 'reputation %'"));
        // Credibility rewards a record of accepted answers: authors accepted at least half the time over 5+ answers stand higher.
        var (strong, weak) = await conn.QuerySingleAsync<(double Strong, double Weak)>("""
            select avg(credibility) filter (where credibility_basis ~ '; ([5-9]|[0-9]{2,}) answers, accepted ([5-9][0-9]|100)%'),
                   avg(credibility) filter (where credibility_basis like '%has not answered%')
            from sources
            """);
        Assert.True(strong > weak + 0.2, $"accepted answerers {strong:F2}, non-answerers {weak:F2}");
    }

    [SharedDataFact(SharedDataSet.StackExchange)]
    public async Task LoadRankingCatalogAsync_reads_the_topic_tree_and_each_item_s_attribution()
    {
        await ImportAsync(StackExchangeReader.Read(RepositoryPaths.StackExchange));

        var catalog = await new CatalogStore(_db.DataSource).LoadRankingCatalogAsync();

        Assert.Equal(378, catalog.TopicParents.Count);
        Assert.Equal("quantumcomputing", catalog.SubjectOf("quantumcomputing/simulation"));
        // A site reads by its title, its tags by their own names.
        Assert.Equal(("Quantum Computing", "simulation"), (catalog.Label("quantumcomputing"), catalog.Label("quantumcomputing/simulation")));
        Assert.Equal((0, 1, 2, 4), (catalog.TopicDistance("cardano", "cardano"), catalog.TopicDistance("cardano/staking", "cardano"),
            catalog.TopicDistance("cardano/staking", "cardano/plutus"), catalog.TopicDistance("cardano/staking", "quantumcomputing/simulation")));
        Assert.True(catalog.TryGetId("quantumcomputing:1", out var id));
        var item = catalog[id];
        Assert.Contains("quantumcomputing", item.Topics);
        var a = item.Attribution!;
        Assert.Equal(("Nat", "https://quantumcomputing.stackexchange.com/users/15"), (a.Author!.Name, a.Author.ProfileUrl));
        Assert.StartsWith("reputation ", a.Author.CredibilityBasis);
        Assert.Equal("Riker", a.AskedBy!.Name);
        Assert.Equal(("quantumcomputing", "https://quantumcomputing.stackexchange.com/questions/1", "CC BY-SA 3.0"), (a.Site, a.OriginalUrl, a.License));
        Assert.True(a.IsStackExchange);
        Assert.StartsWith("reads at US school grade ", a.LevelBasis);
        Assert.Equal(612, catalog.ItemsInTopic("quantumcomputing").Count);
    }

    [Fact]
    public async Task GeneratedDemo_imports_labelled_as_generated_and_rerun_adds_nothing()
    {
        await ImportAsync(GeneratedDemo.Create());
        var second = await ImportAsync(GeneratedDemo.Create());

        Assert.Equal(new CatalogCounts(Items: 300, Topics: 15, Sources: 12, Users: 200, Events: 6_000), await CountsAsync());
        Assert.Equal((0, 0L), (second.ItemsAdded, second.EventsAdded));
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("""
            select (select count(*) from items where title not like 'Generated item %' or level_basis not like 'generated%')
                 + (select count(*) from sources where name not like 'Generated source %')
                 + (select count(*) from users where display_name not like 'Generated person %')
            """));
    }

    [Fact]
    public void Level_and_standing_follow_the_documented_rule()
    {
        var plain = ContentSignals.FromHtml("<p>The cat sat. The dog ran.</p>");
        var dense = ContentSignals.FromHtml("<p>Apply the unitary transformation $U = e^{-iHt}$ to the superposition.</p><pre><code>circuit.h(qubit[0]); circuit.cx(0, 1)</code></pre>");

        Assert.Equal("The cat sat. The dog ran.", plain.Text);
        Assert.Equal((6, 2, 0), (plain.Words, plain.Sentences, plain.TechnicalChars));
        Assert.Equal(1, ContentSignals.Level([plain]).Value);
        Assert.True(dense.TechnicalChars > 30);
        Assert.Equal(5, ContentSignals.Level([dense]).Value);
        Assert.Contains("of the text is formulas or code", ContentSignals.Level([dense]).Basis);
        // Counts read as the card's other figures do ("reputation 5,102"), not "1139 words".
        var longText = ContentSignals.FromHtml($"<p>{string.Concat(Enumerable.Repeat("The cat sat on the mat. ", 200))}</p>");
        Assert.Contains("(Flesch–Kincaid, 1,200 words in 200 sentences)", ContentSignals.Level([longText]).Basis, StringComparison.Ordinal);

        var record = ContentSignals.Standing(1_000, 1, [(3, true), (1, true), (2, false), (0, false), (-1, false)]);
        Assert.Equal("reputation 1,000; 5 answers, accepted 40% of the time, 60% scored above zero", record.Basis);
        // 0.4 × log10(1001)/4 + 0.3 × 3/7 + 0.3 × 4/7
        Assert.Equal(0.60f, record.Value, 0.005f);
        Assert.Equal(0.4f * (float)(Math.Log10(101) / 4), ContentSignals.Standing(100, 1, []).Value, 0.006f);
    }

    public static TheoryData<string, string, int, string> MalformedSites => new()
    {
        { "Posts.xml", "<posts>\n  <row Id=\"1\" PostTypeId=\"1\" CreationDate=\"2020-01-01T00:00:00\" Score=\"1\" Title=\"Q\" OwnerUserId=\"1\" />\n  <row Id=\"2\" PostTypeId=\"2\" ParentId=\"1\" CreationDate=\"2020-01-01T00:00:00\" Score=\"x\" />\n</posts>", 3, "Score 'x' is not a whole number" },
        { "Posts.xml", "<posts>\n  <row Id=\"1\" PostTypeId=\"1\" CreationDate=\"2020-01-01T00:00:00\" Score=\"1\" Title=\"Q\" OwnerUserId=\"1\" />\n  <row Id=\"2\" PostTypeId=\"2\" ParentId=\"9\" CreationDate=\"2020-01-01T00:00:00\" Score=\"1\" />\n</posts>", 3, "ParentId 9, which is not a question" },
        { "Posts.xml", "<posts>\n  <row Id=\"1\" PostTypeId=\"1\" CreationDate=\"2020-01-01T00:00:00\" Score=\"1\" Title=\"Q\" OwnerUserId=\"42\" />\n</posts>", 2, "OwnerUserId 42 is not in Users.xml" },
        { "Posts.xml", "<posts>\n  <row Id=\"1\" PostTypeId=\"1\" CreationDate=\"2020-01-01T00:00:00\" Score=\"1\" Title=\"Q\" OwnerUserId=\"1\" />\n  <row Id=\"2\" PostTypeId=\"2\" ParentId=\"1\" CreationDate=\"2020-01-01T00:00:00\" Score=\"1\" \n</posts>", 4, "not well-formed XML" },
        { "Posts.xml", "<posts>\n  <row Id=\"1\" PostTypeId=\"1\" CreationDate=\"yesterday\" Score=\"1\" Title=\"Q\" />\n</posts>", 2, "CreationDate 'yesterday' is not a date" },
        { "Posts.xml", "<posts>\n  <row Id=\"1\" PostTypeId=\"1\" CreationDate=\"2020-01-01T00:00:00\" Score=\"1\" Title=\" \" />\n</posts>", 2, "Title is empty" },
        { "Comments.xml", "<comments>\n  <row Id=\"1\" PostId=\"1\" Score=\"0\" CreationDate=\"2020-01-02T00:00:00\" UserId=\"1\" />\n  <row Id=\"2\" PostId=\"1\" CreationDate=\"2020-01-02T00:00:00\" UserId=\"77\" />\n</comments>", 3, "UserId 77 is not in Users.xml" },
        { "Users.xml", "<users>\n  <row Id=\"1\" AccountId=\"5\" DisplayName=\"Ann\" Reputation=\"10\" />\n  <row Id=\"1\" AccountId=\"6\" DisplayName=\"Bob\" Reputation=\"10\" />\n</users>", 3, "user Id 1 already appeared on line 2" },
        { "Votes.xml", "<tags>\n</tags>", 1, "expected a <votes> element" },
        { "Posts.xml", "", 1, "the file is empty" },
    };

    [Theory]
    [MemberData(nameof(MalformedSites))]
    public async Task Read_malformed_file_fails_with_file_and_line_and_stores_nothing(string file, string content, int line, string reason)
    {
        await ImportAsync(StackExchangeReader.Read(WriteSite("good")));
        var before = await CountsAsync();
        var site = WriteSite("bad");
        File.WriteAllText(Path.Combine(site, file), content);

        var error = Assert.Throws<ImportException>(() => StackExchangeReader.Read(_scratch));

        Assert.Equal(Path.Combine(site, file), error.File);
        Assert.Equal(line, error.Line);
        Assert.Contains(reason, error.Message);
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task Read_small_site_maps_activity_to_events_and_skips_activity_on_deleted_posts()
    {
        var site = WriteSite("tiny");

        var result = await ImportAsync(StackExchangeReader.Read(site));

        Assert.Equal((1, 2, 2), (result.ItemsAdded, result.UsersAdded, result.SourcesAdded));
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var events = await conn.QueryAsync<(string User, string Kind, float? Value)>("""
            select u.display_name, e.kind, e.value from events e join users u on u.id = e.user_id order by u.display_name, e.kind
            """);
        Assert.Equal([("Ann", "ask", 2f), ("Ann", "favourite", null), ("Bob", "answer", 4f), ("Bob", "comment", 1f), ("Bob", "edit", null)], events);
        var (source, basis) = await conn.QuerySingleAsync<(string, string)>(
            "select s.name, s.credibility_basis from items i join sources s on s.id = i.source_id");
        Assert.Equal(("Bob", "reputation 300; 1 answer, accepted 100% of the time, 100% scored above zero"), (source, basis));
    }

    [Fact]
    public void Read_folder_without_a_site_names_what_is_missing()
    {
        var error = Assert.Throws<FileNotFoundException>(() => StackExchangeReader.Read(_scratch));
        Assert.Contains("Posts.xml", error.Message);
        var site = WriteSite("partial");
        File.Delete(Path.Combine(site, "Votes.xml"));
        Assert.Contains("Votes.xml", Assert.Throws<FileNotFoundException>(() => StackExchangeReader.Read(site)).Message);
    }

    [Fact]
    public async Task ImportAsync_generic_topics_csv_builds_the_tree_and_refuses_unknown_parents_and_loops()
    {
        var dir = Path.Combine(_scratch, "generic");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "topics.csv"), "topic,parent\nScience,\nPhysics,Science\nOptics,Physics\n");
        File.WriteAllText(Path.Combine(dir, "items.csv"), "item_id,title,topics\na,Lenses,Optics\n");
        await ImportAsync(ImportReaders.Directory(dir));
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var tree = await conn.QueryAsync<(string Topic, string? Parent)>(
            "select t.name, p.name from topics t left join topics p on p.id = t.parent_id order by t.name");
        Assert.Equal([("Optics", "Physics"), ("Physics", "Science"), ("Science", null)], tree);
        var before = await CountsAsync();

        File.WriteAllText(Path.Combine(dir, "topics.csv"), "topic,parent\nOptics,Physics\nQuantum,Nowhere\n");
        var unknown = await Assert.ThrowsAsync<ImportException>(() => ImportAsync(ImportReaders.Directory(dir)));
        Assert.Equal((Path.Combine(dir, "topics.csv"), 3L), (unknown.File, unknown.Line));
        Assert.Contains("parent 'Nowhere'", unknown.Message);

        File.WriteAllText(Path.Combine(dir, "topics.csv"), "topic,parent\nScience,Optics\n");
        var loop = await Assert.ThrowsAsync<ImportException>(() => ImportAsync(ImportReaders.Directory(dir)));
        Assert.Equal((Path.Combine(dir, "topics.csv"), 2L), (loop.File, loop.Line));
        Assert.Contains("its own ancestor", loop.Message);
        Assert.Equal(before, await CountsAsync());
        Assert.Null(await conn.ExecuteScalarAsync<int?>("select parent_id from topics where name = 'Science'"));
    }

    [Fact]
    public async Task ImportAsync_generic_topic_titles_are_what_readers_see_kept_when_the_column_is_absent_and_cleared_when_empty()
    {
        var dir = Path.Combine(_scratch, "titles");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "topics.csv"), "topic,parent,title\nml,,Machine learning\nml/nlp,ml,\n");
        File.WriteAllText(Path.Combine(dir, "items.csv"), "item_id,title,topics\na,Transformers,ml/nlp\n");
        await ImportAsync(ImportReaders.Directory(dir));
        var titled = await new CatalogStore(_db.DataSource).LoadRankingCatalogAsync();

        File.WriteAllText(Path.Combine(dir, "topics.csv"), "topic,parent\nml,\nml/nlp,ml\n");
        await ImportAsync(ImportReaders.Directory(dir));
        var kept = await new CatalogStore(_db.DataSource).LoadRankingCatalogAsync();

        File.WriteAllText(Path.Combine(dir, "topics.csv"), "topic,parent,title\nml,,\n");
        await ImportAsync(ImportReaders.Directory(dir));
        var cleared = await new CatalogStore(_db.DataSource).LoadRankingCatalogAsync();

        File.WriteAllText(Path.Combine(dir, "topics.csv"), $"topic,parent,title\nml,,{new string('x', CatalogRules.MaxTopicTitleLength + 1)}\n");
        var tooLong = Assert.Throws<ImportException>(() => ImportReaders.Directory(dir));

        Assert.Equal(("Machine learning", "nlp"), (titled.Label("ml"), titled.Label("ml/nlp")));
        Assert.Equal("Machine learning", kept.Label("ml"));
        Assert.Equal("ml", cleared.Label("ml"));
        Assert.Equal((Path.Combine(dir, "topics.csv"), 2L), (tooLong.File, tooLong.Line));
        Assert.Contains("title", tooLong.Message, StringComparison.Ordinal);
        var topics = await new CatalogStore(_db.DataSource).TopicsAsync();
        Assert.Null(topics.Single(t => t.Name == "ml").Title);
    }

    /// <summary>A site with one question, an accepted answer by another person, a comment, a favourite and an edit, plus a favourite on a deleted post.</summary>
    private string WriteSite(string name)
    {
        var dir = Path.Combine(_scratch, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "Users.xml"), """
            <?xml version="1.0" encoding="utf-8"?>
            <users>
              <row Id="-1" AccountId="-1" DisplayName="Community" Reputation="1" />
              <row Id="1" AccountId="501" DisplayName="Ann" Reputation="20" />
              <row Id="2" AccountId="502" DisplayName="Bob" Reputation="300" />
            </users>
            """);
        File.WriteAllText(Path.Combine(dir, "Posts.xml"), """
            <?xml version="1.0" encoding="utf-8"?>
            <posts>
              <row Id="1" PostTypeId="1" AcceptedAnswerId="2" CreationDate="2020-01-01T10:00:00.000" Score="2" Title="Why &amp; how?" Body="&lt;p&gt;Why is it so?&lt;/p&gt;" OwnerUserId="1" Tags="&lt;basics&gt;" />
              <row Id="2" PostTypeId="2" ParentId="1" CreationDate="2020-01-01T11:00:00.000" Score="4" Body="&lt;p&gt;Because.&lt;/p&gt;" OwnerUserId="2" LastEditorUserId="2" LastEditDate="2020-01-02T09:00:00.000" />
            </posts>
            """);
        File.WriteAllText(Path.Combine(dir, "Comments.xml"), """
            <?xml version="1.0" encoding="utf-8"?>
            <comments>
              <row Id="1" PostId="1" Score="1" Text="Good one" CreationDate="2020-01-01T12:00:00.000" UserId="2" />
              <row Id="2" PostId="1" Score="0" Text="Bot" CreationDate="2020-01-01T12:00:00.000" UserId="-1" />
            </comments>
            """);
        File.WriteAllText(Path.Combine(dir, "Votes.xml"), """
            <?xml version="1.0" encoding="utf-8"?>
            <votes>
              <row Id="1" PostId="1" VoteTypeId="2" CreationDate="2020-01-01T00:00:00.000" />
              <row Id="2" PostId="1" VoteTypeId="5" UserId="1" CreationDate="2020-01-03T00:00:00.000" />
              <row Id="3" PostId="99" VoteTypeId="5" UserId="2" CreationDate="2020-01-03T00:00:00.000" />
            </votes>
            """);
        File.WriteAllText(Path.Combine(dir, "Tags.xml"), """
            <?xml version="1.0" encoding="utf-8"?>
            <tags>
              <row Id="1" TagName="basics" Count="1" />
            </tags>
            """);
        return dir;
    }
}
