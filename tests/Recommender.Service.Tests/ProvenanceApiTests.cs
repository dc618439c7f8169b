using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using Recommender.Core;
using Recommender.Data.Import;

namespace Recommender.Service.Tests;

/// <summary>The platform API and the generic import check signatures alike; bad keys and signatures are 400s naming the field.</summary>
public sealed class ProvenanceApiTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Platform_api_and_import_store_the_same_outcome_for_the_same_items()
    {
        var (pem, publicKey) = PublisherKeys.Generate();
        var run = Guid.NewGuid().ToString("N")[..8];
        // Three items: signed, signed then altered, unsigned; each sent once through the API and once through an import.
        (string Id, string Title, bool Sign, bool Alter)[] shapes = [("signed", "Tides", true, false), ("altered", "Waves", true, true), ("plain", "Reefs", false, false)];
        var catalog = await service.WithApiKeyAsync("catalog");
        Assert.Equal(HttpStatusCode.NoContent, (await catalog.PutAsJsonAsync($"/api/platform/sources/api-{run}", new { name = "API Publisher", publicKey })).StatusCode);
        // The file's source signs with a key of its own, registered by the import itself.
        var (filePem, filePublic) = PublisherKeys.Generate();
        var batch = new ImportBatch();
        batch.Sources.Add(new SourceRow(1, $"file-{run}", "File Publisher", null, PublicKey: filePublic));
        var published = new DateTimeOffset(2024, 2, 3, 4, 5, 6, TimeSpan.Zero);
        foreach (var (id, title, sign, alter) in shapes)
        {
            var apiRow = new ItemRow(1, $"api-{run}-{id}", title, "https://example.org/" + id, "About " + id, published, 2, $"api-{run}", null, ["Oceans"]);
            var signature = sign ? PublisherKeys.Sign(pem, apiRow.SignedContent()) : null;
            var response = await catalog.PutAsJsonAsync($"/api/platform/items/{apiRow.ExternalId}", new
            {
                title = alter ? title + "!" : title,
                url = apiRow.Url,
                summary = apiRow.Summary,
                publishedAt = published,
                level = 2,
                sourceId = $"api-{run}",
                topics = new[] { "Oceans" },
                signature,
            });
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            var fileRow = apiRow with { ExternalId = $"file-{run}-{id}", SourceExternalId = $"file-{run}" };
            var fileSignature = sign ? PublisherKeys.Sign(filePem, fileRow.SignedContent()) : null;
            batch.Items.Add(fileRow with { Title = alter ? title + "!" : title, Signature = fileSignature, Line = batch.Items.Count + 1 });
        }
        await new CatalogImporter(service.DataSource).ImportAsync(batch);

        await using var conn = await service.DataSource.OpenConnectionAsync();
        var stored = (await conn.QueryAsync<(string Id, string State)>(
            "select external_id, provenance from items where external_id like @pattern", new { pattern = $"%-{run}-%" })).ToDictionary(r => r.Id, r => r.State);
        foreach (var (id, _, sign, alter) in shapes)
        {
            var expected = !sign ? ProvenanceStates.Unsigned : alter ? ProvenanceStates.Invalid : ProvenanceStates.Verified;
            Assert.Equal((expected, expected), (stored[$"api-{run}-{id}"], stored[$"file-{run}-{id}"]));
        }

        // Readers of the catalog API see the state and the signer.
        var items = await service.CreateClient().GetFromJsonAsync<JsonArray>("/api/catalog/items?topic=Oceans&limit=500");
        var listed = items!.Single(i => i!["externalId"]!.GetValue<string>() == $"api-{run}-signed")!;
        Assert.Equal(ProvenanceStates.Verified, listed["provenance"]!["state"]!.GetValue<string>());
        Assert.Equal("API Publisher", listed["provenance"]!["signer"]!.GetValue<string>());
    }

    [Fact]
    public async Task Bad_public_key_or_signature_is_a_400_naming_the_field_and_stores_nothing()
    {
        var catalog = await service.WithApiKeyAsync("catalog");
        var run = Guid.NewGuid().ToString("N")[..8];

        var badKey = await catalog.PutAsJsonAsync($"/api/platform/sources/k-{run}", new { name = "Publisher", publicKey = "bm90IGEga2V5" });
        var badSignature = await catalog.PutAsJsonAsync($"/api/platform/items/i-{run}", new { title = "Tides", signature = "AAAA" });

        Assert.Equal(HttpStatusCode.BadRequest, badKey.StatusCode);
        Assert.Contains("publicKey", await badKey.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badSignature.StatusCode);
        Assert.Contains("signature", await badSignature.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await using var conn = await service.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("select count(*) from sources where external_id = @id", new { id = $"k-{run}" }));
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("select count(*) from items where external_id = @id", new { id = $"i-{run}" }));
    }
}
