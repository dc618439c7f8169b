using System.Text.Json.Nodes;

namespace Recommender.Core.Tests;

public sealed class AuditRecordJsonTests
{
    private static readonly ServedItem[] Sample =
    [
        new(1, 42, 1.0 / 3, new Dictionary<string, double> { ["relevance"] = 0.25, ["diversity"] = double.NaN, ["freshness"] = 1e-7, ["Zeta"] = -2.5 },
            ["You chose \u201cPhysics\u201d.", "Tom & Jerry <3 'quoted'"], ProvenanceStates.Verified),
        new(2, 9_000_000_000, double.PositiveInfinity, new Dictionary<string, double>(), [], null),
    ];

    // The bytes the audit log's hand-written Utf8JsonWriter produced for Sample before the record had a type: stored
    // lists must read back, and new ones be written, exactly like this.
    private const string StoredBefore =
        """[{"rank":1,"item_id":42,"score":0.33333334,"components":{"Zeta":-2.5,"diversity":null,"freshness":1E-07,"relevance":0.25},"reasons":["You chose \u201CPhysics\u201D.","Tom \u0026 Jerry \u003C3 \u0027quoted\u0027"],"provenance":"verified"},{"rank":2,"item_id":9000000000,"score":null,"components":{},"reasons":[]}]""";

    [Fact]
    public void WriteItems_sample_list_gives_the_bytes_stored_before()
    {
        Assert.Equal(StoredBefore, AuditRecordJson.WriteItems(Sample));
    }

    [Fact]
    public void ReadItems_record_stored_before_round_trips_to_the_same_bytes()
    {
        var read = AuditRecordJson.ReadItems(StoredBefore);

        Assert.Equal(StoredBefore, AuditRecordJson.WriteItems(read));
        Assert.Equal([1, 2], read.Select(i => i.Rank));
        Assert.Equal([42L, 9_000_000_000L], read.Select(i => i.ItemId));
        Assert.Equal(0.33333334, read[0].Score, 1e-12);
        Assert.True(double.IsNaN(read[1].Score));
        Assert.Equal(["Zeta", "diversity", "freshness", "relevance"], read[0].Components.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(-2.5, read[0].Components["Zeta"]);
        Assert.True(double.IsNaN(read[0].Components["diversity"]));
        Assert.Equal(Sample[0].Reasons, read[0].Reasons);
        Assert.Equal(ProvenanceStates.Verified, read[0].Provenance);
        Assert.Null(read[1].Provenance);
    }

    [Fact]
    public void ReadItems_record_without_components_or_reasons_reads_as_none()
    {
        var read = AuditRecordJson.ReadItems("""[{"rank":1,"item_id":5,"score":0.5}]""");

        Assert.Empty(Assert.Single(read).Components);
        Assert.Empty(read[0].Reasons);
        Assert.Equal(0.5, read[0].Score);
    }

    [Fact]
    public void Write_whole_record_names_every_field_in_snake_case()
    {
        var list = new ServedList(7, "blend", "2", """{"topics":["Oceans"],"lambda":0.5}""", "abc", "mf v3", 11, new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), 40, Sample)
        {
            RerankerVersion = "reranker v1",
        };

        var json = JsonNode.Parse(AuditRecordJson.Write(list))!.AsObject();

        Assert.Equal(["user_id", "objective_id", "objective_version", "parameters", "parameter_hash", "model_version", "reranker_version", "seed", "served_at",
            "candidates_considered", "items"], json.Select(p => p.Key));
        Assert.Equal("Oceans", json["parameters"]!["topics"]![0]!.GetValue<string>());
        Assert.Equal(StoredBefore, json["items"]!.ToJsonString());
        Assert.Equal(DateTimeOffset.Parse("2026-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture), json["served_at"]!.GetValue<DateTimeOffset>());
    }
}
