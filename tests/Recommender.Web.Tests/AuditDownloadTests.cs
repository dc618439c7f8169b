using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Recommender.Data;
using Recommender.Serving;

namespace Recommender.Web.Tests;

/// <summary>
/// The audit pages hand their evidence on: a record as one JSON file and the explorer's filter as JSON lines, each
/// record exactly as the admin REST API's GET /api/admin/served answers it.
/// </summary>
[Collection(WebCollection.Name)]
public sealed class AuditDownloadTests(WebFixture web)
{
    private async Task<WebClient> AdminAsync()
    {
        var client = web.NewClient();
        await client.SignInAsync(await web.NewAccountAsync("admin"));
        return client;
    }

    /// <summary>A reader who has been shown <paramref name="feeds"/> lists, and those lists as stored, newest first.</summary>
    private async Task<(Account Reader, IReadOnlyList<ServedListRow> Lists)> ServedAsync(int feeds)
    {
        var reader = await web.NewAccountAsync();
        using (var client = await web.OnboardedAsync(reader, "diversity"))
        {
            for (var i = 0; i < feeds; i++)
                Assert.Equal(HttpStatusCode.OK, (await client.PageAsync("/")).Status);
        }
        await web.FlushAuditAsync();
        return (reader, await new ServedListStore(web.DataSource).QueryAsync(new ServedListFilter(UserId: reader.Id, Limit: 100)));
    }

    /// <summary>A record as the REST route writes it: <see cref="AuditRow"/> with its serializer options (the service's tests hold the route to these bytes).</summary>
    private string AsTheApiAnswers(ServedListRow row) =>
        JsonSerializer.Serialize(AuditRow.From(row, web.Services.GetRequiredService<ServingState>().ExternalIdOf), AuditRow.Json);

    [Fact]
    public async Task Audit_record_links_to_itself_as_a_json_file_as_the_rest_api_gives_it()
    {
        var (_, lists) = await ServedAsync(1);
        var row = lists[0];
        using var admin = await AdminAsync();

        var (_, page, _) = await admin.PageAsync($"/admin/audit/{row.RequestId}");
        var link = page.QuerySelector("a#download-record")!;
        using var file = await admin.GetAsync(link.GetAttribute("href")!);
        using var missing = await admin.GetAsync($"/admin/audit/{Guid.NewGuid()}.json");

        Assert.Equal("Download this record (JSON)", link.TextContent);
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal("application/json", file.Content.Headers.ContentType!.MediaType);
        Assert.Equal("attachment", file.Content.Headers.ContentDisposition!.DispositionType);
        Assert.Equal($"recommender-audit-record-{row.CreatedAt:yyyy-MM-dd}-{row.RequestId}.json", file.Content.Headers.ContentDisposition.FileName);
        Assert.Equal(AsTheApiAnswers(row), await file.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Audit_explorer_downloads_every_record_its_filters_match_as_json_lines_newest_first()
    {
        var (reader, lists) = await ServedAsync(3);
        Assert.Equal(3, lists.Count);
        using var admin = await AdminAsync();

        var (_, page, _) = await admin.PageAsync($"/admin/audit?who={reader.Login}&objective=diversity");
        var paragraph = page.QuerySelector("#download-records")!;
        var link = paragraph.QuerySelector("a")!;
        using var file = await admin.GetAsync(link.GetAttribute("href")!);
        var lines = (await file.Content.ReadAsStringAsync()).Split('\n');
        // Another goal matches none of theirs: an empty file, not an error.
        using var none = await admin.GetAsync(AuditDownloads.RecordsAddress(reader.Id, "learning", null, null));

        Assert.Equal("Download these records (JSON lines)", link.TextContent);
        // The page says the cap, in the figure the endpoint applies.
        Assert.Contains($"up to {AuditDownloads.MaxRecords:N0}", paragraph.TextContent, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal("attachment", file.Content.Headers.ContentDisposition!.DispositionType);
        Assert.Matches($@"^recommender-audit-records-{reader.Login}-diversity-taken-\d{{4}}-\d{{2}}-\d{{2}}-\d{{4}}Z\.jsonl$", file.Content.Headers.ContentDisposition.FileName);
        // One record a line, each as the REST API answers it, newest first, and a newline after the last.
        Assert.Equal([.. lists.Select(AsTheApiAnswers), ""], lines);
        Assert.Equal(HttpStatusCode.OK, none.StatusCode);
        Assert.Equal("", await none.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Audit_explorer_download_of_a_filter_the_explorer_refuses_is_a_400_naming_its_field()
    {
        using var admin = await AdminAsync();

        using var badTime = await admin.GetAsync("/admin/audit/records.jsonl?from=7%2F12%2F2026");
        using var badGoal = await admin.GetAsync("/admin/audit/records.jsonl?objective=bogus");
        using var badUser = await admin.GetAsync($"/admin/audit/records.jsonl?user={long.MaxValue}");
        using var wordUser = await admin.GetAsync("/admin/audit/records.jsonl?user=ada");
        using var backwards = await admin.GetAsync("/admin/audit/records.jsonl?from=2026-12-03&to=2026-12-01");

        foreach (var (response, field) in new[] { (badTime, "from"), (badGoal, "objective"), (badUser, "user"), (wordUser, "user"), (backwards, "from") })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
            Assert.Equal([field], JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]!.AsObject().Select(e => e.Key));
        }
    }

    [Fact]
    public async Task SearchAll_reads_past_a_page_of_the_search_to_its_limit_newest_first()
    {
        // More lists than one query of the search reads (500), so the download's file holds the filter, not a page of it.
        var reader = await web.NewAccountAsync();
        await using (var conn = await web.DataSource.OpenConnectionAsync())
        {
            await Dapper.SqlMapper.ExecuteAsync(conn, """
                insert into served_lists (user_id, request_id, objective_id, objective_version, parameters_hash, parameters, seed, model_version, candidates_considered, items, created_at)
                select @userId, gen_random_uuid(), 'learning', '1', 'hash', '{}', n, 'popularity', 0, '[]', now() - n * interval '1 minute'
                from generate_series(1, 503) n
                """, new { userId = reader.Id });
        }
        var audit = web.Services.GetRequiredService<AuditQueries>();
        var filter = new ServedListFilter(UserId: reader.Id);
        var newest = await new ServedListStore(web.DataSource).QueryAsync(filter with { Limit = 1000 });

        var capped = await audit.SearchAllAsync(filter, 502).Select(r => r.Id).ToListAsync();
        var all = await audit.SearchAllAsync(filter, AuditDownloads.MaxRecords).Select(r => r.Id).ToListAsync();

        Assert.Equal(newest.Take(502).Select(r => r.Id), capped);
        Assert.Equal(newest.Select(r => r.Id), all);
        Assert.Equal(503, all.Count);
    }
}
