using System.Text;
using Dapper;
using Recommender.Data.Import;
using Recommender.Testing;

namespace Recommender.Data.Tests;

public sealed class ImportTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();
    private readonly string _scratch = Directory.CreateTempSubdirectory("recommender-import-").FullName;

    public Task InitializeAsync() => _db.InitializeAsync();

    public async Task DisposeAsync()
    {
        Directory.Delete(_scratch, recursive: true);
        await _db.DisposeAsync();
    }

    private Task<ImportResult> ImportAsync(ImportBatch batch) => new CatalogImporter(_db.DataSource).ImportAsync(batch);

    private async Task<CatalogCounts> CountsAsync() => await new CatalogStore(_db.DataSource).CountAsync();

    [SharedDataFact(SharedDataSet.MovieTweetings)]
    public async Task ImportAsync_movietweetings_stores_exact_counts_and_rerun_adds_nothing()
    {
        var first = await ImportAsync(ImportReaders.MovieTweetings(RepositoryPaths.MovieTweetings));

        Assert.Equal(new CatalogCounts(Items: 10_506, Topics: 25, Sources: 0, Users: 16_554, Events: 100_000), await CountsAsync());
        Assert.Equal(100_000, first.EventsAdded);
        Assert.Equal(16_554, first.UsersAdded);

        var second = await ImportAsync(ImportReaders.MovieTweetings(RepositoryPaths.MovieTweetings));

        Assert.Equal((0, 0, 0, 0, 0L), (second.ItemsAdded, second.ItemsUpdated, second.TopicsAdded, second.UsersAdded, second.EventsAdded));
        Assert.Equal(new CatalogCounts(10_506, 25, 0, 16_554, 100_000), await CountsAsync());
    }

    [SharedDataFact(SharedDataSet.MovieTweetings)]
    public async Task ImportAsync_movietweetings_keeps_values_timestamps_and_genres()
    {
        await ImportAsync(ImportReaders.MovieTweetings(RepositoryPaths.MovieTweetings));

        await using var conn = await _db.DataSource.OpenConnectionAsync();
        // First line of ratings.dat: 1::1074638::7::1365029107
        var e = await conn.QuerySingleAsync<(string Kind, float Value, DateTime At)>("""
            select e.kind, e.value, e.occurred_at from events e join users u on u.id = e.user_id join items i on i.id = e.item_id
            where u.external_id = '1' and i.external_id = '1074638'
            """);
        Assert.Equal(("rating", 7f, DateTimeOffset.FromUnixTimeSeconds(1365029107).UtcDateTime), e);
        // 0004936::The Bank (1915)::Comedy|Short
        var topics = await conn.QueryAsync<string>("""
            select t.name from items i join item_topics it on it.item_id = i.id join topics t on t.id = it.topic_id
            where i.external_id = '0004936' order by t.name
            """);
        Assert.Equal(["Comedy", "Short"], topics);
        Assert.Equal(new DateTime(1915, 1, 1, 0, 0, 0, DateTimeKind.Utc),
            await conn.ExecuteScalarAsync<DateTime>("select published_at from items where external_id = '0004936'"));
        // 2185694::Llandudno Happy Valley and Minstrel Show (1898): a year before any date the catalog takes is no date, not a failed import.
        Assert.Null(await conn.ExecuteScalarAsync<DateTime?>("select published_at from items where external_id = '2185694'"));
    }

    [Fact]
    public async Task ImportAsync_row_the_API_would_refuse_fails_with_its_line_and_column_whichever_reader_made_it()
    {
        var before = await CountsAsync();
        var batch = new ImportBatch { ItemsFile = "movies.dat" };
        batch.Items.Add(new ItemRow(1, "m1", "Fine", null, null, null, null, null, null, []));
        batch.Items.Add(new ItemRow(2, "m2", new string('t', CatalogRules.MaxTitleLength + 1), null, null, null, null, null, null, []));

        var error = await Assert.ThrowsAsync<ImportException>(() => ImportAsync(batch));

        Assert.Equal(("movies.dat", 2L, "title is required, at most 1000 characters"), (error.File, error.Line, error.Reason));
        Assert.Equal(before, await CountsAsync());
    }

    public static TheoryData<string, int, string> BadRatingRows => new()
    {
        { "5::0004936::7", 2, "expected 4 fields" },
        { "5::0004936::seven::1365029107", 2, "rating 'seven' is not a number" },
        { "5::0004936::11::1365029107", 2, "rating 11 is outside 0..10" },
        { "5::0004936::-1::1365029107", 2, "rating -1 is outside 0..10" },
        { "5::0004936::7::yesterday", 2, "timestamp 'yesterday'" },
    };

    [SharedDataTheory(SharedDataSet.MovieTweetings)]
    [MemberData(nameof(BadRatingRows))]
    public async Task MovieTweetings_bad_row_fails_with_its_line_and_leaves_database_as_it_was(string badRow, int line, string reason)
    {
        await ImportAsync(ImportReaders.MovieTweetings(RepositoryPaths.MovieTweetings));
        var before = await CountsAsync();
        var dir = CopyMovieTweetingsWithRatings(["9::0004936::8::1365029107", badRow, "9::0005078::6::1365029108"]);

        var error = Assert.Throws<ImportException>(() => ImportReaders.MovieTweetings(dir));

        Assert.Equal(Path.Combine(dir, "ratings.dat"), error.File);
        Assert.Equal(line, error.Line);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.StartsWith($"{Path.Combine(dir, "ratings.dat")}:{line}: ", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task Directory_invalid_utf8_fails_with_the_line()
    {
        File.WriteAllText(Path.Combine(_scratch, "items.csv"), "item_id,title\na,First\n");
        var bytes = Encoding.UTF8.GetBytes("item_id,title\na,First\nb,Sec").Concat(new byte[] { 0xC3, 0x28 }).Concat(Encoding.UTF8.GetBytes("ond\n")).ToArray();
        await File.WriteAllBytesAsync(Path.Combine(_scratch, "items.csv"), bytes);

        var error = Assert.Throws<ImportException>(() => ImportReaders.Directory(_scratch));

        Assert.Equal(3, error.Line);
        Assert.Contains("UTF-8", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Directory_unknown_event_kind_fails_with_the_line()
    {
        WriteGeneric(events: """
            user_id,item_id,kind,value,occurred_at
            u1,a1,click,,2024-05-01T10:00:00Z
            u1,a1,shared,,2024-05-01T10:01:00Z
            """);

        var error = Assert.Throws<ImportException>(() => ImportReaders.Directory(_scratch));

        Assert.Equal((3L, "events.csv"), (error.Line, Path.GetFileName(error.File)));
        Assert.Contains("kind 'shared' is not one of", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Directory_wrong_column_count_fails_with_the_line()
    {
        WriteGeneric(items: """
            item_id,title,topics
            a1,"Deep sea, explained",Oceans
            a2,Two,Oceans,extra
            """);

        var error = Assert.Throws<ImportException>(() => ImportReaders.Directory(_scratch));

        Assert.Equal(3, error.Line);
        Assert.Contains("expected 3 columns, found 4", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImportAsync_event_for_unknown_item_fails_with_the_line_and_commits_nothing()
    {
        WriteGeneric(events: """
            user_id,item_id,kind,value,occurred_at
            u1,a1,click,,2024-05-01T10:00:00Z
            u2,a2,view,,2024-05-01T10:00:00Z
            u2,zzz,view,,2024-05-01T10:00:00Z
            """);

        var error = await Assert.ThrowsAsync<ImportException>(() => ImportAsync(ImportReaders.Directory(_scratch)));

        Assert.Equal(4, error.Line);
        Assert.Contains("'zzz'", error.Reason, StringComparison.Ordinal);
        Assert.Equal(new CatalogCounts(0, 0, 0, 0, 0), await CountsAsync());
    }

    [Fact]
    public async Task ImportAsync_generic_csv_stores_every_field()
    {
        WriteGeneric();

        var result = await ImportAsync(ImportReaders.Directory(_scratch));

        Assert.Equal((2, 2, 3, 2, 3L), (result.SourcesAdded, result.ItemsAdded, result.TopicsAdded, result.UsersAdded, result.EventsAdded));
        var items = await new CatalogStore(_db.DataSource).ListAsync(0, 10);
        var deepSea = Assert.Single(items, i => i.ExternalId == "a1");
        Assert.Equal("Deep sea, explained", deepSea.Title);
        Assert.Equal("https://example.org/a1", deepSea.Url);
        Assert.Equal((short)2, deepSea.Level);
        Assert.Equal(("Ocean Weekly", 0.9f, -1f), (deepSea.SourceName, deepSea.Credibility, deepSea.Stance));
        Assert.Equal(["Biology", "Oceans"], deepSea.Topics);
        Assert.Equal(new DateTime(2024, 4, 2, 0, 0, 0, DateTimeKind.Utc), deepSea.PublishedAt);

        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var quiz = await conn.QuerySingleAsync<(string Kind, float? Value)>("select kind, value from events where idempotency_key = 'client-key-7'");
        Assert.Equal(("quiz_correct", 1f), quiz);
    }

    [Fact]
    public async Task ImportAsync_generic_rerun_that_changes_only_topics_counts_those_items_as_updated()
    {
        WriteGeneric();
        await ImportAsync(ImportReaders.Directory(_scratch));
        // a1 loses Biology, a2 gains Oceans; nothing else about either changes.
        WriteGeneric(items: """
            item_id,title,url,summary,published_at,level,source_id,stance,topics
            a1,"Deep sea, explained",https://example.org/a1,,2024-04-02,2,s1,-1,Oceans
            a2,Rust for beginners,,An intro,2024-04-03,1,s2,,Programming|Oceans
            """);

        var retopiced = await ImportAsync(ImportReaders.Directory(_scratch));
        var again = await ImportAsync(ImportReaders.Directory(_scratch));

        Assert.Equal((0, 2), (retopiced.ItemsAdded, retopiced.ItemsUpdated));
        Assert.Equal((0, 0), (again.ItemsAdded, again.ItemsUpdated));
        var items = await new CatalogStore(_db.DataSource).ListAsync(0, 10);
        Assert.Equal(["Oceans"], items.Single(i => i.ExternalId == "a1").Topics);
        Assert.Equal(["Oceans", "Programming"], items.Single(i => i.ExternalId == "a2").Topics.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ImportAsync_generic_rerun_and_edit_updates_without_duplicates()
    {
        WriteGeneric();
        await ImportAsync(ImportReaders.Directory(_scratch));
        WriteGeneric(items: """
            item_id,title,url,summary,published_at,level,source_id,stance,topics
            a1,"Deep sea, revised",https://example.org/a1,,2024-04-02,3,s1,-1,Oceans
            a2,Rust for beginners,,An intro,2024-04-03,1,s2,,Programming
            """);

        var rerun = await ImportAsync(ImportReaders.Directory(_scratch));

        Assert.Equal((0, 1, 0L), (rerun.ItemsAdded, rerun.ItemsUpdated, rerun.EventsAdded));
        var deepSea = Assert.Single(await new CatalogStore(_db.DataSource).ListAsync(0, 10), i => i.ExternalId == "a1");
        Assert.Equal(("Deep sea, revised", (short?)3), (deepSea.Title, deepSea.Level));
        Assert.Equal(["Oceans"], deepSea.Topics);
        Assert.Equal(3, (await CountsAsync()).Events);
    }

    [Fact]
    public async Task ImportAsync_items_jsonl_reads_topics_arrays()
    {
        File.WriteAllText(Path.Combine(_scratch, "items.jsonl"), """
            {"item_id": "j1", "title": "Photosynthesis", "topics": ["Biology", "Plants"], "level": 2}
            {"item_id": 17, "title": "Tides", "topics": ["Oceans", "Physics"], "published_at": "2023-01-05T08:00:00+01:00"}
            """);

        var result = await ImportAsync(ImportReaders.Directory(_scratch));

        Assert.Equal(2, result.ItemsAdded);
        var tides = Assert.Single(await new CatalogStore(_db.DataSource).ListAsync(0, 10, "Physics"));
        Assert.Equal(("17", new DateTime(2023, 1, 5, 7, 0, 0, DateTimeKind.Utc)), (tides.ExternalId, tides.PublishedAt));
    }

    [Fact]
    public async Task ImportAsync_synthetic_shape_reads_ratings_csv()
    {
        File.WriteAllText(Path.Combine(_scratch, "sources.csv"), "source_id,name,credibility\n1,Source 01,0.262\n");
        File.WriteAllText(Path.Combine(_scratch, "items.csv"), "item_id,title,topics,level,source_id,stance\n1,Item 1,topic-07,2,1,0\n2,Item 2,topic-15|topic-02,5,1,-1\n");
        File.WriteAllText(Path.Combine(_scratch, "ratings.csv"), "user_id,item_id,rating,timestamp\n121,2,4,1600001439\n820,1,5,1600003613\n");

        var result = await ImportAsync(ImportReaders.Directory(_scratch, "ratings.csv"));

        Assert.Equal((2, 3, 2L), (result.ItemsAdded, result.TopicsAdded, result.EventsAdded));
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(9f, await conn.ExecuteScalarAsync<float>("select sum(value) from events where kind = 'rating'"));
    }

    // Each case: a file name, its content ('\u00FF' stands for an invalid UTF-8 byte), the line the error must name, and words of its reason.
    public static TheoryData<string, string, int, string> MalformedGenericFiles => new()
    {
        { "items.csv", "item_id,title,topics\na1,One,Oceans\na2,\"Two, unclosed,Oceans\na3,Three,Physics\na4,Four,Music\n", 3, "quote" },
        { "items.csv", "item_id,title,topics\na1,One,Oceans\na2,Two,\"Oceans\na3,Three,Physics\na4,Four,Music\n", 3, "quote" },
        { "items.csv", "item_id,title,topics\na1,One,Oceans\na2,Tw\"o\",Oceans\n", 3, "quote" },
        { "items.csv", "item_id,topics\na1,Oceans\n", 1, "no 'title' column" },
        { "items.csv", "item_id,title\na1,One\na2,Tw\u0000o\n", 3, "NUL" },
        { "items.csv", "item_id,title\na1,One\na2,T\u00FFwo\n", 3, "UTF-8" },
        { "items.jsonl", "{\"item_id\": \"j1\", \"title\": \"One\"}\n{\"item_id\": \"j2\", \"title\": \"Tw\n", 2, "not a JSON object" },
        { "items.jsonl", "{\"item_id\": \"j1\", \"title\": \"One\"}\n{\"item_id\": \"j2\", \"title\": {\"text\": \"Two\"}}\n", 2, "title must be a string or a number" },
        { "items.jsonl", "{\"item_id\": \"j1\", \"title\": \"One\"}\n{\"item_id\": \"j2\", \"title\": \"Two\", \"level\": true}\n", 2, "level must be a string or a number" },
        { "items.jsonl", "{\"item_id\": \"j1\", \"title\": \"One\"}\n{\"item_id\": \"j2\", \"title\": \"Two\", \"topics\": [1, 2]}\n", 2, "topics must hold strings" },
        // A string is not split as an items.csv cell is: the REST API refuses one too.
        { "items.jsonl", "{\"item_id\": \"j1\", \"title\": \"One\"}\n{\"item_id\": \"j2\", \"title\": \"Two\", \"topics\": \"Oceans|Physics\"}\n", 2, "topics must be an array of strings" },
        { "items.jsonl", "{\"item_id\": \"j1\", \"title\": \"One\"}\n[\"j2\", \"Two\"]\n", 2, "not a JSON object" },
        { "items.jsonl", "{\"item_id\": \"j1\", \"title\": \"One\"}\n{\"title\": \"Two\"}\n", 2, "item_id is empty" },
        { "items.jsonl", "{\"item_id\": \"j1\", \"title\": \"One\"}\n{\"item_id\": \"j2\", \"title\": \"Two\", \"level\": 1e400}\n", 2, "level" },
        { "items.jsonl", "{\"item_id\": \"j1\", \"title\": \"One\"}\n{\"item_id\": \"j2\", \"title\": \"T\\u0000wo\"}\n", 2, "NUL" },
        { "items.jsonl", "{\"item_id\": \"j1\", \"title\": \"One\"}\n{\"item_id\": \"j2\", \"title\": \"T\u00FFwo\"}\n", 2, "UTF-8" },
        { "events.csv", "user_id,item_id,kind,value\nu1,a1,click,\n", 1, "no 'occurred_at' column" },
        { "events.csv", "user_id,item_id,occurred_at\nu1,a1,2024-05-01T10:00:00Z\n", 1, "no 'kind' column" },
        { "events.csv", "user_id,item_id,kind,value,occurred_at\nu1,a1,click,,2024-05-01T10:00:00Z\nu1,a1,click,,\"2024-05-01\n", 3, "quote" },
        { "events.csv", "user_id,item_id,kind,value,occurred_at\nu1,a1,click,,2024-05-01T10:00:00Z\nu\u00FF,a1,click,,2024-05-01T10:00:00Z\n", 3, "UTF-8" },
        // What the API refuses, a file may not bring in: the same rules (CatalogRules), named by column.
        { "items.csv", $"item_id,title\na1,One\na2,{new string('t', CatalogRules.MaxTitleLength + 1)}\n", 3, "title is required, at most 1000 characters" },
        { "items.csv", $"item_id,title\na1,One\n{new string('i', CatalogRules.MaxIdLength + 1)},Two\n", 3, "item_id is required, at most 200 characters" },
        { "items.csv", "item_id,title,published_at\na1,One,2024-01-01\na2,Two,0001-01-01\n", 3, "published_at must be between 1900-01-01 and 2200-01-01" },
        { "items.csv", "item_id,title,published_at\na1,One,2024-01-01\na2,Two,9999-12-31\n", 3, "published_at must be between" },
        { "items.csv", $"item_id,title,topics\na1,One,Oceans\na2,Two,{new string('o', CatalogRules.MaxTopicLength + 1)}\n", 3, "topics at most 50 topics, each 1 to 100" },
        { "items.jsonl", $"{{\"item_id\": \"j1\", \"title\": \"One\"}}\n{{\"item_id\": \"j2\", \"title\": \"Two\", \"topics\": [{string.Join(", ", Enumerable.Range(0, 500).Select(i => $"\"t{i}\""))}]}}\n", 2, "topics at most 50" },
        { "items.csv", "item_id,title,level\na1,One,2\na2,Two,7\n", 3, "level must be between 1 and 5" },
        { "events.csv", "user_id,item_id,kind,value,occurred_at\nu1,a1,click,,2024-05-01T10:00:00Z\nu1,a1,click,,2999-01-01\n", 3, "occurred_at must be from 1970 to no more than a day ahead of now" },
        // Only unix seconds and ISO 8601: a culture's order of day and month is a guess that misdates rows without a word.
        { "items.csv", "item_id,title,published_at\na1,One,2024-04-02\na2,Two,02/04/2024\n", 3, "published_at '02/04/2024' is neither unix seconds nor ISO 8601: write a date such as 2024-04-02" },
        { "items.csv", "item_id,title,published_at\na1,One,2024-04-02\na2,Two,04/13/2024\n", 3, "published_at '04/13/2024' is neither unix seconds nor ISO 8601" },
        { "items.csv", "item_id,title,published_at\na1,One,2024-04-02\na2,Two,\"April 2, 2024\"\n", 3, "published_at 'April 2, 2024' is neither" },
        { "items.jsonl", "{\"item_id\": \"j1\", \"title\": \"One\"}\n{\"item_id\": \"j2\", \"title\": \"Two\", \"published_at\": \"2024-04-02 10:00:00\"}\n", 2, "published_at '2024-04-02 10:00:00' is neither" },
        { "events.csv", "user_id,item_id,kind,value,occurred_at\nu1,a1,click,,2024-05-01T10:00:00Z\nu1,a1,click,,05/01/2024\n", 3, "occurred_at '05/01/2024' is neither unix seconds nor ISO 8601" },
        { "events.csv", $"user_id,item_id,kind,value,occurred_at\nu1,a1,click,,2024-05-01T10:00:00Z\n{new string('u', CatalogRules.MaxIdLength + 1)},a1,click,,2024-05-01T10:00:00Z\n", 3, "user_id is required, at most 200" },
    };

    [Theory]
    [MemberData(nameof(MalformedGenericFiles))]
    public async Task Directory_malformed_file_fails_with_file_and_line_and_stores_nothing(string file, string content, int line, string reason)
    {
        WriteGeneric();
        await ImportAsync(ImportReaders.Directory(_scratch));
        var before = await CountsAsync();
        var dir = Directory.CreateDirectory(Path.Combine(_scratch, "bad")).FullName;
        if (file != "items.csv" && file != "items.jsonl")
            File.WriteAllText(Path.Combine(dir, "items.csv"), "item_id,title\na1,One\n");
        await File.WriteAllBytesAsync(Path.Combine(dir, file), [.. content.Split('\u00FF').SelectMany((part, i) => (i == 0 ? [] : new byte[] { 0xFF }).Concat(Encoding.UTF8.GetBytes(part)))]);

        var error = await Assert.ThrowsAsync<ImportException>(async () => await ImportAsync(ImportReaders.Directory(dir)));

        Assert.Equal((Path.Combine(dir, file), (long)line), (error.File, error.Line));
        Assert.Contains(reason, error.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith($"{Path.Combine(dir, file)}:{line}: ", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await CountsAsync());
    }

    [Theory]
    [InlineData("1712016000", "2024-04-02T00:00:00Z")]
    [InlineData("2024-04-02", "2024-04-02T00:00:00Z")]
    [InlineData("2024-04-02T10:30", "2024-04-02T10:30:00Z")]
    [InlineData("2024-04-02T10:30:15", "2024-04-02T10:30:15Z")]
    [InlineData("2024-04-02T10:30:15Z", "2024-04-02T10:30:15Z")]
    [InlineData("2024-04-02T10:30:15.25+01:00", "2024-04-02T09:30:15.25Z")]
    [InlineData("2024-04-02T10:30:15.1234567-05:30", "2024-04-02T16:00:15.1234567Z")]
    public void Directory_reads_unix_seconds_and_every_iso_8601_form(string written, string utc)
    {
        File.WriteAllText(Path.Combine(_scratch, "items.csv"), $"item_id,title,published_at\na1,One,{written}\n");

        var item = Assert.Single(ImportReaders.Directory(_scratch).Items);

        Assert.Equal(DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture), item.PublishedAt);
        Assert.Equal(TimeSpan.Zero, item.PublishedAt!.Value.Offset);
    }

    [Theory]
    [InlineData("items.csv", "items.jsonl", "{\"item_id\": \"a1\", \"title\": \"One\"}")]
    [InlineData("events.csv", "events.jsonl", "{\"user_id\": \"u1\", \"item_id\": \"a1\", \"kind\": \"click\", \"occurred_at\": \"2024-05-01\"}")]
    public async Task Directory_with_two_files_for_one_thing_refuses_naming_both_and_stores_nothing(string csv, string jsonl, string line)
    {
        WriteGeneric();
        File.WriteAllText(Path.Combine(_scratch, jsonl), line + "\n");

        var error = Assert.Throws<InvalidDataException>(() => ImportReaders.Directory(_scratch));

        Assert.Contains($"both {csv} and {jsonl}", error.Message, StringComparison.Ordinal);
        Assert.Equal(new CatalogCounts(0, 0, 0, 0, 0), await CountsAsync());
    }

    [Fact]
    public void Directory_with_events_jsonl_alone_says_events_are_read_from_events_csv()
    {
        File.WriteAllText(Path.Combine(_scratch, "items.csv"), "item_id,title\na1,One\n");
        File.WriteAllText(Path.Combine(_scratch, "events.jsonl"), "{}\n");

        var error = Assert.Throws<InvalidDataException>(() => ImportReaders.Directory(_scratch));

        Assert.Contains("events.jsonl is not read; events are read from events.csv", error.Message, StringComparison.Ordinal);
    }

    private const string NoEvents = "user_id,item_id,kind,value,occurred_at\n";

    private sealed record StoredItem(string Title, string? Url, string? Summary, DateTime? PublishedAt, short? Level, string? Source, float? Stance,
        string? LevelBasis, string? Body, string? AskedBy, string? License, string Topics);

    private async Task<StoredItem> ItemAsync(string externalId)
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        return await conn.QuerySingleAsync<StoredItem>("""
            select i.title, i.url, i.summary, i.published_at as publishedat, i.level, s.external_id as source, i.stance,
                   i.level_basis as levelbasis, i.body, a.external_id as askedby, i.license,
                   coalesce((select string_agg(t.name, '|' order by t.name) from item_topics it join topics t on t.id = it.topic_id
                             where it.item_id = i.id), '') as topics
            from items i left join sources s on s.id = i.source_id left join sources a on a.id = i.asked_by_source_id
            where i.external_id = @externalId
            """, new { externalId });
    }

    private async Task<(float? Credibility, string? Url, string? Basis)> SourceAsync(string externalId)
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        return await conn.QuerySingleAsync<(float?, string?, string?)>(
            "select credibility, url, credibility_basis from sources where external_id = @externalId", new { externalId });
    }

    [Fact]
    public async Task ImportAsync_csv_without_a_column_keeps_its_stored_values_and_an_empty_field_clears_one()
    {
        WriteGeneric(items: """
            item_id,title,url,summary,published_at,level,source_id,stance,topics,level_basis,body
            a1,"Deep sea, explained",https://example.org/a1,Down there,2024-04-02,2,s1,-1,Oceans|Biology,Reads at grade 6,The text
            """, events: NoEvents);
        await ImportAsync(ImportReaders.Directory(_scratch));
        var stored = await ItemAsync("a1");

        WriteGeneric(items: "item_id,title\na1,Deep sea (revised)\na9,New here\n", events: NoEvents);
        var titlesOnly = await ImportAsync(ImportReaders.Directory(_scratch));

        Assert.Equal((1, 1), (titlesOnly.ItemsAdded, titlesOnly.ItemsUpdated));
        Assert.Equal(stored with { Title = "Deep sea (revised)" }, await ItemAsync("a1"));
        Assert.Equal(new StoredItem("New here", null, null, null, null, null, null, null, null, null, null, ""), await ItemAsync("a9"));

        WriteGeneric(items: "item_id,title,url,level,topics\na1,Deep sea (revised),,,\n", events: NoEvents);
        await ImportAsync(ImportReaders.Directory(_scratch));

        Assert.Equal(stored with { Title = "Deep sea (revised)", Url = null, Level = null, Topics = "" }, await ItemAsync("a1"));
    }

    [Fact]
    public async Task ImportAsync_jsonl_property_left_out_keeps_its_stored_value_and_null_clears_it()
    {
        WriteGeneric();
        await ImportAsync(ImportReaders.Directory(_scratch));
        var stored = await ItemAsync("a1");
        File.Delete(Path.Combine(_scratch, "items.csv"));
        File.Delete(Path.Combine(_scratch, "events.csv"));

        File.WriteAllText(Path.Combine(_scratch, "items.jsonl"), """{"item_id": "a1", "title": "Deep sea (revised)"}""" + "\n");
        await ImportAsync(ImportReaders.Directory(_scratch));

        Assert.Equal(stored with { Title = "Deep sea (revised)" }, await ItemAsync("a1"));

        File.WriteAllText(Path.Combine(_scratch, "items.jsonl"), """{"item_id": "a1", "title": "Deep sea (revised)", "url": null, "topics": null, "level": null}""" + "\n");
        await ImportAsync(ImportReaders.Directory(_scratch));

        Assert.Equal(stored with { Title = "Deep sea (revised)", Url = null, Level = null, Topics = "" }, await ItemAsync("a1"));
    }

    [Fact]
    public async Task ImportAsync_signed_row_states_every_field_its_signature_covers_and_keeps_the_others()
    {
        WriteGeneric(items: """
            item_id,title,url,level,source_id,topics,body
            a1,Tides,https://example.org/a1,2,s1,Oceans,The text
            """, events: NoEvents);
        await ImportAsync(ImportReaders.Directory(_scratch));
        var stored = await ItemAsync("a1");
        File.Delete(Path.Combine(_scratch, "items.csv"));
        File.WriteAllText(Path.Combine(_scratch, "items.jsonl"),
            $$"""{"item_id": "a1", "title": "Tides", "signature": "{{Convert.ToBase64String(new byte[64])}}"}""" + "\n");

        await ImportAsync(ImportReaders.Directory(_scratch));

        Assert.Equal(stored with { Url = null, Level = null, Source = null, Topics = "" }, await ItemAsync("a1"));
    }

    [Fact]
    public async Task ImportAsync_generic_file_keeps_the_licence_and_asker_only_a_stack_exchange_import_sets()
    {
        var dump = new ImportBatch();
        dump.Sources.Add(new SourceRow(1, "se:alice", "Alice", 0.8f, "https://example.org/users/1", "reputation 4,268"));
        dump.Sources.Add(new SourceRow(2, "se:bob", "Bob", 0.4f));
        dump.Items.Add(new ItemRow(1, "se:q1", "Why?", "https://example.org/q/1", null, null, 3, "se:alice", null, ["qubits"],
            AskedBySourceExternalId: "se:bob", License: "CC BY-SA 4.0"));
        await ImportAsync(dump);
        File.WriteAllText(Path.Combine(_scratch, "items.csv"), "item_id,title,level\nse:q1,Why (edited)?,4\n");

        await ImportAsync(ImportReaders.Directory(_scratch));

        var item = await ItemAsync("se:q1");
        Assert.Equal(("Why (edited)?", (short?)4, "se:alice", "se:bob", "CC BY-SA 4.0", "https://example.org/q/1", "qubits"),
            (item.Title, item.Level, item.Source, item.AskedBy, item.License, item.Url, item.Topics));
    }

    [Fact]
    public async Task ImportAsync_sources_csv_without_a_column_keeps_its_stored_values_and_an_empty_field_clears_one()
    {
        File.WriteAllText(Path.Combine(_scratch, "sources.csv"),
            "source_id,name,credibility,url,credibility_basis\ns1,Ocean Weekly,0.9,https://example.org/ocean,Peer reviewed\n");
        await ImportAsync(SourcesOnly());

        File.WriteAllText(Path.Combine(_scratch, "sources.csv"), "source_id,name\ns1,Ocean Weekly (renamed)\n");
        await ImportAsync(SourcesOnly());

        Assert.Equal((0.9f, "https://example.org/ocean", "Peer reviewed"), await SourceAsync("s1"));

        File.WriteAllText(Path.Combine(_scratch, "sources.csv"), "source_id,name,credibility\ns1,Ocean Weekly,\n");
        await ImportAsync(SourcesOnly());

        Assert.Equal(((float?)null, "https://example.org/ocean", "Peer reviewed"), await SourceAsync("s1"));
    }

    [Theory]
    [InlineData("source_id,name,url\ns1,Ocean Weekly,https://example.org/ocean\ns2,Code Digest,javascript:alert(1)\n", "url must be an http:// or https:// address")]
    [InlineData("source_id,name,credibility\ns1,Ocean Weekly,0.9\ns2,Code Digest,1.5\n", "credibility must be between 0 and 1")]
    public async Task ImportAsync_source_the_API_would_refuse_fails_with_its_line_and_column_and_stores_nothing(string sources, string reason)
    {
        File.WriteAllText(Path.Combine(_scratch, "sources.csv"), sources);

        var error = await Assert.ThrowsAsync<ImportException>(() => ImportAsync(SourcesOnly()));

        Assert.Equal(("sources.csv", 3L), (Path.GetFileName(error.File), error.Line));
        Assert.StartsWith(reason, error.Reason, StringComparison.Ordinal);
        Assert.Equal(new CatalogCounts(0, 0, 0, 0, 0), await CountsAsync());
    }

    /// <summary>The scratch folder's sources.csv alone (the generic import wants items or events beside it).</summary>
    private ImportBatch SourcesOnly()
    {
        File.WriteAllText(Path.Combine(_scratch, "items.csv"), "item_id,title\n");
        return ImportReaders.Directory(_scratch);
    }

    [Theory]
    [InlineData("bad timestamp", "yesterday", "occurred_at 'yesterday'")]
    [InlineData("unknown item", "2024-05-01T10:00:00Z", "'zzz'")]
    public async Task ImportAsync_bad_row_deep_in_a_large_file_names_its_line_and_stores_nothing(string what, string badTime, string reason)
    {
        WriteGeneric();
        await ImportAsync(ImportReaders.Directory(_scratch));
        var before = await CountsAsync();
        const int rows = 60_000, badRow = 54_321;
        var events = new StringBuilder("user_id,item_id,kind,value,occurred_at\n");
        for (var i = 1; i <= rows; i++)
        {
            var item = i == badRow && what == "unknown item" ? "zzz" : i % 2 == 0 ? "a1" : "a2";
            var at = i == badRow ? badTime : DateTimeOffset.FromUnixTimeSeconds(1_714_557_600 + i).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
            events.Append($"deep-u{i % 997},{item},view,,{at}\n");
        }
        WriteGeneric(events: events.ToString());

        var error = await Assert.ThrowsAsync<ImportException>(async () => await ImportAsync(ImportReaders.Directory(_scratch)));

        Assert.Equal(("events.csv", (long)badRow + 1), (Path.GetFileName(error.File), error.Line));
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.Equal(before, await CountsAsync());
    }

    private string CopyMovieTweetingsWithRatings(string[] ratings)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_scratch, "mt")).FullName;
        File.Copy(Path.Combine(RepositoryPaths.MovieTweetings, "movies.dat"), Path.Combine(dir, "movies.dat"));
        File.WriteAllLines(Path.Combine(dir, "ratings.dat"), ratings);
        return dir;
    }

    private void WriteGeneric(string? items = null, string? events = null)
    {
        File.WriteAllText(Path.Combine(_scratch, "sources.csv"), """
            source_id,name,credibility
            s1,Ocean Weekly,0.9
            s2,Code Digest,0.7
            """);
        File.WriteAllText(Path.Combine(_scratch, "items.csv"), items ?? """
            item_id,title,url,summary,published_at,level,source_id,stance,topics
            a1,"Deep sea, explained",https://example.org/a1,,2024-04-02,2,s1,-1,Oceans|Biology
            a2,Rust for beginners,,An intro,2024-04-03,1,s2,,Programming
            """);
        File.WriteAllText(Path.Combine(_scratch, "events.csv"), events ?? """
            user_id,item_id,kind,value,occurred_at,idempotency_key
            u1,a1,click,,2024-05-01T10:00:00Z,
            u1,a2,rating,8,1714557600,
            u2,a2,quiz_correct,1,2024-05-02T09:30:00Z,client-key-7
            """);
    }
}
