using System.Globalization;
using System.Text;
using Recommender.Core.Objectives;

namespace Recommender.Core.Tests;

/// <summary>The canonical form publishers sign, the signature check, rotation and revocation (docs/provenance.md).</summary>
public sealed class ProvenanceTests
{
    // RFC 8032 section 7.1, test 1: a published Ed25519 key, so the vector below can be re-derived with any library.
    private const string RfcPrivateKey = """
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
        -----END PRIVATE KEY-----
        """;

    private const string RfcPublicKey = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

    private static readonly SignedContent Vector = new(
        "se:cardano:42", "  author-7 ", "  Is staking  \"safe\"?\t", "https://cardano.stackexchange.com/questions/42",
        "Line one\nLine two \u00e9\u4e2d\ud83d\ude00 \u0001", new DateTimeOffset(2021, 3, 4, 5, 6, 7, 120, TimeSpan.FromHours(2)), 3,
        ["cardano/staking", " cardano ", "cardano/staking", "", "\u00e9t\u00e9"]);

    private const string VectorJson =
        "{\"format\":\"recommender.item.v1\",\"item_id\":\"se:cardano:42\",\"level\":3,\"published_at\":\"2021-03-04T03:06:07.12Z\"," +
        "\"source_id\":\"author-7\",\"summary\":\"Line one\\nLine two \u00e9\u4e2d\ud83d\ude00 \\u0001\",\"title\":\"Is staking  \\\"safe\\\"?\"," +
        "\"topics\":[\"cardano\",\"cardano/staking\",\"\u00e9t\u00e9\"],\"url\":\"https://cardano.stackexchange.com/questions/42\"}";

    [Fact]
    public void CanonicalBytes_fixedVector_sameBytesAndSignatureUnderAnyCurrentCulture()
    {
        var original = CultureInfo.CurrentCulture;
        // The build runs with invariant globalization, so an odd culture is made by hand: other separators, signs and digits.
        var odd = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        odd.NumberFormat.NegativeSign = "\u2212";
        odd.NumberFormat.NumberDecimalSeparator = ",";
        odd.DateTimeFormat.TimeSeparator = ".";
        odd.DateTimeFormat.DateSeparator = "/";
        try
        {
            foreach (var culture in new[] { CultureInfo.InvariantCulture, odd })
            {
                CultureInfo.CurrentCulture = culture;
                Assert.Equal(VectorJson, Encoding.UTF8.GetString(Vector.CanonicalBytes()));
                Assert.Equal(Encoding.UTF8.GetBytes(VectorJson), Vector.CanonicalBytes());
                // Ed25519 is deterministic: this signature was computed by another implementation (OpenSSL, through Python) over the bytes above.
                Assert.Equal("oMnyjUyFdYdVcBiLYr81qeszhYMe2Zq89MHVbDctlXX5NfHxHNa97QrFSN58YxqWgMO9if4yoQK6md+WJo2mBQ==", PublisherKeys.Sign(RfcPrivateKey, Vector));
            }
        }
        finally
        {
            CultureInfo.CurrentCulture = original;
        }
        Assert.Equal(RfcPublicKey, PublisherKeys.PublicKeyOf(RfcPrivateKey));
        Assert.Equal("21fe31dfa154a261", PublisherKeys.KeyId(Convert.FromBase64String(RfcPublicKey)));
    }

    [Fact]
    public void CanonicalBytes_absentFields_areNullAndALoneSurrogateIsEscaped()
    {
        var bare = new SignedContent("x", null, "T\ud800", "  ", null, null, null, []);
        Assert.Equal("{\"format\":\"recommender.item.v1\",\"item_id\":\"x\",\"level\":null,\"published_at\":null,\"source_id\":null,\"summary\":null,\"title\":\"T\\ud800\",\"topics\":[],\"url\":null}",
            Encoding.UTF8.GetString(bare.CanonicalBytes()));
    }

    public static TheoryData<string, Func<SignedContent, SignedContent>> Tampering => new()
    {
        { "item id", c => c with { ItemId = c.ItemId + "0" } },
        { "source", c => c with { SourceId = "someone-else" } },
        { "source removed", c => c with { SourceId = null } },
        { "title", c => c with { Title = c.Title.Replace("safe", "sure", StringComparison.Ordinal) } },
        { "url", c => c with { Url = "https://cardano.stackexchange.com/questions/43" } },
        { "summary", c => c with { Summary = c.Summary + "." } },
        { "summary removed", c => c with { Summary = null } },
        { "publication time by a second", c => c with { PublishedAt = c.PublishedAt!.Value.AddSeconds(1) } },
        { "publication time by a tick", c => c with { PublishedAt = c.PublishedAt!.Value.AddTicks(1) } },
        { "level", c => c with { Level = 4 } },
        { "level removed", c => c with { Level = null } },
        { "topic added", c => c with { Topics = [.. c.Topics, "politics"] } },
        { "topic removed", c => c with { Topics = ["cardano"] } },
    };

    [Theory]
    [MemberData(nameof(Tampering))]
    public void Check_anySignedFieldChanged_invalid(string field, Func<SignedContent, SignedContent> tamper)
    {
        var key = Key(1);
        var signature = Convert.FromBase64String(PublisherKeys.Sign(RfcPrivateKey, Vector));
        Assert.Equal(ProvenanceStates.Verified, PublisherKeys.Check(Vector, signature, [key]).State);

        var check = PublisherKeys.Check(tamper(Vector), signature, [key]);

        Assert.Equal(ProvenanceStates.Invalid, check.State);
        Assert.Contains("altered after signing", check.Reason, StringComparison.Ordinal);
        Assert.True(check.Key is null, field);
    }

    [Fact]
    public void Check_whitespaceAndTopicOrderOnly_stillVerified()
    {
        var signature = Convert.FromBase64String(PublisherKeys.Sign(RfcPrivateKey, Vector));
        var reformatted = Vector with { Title = Vector.Title.Trim(), SourceId = "author-7", Topics = ["\u00e9t\u00e9", "cardano/staking", "cardano"] };
        Assert.Equal(ProvenanceStates.Verified, PublisherKeys.Check(reformatted, signature, [Key(1)]).State);
    }

    [Fact]
    public void Check_rotation_oldKeyVouchesForWhatWasPublishedBeforeItsRetirementOnly()
    {
        var (newPem, newPublic) = PublisherKeys.Generate();
        var retiredAt = Vector.PublishedAt!.Value.AddDays(10);
        var old = Key(1) with { RetiredAt = retiredAt };
        var current = new RegisteredKey(2, PublisherKeys.KeyId(Convert.FromBase64String(newPublic)), Convert.FromBase64String(newPublic));
        var before = Vector;
        var after = Vector with { ItemId = "late", PublishedAt = retiredAt.AddDays(1) };

        var beforeCheck = PublisherKeys.Check(before, Sig(RfcPrivateKey, before), [old, current]);
        var afterCheck = PublisherKeys.Check(after, Sig(RfcPrivateKey, after), [old, current]);
        var newCheck = PublisherKeys.Check(after, Sig(newPem, after), [old, current]);

        Assert.Equal((ProvenanceStates.Verified, 1L), (beforeCheck.State, beforeCheck.Key!.Id));
        Assert.Equal(ProvenanceStates.Invalid, afterCheck.State);
        Assert.Contains("replaced on", afterCheck.Reason, StringComparison.Ordinal);
        Assert.Equal((ProvenanceStates.Verified, 2L), (newCheck.State, newCheck.Key!.Id));
    }

    [Fact]
    public void Check_revokedUnknownOrMissing_invalidWithReasonAndUnsignedWithoutSignature()
    {
        var revoked = Key(1) with { RevokedAt = new DateTimeOffset(2025, 1, 2, 0, 0, 0, TimeSpan.Zero), RevokedReason = "laptop stolen" };
        var signature = Sig(RfcPrivateKey, Vector);
        var (_, otherPublic) = PublisherKeys.Generate();
        var other = new RegisteredKey(3, "other", Convert.FromBase64String(otherPublic));

        var revokedCheck = PublisherKeys.Check(Vector, signature, [revoked]);
        Assert.Equal(ProvenanceStates.Invalid, revokedCheck.State);
        Assert.Equal("signed with key 21fe31dfa154a261, revoked on 2025-01-02: laptop stolen", revokedCheck.Reason);
        Assert.Equal(ProvenanceStates.Invalid, PublisherKeys.Check(Vector, signature, [other]).State);
        Assert.Contains("registered no key", PublisherKeys.Check(Vector, signature, []).Reason, StringComparison.Ordinal);
        Assert.Equal(new ProvenanceCheck(ProvenanceStates.Unsigned, null, null), PublisherKeys.Check(Vector, null, [Key(1)]));
    }

    [Theory]
    [InlineData("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", true)]
    [InlineData("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHUR==", false)]
    [InlineData("not base64 at all", false)]
    [InlineData("AAAA", false)]
    [InlineData("", false)]
    public void ParsePublicKey_only32BytesOfBase64(string text, bool valid) => Assert.Equal(valid, PublisherKeys.ParsePublicKey(text) is not null);

    private static RegisteredKey Key(long id) => new(id, PublisherKeys.KeyId(Convert.FromBase64String(RfcPublicKey)), Convert.FromBase64String(RfcPublicKey));

    private static byte[] Sig(string pem, SignedContent content) => Convert.FromBase64String(PublisherKeys.Sign(pem, content));
}

/// <summary>The reader's provenance settings on the goals that have them.</summary>
public sealed class ProvenanceSettingTests
{
    [Theory]
    [InlineData("learning")]
    [InlineData("diversity")]
    public void OnlyVerifiedSources_on_servesVerifiedItemsOnly_offServesOthersToo(string objectiveId)
    {
        var (verified, others) = (0, 0);
        for (var seed = 0; seed < 10; seed++)
        {
            var catalog = WhyThisTests.GeneratedCatalog(new Random(seed));
            var pipeline = new RecommendationPipeline(new FakeFactorModel(catalog), catalog, new ObjectiveRegistry(ObjectiveRegistry.BuiltIn()), new PipelineOptions());
            var on = Serve(pipeline, catalog, objectiveId, ObjectiveParameters.Empty.With(CommonParameters.OnlyVerifiedSources, true), seed);
            var off = Serve(pipeline, catalog, objectiveId, ObjectiveParameters.Empty, seed);
            Assert.NotEmpty(on);
            Assert.All(on, i => Assert.True(i.IsVerified));
            Assert.All(pipeline.Recommend(Request(objectiveId, ObjectiveParameters.Empty.With(CommonParameters.OnlyVerifiedSources, true), seed)).Items,
                i => Assert.Equal(ProvenanceStates.Verified, i.Provenance));
            verified += on.Count;
            others += off.Count(i => !i.IsVerified);
        }
        Assert.True(verified > 0 && others > 0, "the generated catalogs must exercise both settings");
    }

    [Theory]
    [InlineData("learning")]
    [InlineData("diversity")]
    public void FloorCountsVerification_dropsAlteredItemsAndUnsignedUnratedOnes(string objectiveId)
    {
        var droppedByRule = 0;
        for (var seed = 0; seed < 10; seed++)
        {
            var catalog = WhyThisTests.GeneratedCatalog(new Random(seed));
            var pipeline = new RecommendationPipeline(new FakeFactorModel(catalog), catalog, new ObjectiveRegistry(ObjectiveRegistry.BuiltIn()), new PipelineOptions());
            var floor = ObjectiveParameters.Empty.With(CommonParameters.CredibilityFloor, 0.1);
            var counted = Serve(pipeline, catalog, objectiveId, floor.With(CommonParameters.FloorCountsVerification, true), seed);
            var plain = Serve(pipeline, catalog, objectiveId, floor, seed);
            Assert.NotEmpty(counted);
            Assert.All(counted, i => Assert.True(i.Provenance?.State != ProvenanceStates.Invalid && (i.Credibility is not null || i.IsVerified), $"item {i.Id}"));
            droppedByRule += plain.Count(i => i.Provenance?.State == ProvenanceStates.Invalid || i.Credibility is null && !i.IsVerified);
        }
        Assert.True(droppedByRule > 0, "without the setting some altered or unsigned unrated items must be served, or the test shows nothing");
    }

    private static RecommendationRequest Request(string objectiveId, ObjectiveParameters parameters, int seed) =>
        new(UserState.Anonymous, objectiveId, parameters, 20, seed, TestWorld.Now);

    private static List<ItemInfo> Serve(RecommendationPipeline pipeline, Catalog catalog, string objectiveId, ObjectiveParameters parameters, int seed) =>
        [.. pipeline.Recommend(Request(objectiveId, parameters, seed)).Items.Select(i => catalog[i.ItemId])];
}
