using System.Globalization;
using System.Text;
using Recommender.Core;

namespace Recommender.Data.Import;

/// <summary>What <see cref="DemoProvenance.Sign"/> did: which sources sign, how many items, and the one altered after signing.</summary>
public sealed record DemoSigning(IReadOnlyList<string> Sources, int ItemsSigned, string? AlteredItem);

/// <summary>
/// Makes a demo show provenance: its most prolific sources sign their items with keys made on first use and kept in
/// a folder (the git-ignored data folder under <c>up</c>), and the newest signed item is altered after signing, so the
/// pages show verified, unsigned and invalid items side by side.
/// </summary>
public static class DemoProvenance
{
    /// <summary>Sources that sign: the demo's most prolific ones.</summary>
    public const int SigningSources = 5;

    /// <summary>What the altered item's title gains after it was signed; its signature no longer matches.</summary>
    public const string Alteration = " (edited after it was signed)";

    public static DemoSigning Sign(ImportBatch batch, string keyFolder)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var signers = batch.Items.Where(i => i.SourceExternalId is not null).GroupBy(i => i.SourceExternalId!, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Take(SigningSources).Select(g => g.Key).ToList();
        if (signers.Count == 0)
            return new DemoSigning([], 0, null);
        Directory.CreateDirectory(keyFolder);
        var keys = signers.ToDictionary(s => s, s => KeyFor(keyFolder, s), StringComparer.Ordinal);

        for (var i = 0; i < batch.Sources.Count; i++)
        {
            if (keys.TryGetValue(batch.Sources[i].ExternalId, out var key))
                batch.Sources[i] = batch.Sources[i] with { PublicKey = key.Public };
        }
        var signed = 0;
        var newest = -1;
        for (var i = 0; i < batch.Items.Count; i++)
        {
            var item = batch.Items[i];
            if (item.SourceExternalId is null || !keys.TryGetValue(item.SourceExternalId, out var key))
                continue;
            batch.Items[i] = item with { Signature = PublisherKeys.Sign(key.Private, item.SignedContent()) };
            signed++;
            if (newest < 0 || item.PublishedAt > batch.Items[newest].PublishedAt)
                newest = i;
        }
        var altered = batch.Items[newest];
        batch.Items[newest] = altered with { Title = altered.Title + Alteration };
        return new DemoSigning(signers, signed, altered.ExternalId);
    }

    private sealed record KeyPair(string Private, string Public);

    /// <summary>The source's demo key from the folder, made and kept there on first use.</summary>
    private static KeyPair KeyFor(string folder, string sourceId)
    {
        var name = new StringBuilder(sourceId.Length);
        foreach (var c in sourceId)
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        var path = Path.Combine(folder, name + ".key");
        if (!File.Exists(path))
            PublisherKeys.WritePrivateKey(path, PublisherKeys.Generate().PrivateKeyPem);
        var privatePem = File.ReadAllText(path);
        return new KeyPair(privatePem, PublisherKeys.PublicKeyOf(privatePem));
    }

    /// <summary>A line for <c>up</c> to print.</summary>
    public static string Describe(DemoSigning signing) => signing.Sources.Count == 0 ? "no demo source signs its items"
        : string.Create(CultureInfo.InvariantCulture,
            $"{signing.Sources.Count} demo sources signed {signing.ItemsSigned} items (keys kept beside the database); item {signing.AlteredItem} was altered after signing");
}
