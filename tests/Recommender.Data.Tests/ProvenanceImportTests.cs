using System.Text.Json.Nodes;
using Dapper;
using Recommender.Core;
using Recommender.Data.Import;
using Recommender.Testing;

namespace Recommender.Data.Tests;

/// <summary>Keys and signatures through the generic import, rotation and revocation, against a real PostgreSQL.</summary>
public sealed class ProvenanceImportTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();
    private readonly string _scratch = Directory.CreateTempSubdirectory("recommender-provenance-").FullName;
    private readonly (string Private, string Public) _keyA = PublisherKeys.Generate();
    private readonly (string Private, string Public) _keyB = PublisherKeys.Generate();

    public Task InitializeAsync() => _db.InitializeAsync();

    public async Task DisposeAsync()
    {
        Directory.Delete(_scratch, recursive: true);
        await _db.DisposeAsync();
    }

    /// <summary>Writes sources.csv and items.jsonl; each item is signed with the key named in its <c>sign</c> field, then that field is dropped.</summary>
    private string Folder(string sources, params (string Json, string? Key)[] items)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_scratch, Guid.NewGuid().ToString("N"))).FullName;
        File.WriteAllText(Path.Combine(dir, "sources.csv"), sources);
        var path = Path.Combine(dir, "items.jsonl");
        File.WriteAllLines(path, items.Select(i => i.Json));
        var read = ImportReaders.ItemsJsonl(path);
        File.WriteAllLines(path, read.Select((r, n) =>
        {
            var json = JsonNode.Parse(r.Text)!.AsObject();
            if (items[n].Key is { } key)
                json["signature"] = PublisherKeys.Sign(key, r.Item.SignedContent());
            return json.ToJsonString();
        }));
        return dir;
    }

    private Task<ImportResult> ImportAsync(string dir) => new CatalogImporter(_db.DataSource).ImportAsync(ImportReaders.Directory(dir));

    private async Task<Dictionary<string, (string State, string? KeyId, string? Reason)>> StatesAsync()
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<(string ExternalId, string State, string? KeyId, string? Reason)>("""
            select i.external_id, i.provenance, k.key_id, i.provenance_reason from items i left join source_keys k on k.id = i.signed_by_key_id
            """)).ToDictionary(r => r.ExternalId, r => (r.State, r.KeyId, r.Reason));
    }

    private static string KeyId(string publicKey) => PublisherKeys.KeyId(Convert.FromBase64String(publicKey));

    [Fact]
    public async Task Import_ofTheSameItemsNowSigned_countsThemAsUpdated()
    {
        const string Sources = "source_id,name\npub,The Publisher\n";
        const string Item = """{"item_id":"good","title":"Tides","source_id":"pub","level":2}""";
        await ImportAsync(Folder(Sources, (Item, null)));

        var signed = await ImportAsync(Folder($"source_id,name,public_key\npub,The Publisher,{_keyA.Public}\n", (Item, _keyA.Private)));

        Assert.Equal((0, 1), (signed.ItemsAdded, signed.ItemsUpdated));
        Assert.Equal("verified", (await StatesAsync())["good"].State);
    }

    [Fact]
    public async Task Import_storesVerifiedUnsignedAndInvalid_andTheCatalogCarriesThem()
    {
        var dir = Folder($"source_id,name,public_key\npub,The Publisher,{_keyA.Public}\nplain,Plain Source,\n",
            ("""{"item_id":"good","title":"Tides","source_id":"pub","published_at":"2024-05-01T10:00:00Z","level":2,"topics":["oceans"]}""", _keyA.Private),
            ("""{"item_id":"none","title":"Waves","source_id":"pub"}""", null),
            ("""{"item_id":"foreign","title":"Currents","source_id":"plain"}""", _keyA.Private),
            ("""{"item_id":"wrongkey","title":"Reefs","source_id":"pub"}""", _keyB.Private));
        // Altered after signing: the title on line 1 changes, its signature stays.
        var items = Path.Combine(dir, "items.jsonl");
        File.WriteAllLines(items, File.ReadAllLines(items).Append(File.ReadAllLines(items)[0].Replace("\"good\"", "\"altered\"", StringComparison.Ordinal)));

        await ImportAsync(dir);

        var states = await StatesAsync();
        Assert.Equal((ProvenanceStates.Verified, KeyId(_keyA.Public), (string?)null), states["good"]);
        Assert.Equal((ProvenanceStates.Unsigned, (string?)null, (string?)null), states["none"]);
        Assert.Equal(ProvenanceStates.Invalid, states["foreign"].State);
        Assert.Contains("registered no key", states["foreign"].Reason, StringComparison.Ordinal);
        Assert.Equal(ProvenanceStates.Invalid, states["wrongkey"].State);
        Assert.Equal(ProvenanceStates.Invalid, states["altered"].State);
        Assert.Contains("altered after signing", states["altered"].Reason, StringComparison.Ordinal);

        var catalog = await new CatalogStore(_db.DataSource).LoadRankingCatalogAsync();
        var good = catalog.Items.Single(i => i.ExternalId == "good");
        Assert.Equal(new ItemProvenance(ProvenanceStates.Verified, "The Publisher", KeyId(_keyA.Public)), good.Provenance);
        Assert.False(catalog.Items.Single(i => i.ExternalId == "altered").IsVerified);
        Assert.Null(catalog.Items.Single(i => i.ExternalId == "altered").Provenance!.Signer);
        var listed = await new CatalogStore(_db.DataSource).ListAsync(0, 10);
        Assert.Equal(ProvenanceStates.Unsigned, listed.Single(i => i.ExternalId == "none").Provenance!.State);

        // Sent again unchanged: nothing changes; sent again without its signature: unsigned.
        await ImportAsync(dir);
        Assert.Equal(states, await StatesAsync());
        await ImportAsync(Folder("source_id,name\npub,The Publisher\n", ("""{"item_id":"good","title":"Tides","source_id":"pub"}""", null)));
        Assert.Equal(ProvenanceStates.Unsigned, (await StatesAsync())["good"].State);
    }

    [Fact]
    public async Task Rotation_keepsWhatTheOldKeySignedBefore_andRevocationInvalidatesWithTheReasonKept()
    {
        const string early = """{"item_id":"early","title":"Old news","source_id":"pub","published_at":"2020-01-01T00:00:00Z"}""";
        await ImportAsync(Folder($"source_id,name,public_key\npub,The Publisher,{_keyA.Public}\n", (early, _keyA.Private)));
        Assert.Equal(ProvenanceStates.Verified, (await StatesAsync())["early"].State);

        // Rotation: key B registered; A retires now and still vouches for what was published before.
        var late = $$"""{"item_id":"late","title":"New news","source_id":"pub","published_at":"{{DateTimeOffset.UtcNow.AddDays(1):O}}"}""";
        const string fresh = """{"item_id":"fresh","title":"Fresh news","source_id":"pub"}""";
        await ImportAsync(Folder($"source_id,name,public_key\npub,The Publisher,{_keyB.Public}\n", (early, _keyA.Private), (late, _keyA.Private), (fresh, _keyB.Private)));

        var states = await StatesAsync();
        Assert.Equal((ProvenanceStates.Verified, KeyId(_keyA.Public)), (states["early"].State, states["early"].KeyId));
        Assert.Equal(ProvenanceStates.Invalid, states["late"].State);
        Assert.Contains("replaced on", states["late"].Reason, StringComparison.Ordinal);
        Assert.Equal((ProvenanceStates.Verified, KeyId(_keyB.Public)), (states["fresh"].State, states["fresh"].KeyId));

        var store = new ProvenanceStore(_db.DataSource);
        Assert.Equal(1, await store.RevokeAsync(KeyId(_keyB.Public), "Admin", "key leaked"));
        Assert.Null(await store.RevokeAsync(KeyId(_keyB.Public), "Admin", "again"));
        Assert.Null(await store.RevokeAsync("0000000000000000", "Admin", "no such key"));

        states = await StatesAsync();
        Assert.Equal(ProvenanceStates.Invalid, states["fresh"].State);
        Assert.Matches($"^signed with key {KeyId(_keyB.Public)}, revoked on \\d{{4}}-\\d{{2}}-\\d{{2}}: key leaked$", states["fresh"].Reason);
        Assert.Equal(ProvenanceStates.Verified, states["early"].State);
        var keys = await store.ListKeysAsync();
        Assert.Equal(2, keys.Count);
        var a = keys.Single(k => k.KeyId == KeyId(_keyA.Public));
        var b = keys.Single(k => k.KeyId == KeyId(_keyB.Public));
        Assert.True(a is { RetiredAt: not null, RevokedAt: null, VerifiedItems: 1 });
        Assert.True(b is { RetiredAt: null, RevokedAt: not null, RevokedBy: "Admin", RevokedReason: "key leaked", VerifiedItems: 0 });
        Assert.Equal(new ProvenanceCounts(1, 0, 2), await store.CountAsync());

        // The revoked key verifies nothing sent later either.
        await ImportAsync(Folder("source_id,name\npub,The Publisher\n", (fresh, _keyB.Private)));
        Assert.Contains("revoked", (await StatesAsync())["fresh"].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_badKeyOrSignatureOrAKeyOfAnotherSource_failsAtItsLineAndStoresNothing()
    {
        var badKey = Folder("source_id,name,public_key\npub,The Publisher,bm90IGEga2V5\n", ("""{"item_id":"a","title":"A"}""", null));
        var e = await Assert.ThrowsAsync<ImportException>(() => ImportAsync(badKey));
        Assert.Equal((2L, "public_key must be an Ed25519 public key: base64 of 32 bytes (recommender provenance keygen writes one)"), (e.Line, e.Reason));

        var badSignature = Folder("source_id,name\npub,The Publisher\n", ("""{"item_id":"a","title":"A"}""", null));
        File.AppendAllText(Path.Combine(badSignature, "items.jsonl"), """{"item_id":"b","title":"B","signature":"AAAA"}""" + "\n");
        Assert.Equal(2L, Assert.Throws<ImportException>(() => ImportReaders.Directory(badSignature)).Line);

        await ImportAsync(Folder($"source_id,name,public_key\npub,The Publisher,{_keyA.Public}\n", ("""{"item_id":"a","title":"A"}""", null)));
        var stolen = Folder($"source_id,name,public_key\nother,Someone Else,{_keyA.Public}\n", ("""{"item_id":"b","title":"B"}""", null));
        var taken = await Assert.ThrowsAsync<ImportException>(() => ImportAsync(stolen));
        Assert.Contains("already registered for source 'pub'", taken.Reason, StringComparison.Ordinal);
        Assert.False((await StatesAsync()).ContainsKey("b"));
    }
}
