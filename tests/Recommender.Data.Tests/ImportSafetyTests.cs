using Recommender.Data.Import;
using Recommender.Testing;

namespace Recommender.Data.Tests;

/// <summary>Import input that would be stored wrong or dangerous: refused with file:line, nothing stored.</summary>
public sealed class ImportSafetyTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();
    private readonly string _scratch = Directory.CreateTempSubdirectory("recommender-import-safety-").FullName;

    public Task InitializeAsync() => _db.InitializeAsync();

    public async Task DisposeAsync()
    {
        Directory.Delete(_scratch, recursive: true);
        await _db.DisposeAsync();
    }

    [Theory]
    [InlineData("events.csv", "user_id,item_id,kind,value,occurred_at\nu1,a1,view,,2024-05-01T10:00:00Z\nu1,a1,view,,20200102\n", 3)]
    [InlineData("events.csv", "user_id,item_id,rating,timestamp\nu1,a1,7,1714557600\nu2,a1,8,19991231\n", 3)]
    [InlineData("items.csv", "item_id,title,published_at\na1,One,2024-05-01\na2,Two,20240501\n", 3)]
    public void Compact_eight_digit_dates_are_refused_as_ambiguous_with_file_and_line(string file, string content, int line)
    {
        if (file != "items.csv")
            File.WriteAllText(Path.Combine(_scratch, "items.csv"), "item_id,title\na1,One\n");
        File.WriteAllText(Path.Combine(_scratch, file), content);

        var error = Assert.Throws<ImportException>(() => ImportReaders.Directory(_scratch));

        Assert.Equal((Path.Combine(_scratch, file), (long)line), (error.File, error.Line));
        Assert.Contains("ambiguous", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Unix_seconds_that_are_not_a_calendar_date_still_read_as_seconds()
    {
        File.WriteAllText(Path.Combine(_scratch, "items.csv"), "item_id,title\na1,One\n");
        // Eight digits but month 13: no date reading exists, so it is unambiguous.
        File.WriteAllText(Path.Combine(_scratch, "events.csv"), "user_id,item_id,kind,value,occurred_at\nu1,a1,view,,20201301\nu1,a1,view,,1714557600\n");

        var batch = ImportReaders.Directory(_scratch);

        Assert.Equal([DateTimeOffset.FromUnixTimeSeconds(20201301), DateTimeOffset.FromUnixTimeSeconds(1714557600)], batch.Events.Select(e => e.OccurredAt));
    }

    [Theory]
    [InlineData("javascript:alert(1)")]
    [InlineData("data:text/html,<script>alert(1)</script>")]
    [InlineData("JAVASCRIPT:alert(1)")]
    [InlineData("vbscript:x")]
    [InlineData("ftp://example.org/file")]
    public async Task Import_refuses_a_non_http_url_with_file_and_line_and_stores_nothing(string url)
    {
        var items = Path.Combine(_scratch, "items.jsonl");
        File.WriteAllText(items, $"{{\"item_id\": \"ok\", \"title\": \"Fine\", \"url\": \"https://example.org/\"}}\n{{\"item_id\": \"bad\", \"title\": \"Bad\", \"url\": {System.Text.Json.JsonSerializer.Serialize(url)}}}\n");
        var before = await new CatalogStore(_db.DataSource).CountAsync();

        var error = await Assert.ThrowsAsync<ImportException>(() => new CatalogImporter(_db.DataSource).ImportAsync(ImportReaders.Directory(_scratch)));

        Assert.Equal((items, 2L), (error.File, error.Line));
        Assert.StartsWith("url ", error.Reason, StringComparison.Ordinal);
        Assert.Equal(before, await new CatalogStore(_db.DataSource).CountAsync());
    }

    [Theory]
    [InlineData("summary", CatalogRules.MaxSummaryLength)]
    [InlineData("body", CatalogRules.MaxBodyLength)]
    public async Task Import_refuses_an_overlong_summary_or_body_with_file_and_line_and_stores_nothing(string column, int max)
    {
        var items = Path.Combine(_scratch, "items.csv");
        File.WriteAllText(items, $"item_id,title,{column}\nok,Fine,{new string('a', max)}\nlong,Long,{new string('a', max + 1)}\n");
        var before = await new CatalogStore(_db.DataSource).CountAsync();

        var error = await Assert.ThrowsAsync<ImportException>(() => new CatalogImporter(_db.DataSource).ImportAsync(ImportReaders.Directory(_scratch)));

        Assert.Equal((items, 3L), (error.File, error.Line));
        Assert.Equal($"{column} at most {max} characters", error.Reason);
        Assert.Equal(before, await new CatalogStore(_db.DataSource).CountAsync());
    }

    [Fact]
    public void Idempotency_key_given_twice_for_different_events_is_refused_with_both_lines()
    {
        File.WriteAllText(Path.Combine(_scratch, "items.csv"), "item_id,title\na1,One\na2,Two\n");
        var events = Path.Combine(_scratch, "events.csv");
        File.WriteAllText(events, "user_id,item_id,kind,value,occurred_at,idempotency_key\n"
            + "u1,a1,like,,2024-05-01T10:00:00Z,same\nu1,a1,like,,2024-05-01T10:05:00Z,same\nu2,a1,like,,2024-05-01T10:00:00Z,same\nu1,a2,click,,2024-05-01T10:00:00Z,same\n");

        var error = Assert.Throws<ImportException>(() => ImportReaders.Directory(_scratch));

        // Line 3 repeats line 2's event (a retry), line 4 is another user's key: only line 5 is a different event.
        Assert.Equal((events, 5L), (error.File, error.Line));
        Assert.Equal("idempotency_key 'same' already used on line 2 for a different event", error.Reason);
    }
}
