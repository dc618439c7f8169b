using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;

namespace Recommender.Core;

/// <summary>The stored outcome of checking an item's signature; the names are those of the API, the database and exports.</summary>
public static class ProvenanceStates
{
    /// <summary>The signature checks out against a key its source registered, and that key may vouch for it.</summary>
    public const string Verified = "verified";

    /// <summary>The item came without a signature.</summary>
    public const string Unsigned = "unsigned";

    /// <summary>A signature that does not check out: altered after signing, an unknown key, or a revoked or retired one.</summary>
    public const string Invalid = "invalid";
}

/// <summary>
/// What a card, "why this" and the audit record say about who vouches for an item. <see cref="Signer"/> is the source
/// whose key verified it, <see cref="KeyId"/> that key's fingerprint; <see cref="Reason"/> says why an invalid item is.
/// </summary>
public sealed record ItemProvenance(string State, string? Signer = null, string? KeyId = null, string? Reason = null)
{
    public static ItemProvenance Unsigned { get; } = new(ProvenanceStates.Unsigned);

    public bool IsVerified => State == ProvenanceStates.Verified;
}

/// <summary>
/// The part of an item a publisher signs: what the reader sees. <see cref="CanonicalBytes"/> is the documented byte
/// form (docs/provenance.md) that the signature covers; the same code makes it for the CLI that signs and for every way
/// into the catalog that verifies, so they cannot disagree.
/// </summary>
public sealed record SignedContent(
    string ItemId, string? SourceId, string Title, string? Url, string? Summary, DateTimeOffset? PublishedAt, int? Level, IReadOnlyList<string> Topics)
{
    /// <summary>Names the form, so a signature over something else can never be taken for one over an item.</summary>
    public const string Format = "recommender.item.v1";

    /// <summary>
    /// UTF-8 of a JSON object serialised as RFC 8785 (JSON Canonicalization Scheme) does it: keys in order, no
    /// whitespace, only the escapes JSON requires. Text is trimmed and blank text is null, as every import reads it;
    /// topics are trimmed, de-duplicated and sorted by code unit; the time is UTC with as many fractional digits as it needs.
    /// </summary>
    public byte[] CanonicalBytes()
    {
        var json = new StringBuilder(256);
        json.Append("{\"format\":");
        AppendString(json, Format);
        json.Append(",\"item_id\":");
        AppendString(json, ItemId);
        json.Append(",\"level\":").Append(Level is { } level ? level.ToString(CultureInfo.InvariantCulture) : "null");
        json.Append(",\"published_at\":");
        AppendString(json, PublishedAt?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
        json.Append(",\"source_id\":");
        AppendString(json, Text(SourceId));
        json.Append(",\"summary\":");
        AppendString(json, Text(Summary));
        json.Append(",\"title\":");
        AppendString(json, Title.Trim());
        json.Append(",\"topics\":[");
        var topics = Topics.Select(t => t.Trim()).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var first = true;
        foreach (var topic in topics)
        {
            if (!first)
                json.Append(',');
            AppendString(json, topic);
            first = false;
        }
        json.Append("],\"url\":");
        AppendString(json, Text(Url));
        json.Append('}');
        return Encoding.UTF8.GetBytes(json.ToString());
    }

    private static string? Text(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    // RFC 8785 section 3.2.2.2: escape only the quote, the backslash and control characters, with the short forms where
    // JSON has them; lone surrogates (which UTF-8 cannot carry) as lower-case \u escapes, as ECMAScript does.
    private static void AppendString(StringBuilder json, string? value)
    {
        if (value is null)
        {
            json.Append("null");
            return;
        }
        json.Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                case '\b': json.Append("\\b"); break;
                case '\f': json.Append("\\f"); break;
                case '\n': json.Append("\\n"); break;
                case '\r': json.Append("\\r"); break;
                case '\t': json.Append("\\t"); break;
                default:
                    var paired = char.IsHighSurrogate(c) ? i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])
                        : !char.IsLowSurrogate(c) || i > 0 && char.IsHighSurrogate(value[i - 1]);
                    if (c < 0x20 || !paired)
                        json.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    else
                        json.Append(c);
                    break;
            }
        }
        json.Append('"');
    }
}

/// <summary>A key a source registered, as stored: <see cref="RetiredAt"/> when a newer key replaced it, <see cref="RevokedAt"/> when an admin revoked it.</summary>
public sealed record RegisteredKey(long Id, string KeyId, byte[] PublicKey, DateTimeOffset? RetiredAt = null, DateTimeOffset? RevokedAt = null, string? RevokedReason = null);

/// <summary>The outcome of checking one item: its state, the key that verified it (or that it was signed with, when revoked or retired), and why it is invalid.</summary>
public sealed record ProvenanceCheck(string State, RegisteredKey? Key, string? Reason);

/// <summary>Ed25519 publisher keys and signatures (libsodium through NSec): the text forms publishers exchange and the check every import runs.</summary>
public static class PublisherKeys
{
    private static readonly SignatureAlgorithm Ed25519 = SignatureAlgorithm.Ed25519;

    /// <summary>A new key pair: the private key as PKCS#8 PEM (what <c>openssl</c> reads too), the public key as base64 of its 32 bytes.</summary>
    public static (string PrivateKeyPem, string PublicKey) Generate()
    {
        using var key = Key.Create(Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        return (Encoding.ASCII.GetString(key.Export(KeyBlobFormat.PkixPrivateKeyText)), Convert.ToBase64String(key.PublicKey.Export(KeyBlobFormat.RawPublicKey)));
    }

    /// <summary>The public key (base64) of a private key in PKCS#8 PEM.</summary>
    /// <exception cref="FormatException">The text is not an Ed25519 private key in PKCS#8 PEM.</exception>
    public static string PublicKeyOf(string privateKeyPem)
    {
        using var key = ImportPrivate(privateKeyPem);
        return Convert.ToBase64String(key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
    }

    /// <summary>Writes a private key that only its owner can read (where the file system has Unix permissions); never overwrites one.</summary>
    public static void WritePrivateKey(string path, string privateKeyPem)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        stream.Write(Encoding.ASCII.GetBytes(privateKeyPem));
    }

    /// <summary>Signs the item's canonical form; the signature is base64 of 64 bytes.</summary>
    /// <exception cref="FormatException">The text is not an Ed25519 private key in PKCS#8 PEM.</exception>
    public static string Sign(string privateKeyPem, SignedContent content)
    {
        ArgumentNullException.ThrowIfNull(content);
        using var key = ImportPrivate(privateKeyPem);
        return Convert.ToBase64String(Ed25519.Sign(key, content.CanonicalBytes()));
    }

    private static Key ImportPrivate(string privateKeyPem) =>
        Key.TryImport(Ed25519, Encoding.ASCII.GetBytes(privateKeyPem.Trim()), KeyBlobFormat.PkixPrivateKeyText, out var key) ? key!
        : throw new FormatException("not an Ed25519 private key in PEM (-----BEGIN PRIVATE KEY-----)");

    /// <summary>The public key's 32 bytes from base64, or null when the text is not one.</summary>
    public static byte[]? ParsePublicKey(string? text)
    {
        var bytes = FromBase64(text);
        return bytes is { Length: 32 } && PublicKey.TryImport(Ed25519, bytes, KeyBlobFormat.RawPublicKey, out _) ? bytes : null;
    }

    /// <summary>The signature's 64 bytes from base64, or null when the text is not one.</summary>
    public static byte[]? ParseSignature(string? text) => FromBase64(text) is { Length: 64 } bytes ? bytes : null;

    /// <summary>What a malformed public key or signature is told, beside the field.</summary>
    public const string PublicKeyRule = "must be an Ed25519 public key: base64 of 32 bytes (recommender provenance keygen writes one)";

    public const string SignatureRule = "must be an Ed25519 signature: base64 of 64 bytes (recommender provenance sign adds one)";

    /// <summary>The key's fingerprint: the first 16 hex digits of the SHA-256 of its 32 bytes. Stable across databases, so a publisher can compute it.</summary>
    public static string KeyId(byte[] publicKey) => Convert.ToHexStringLower(SHA256.HashData(publicKey))[..16];

    public static bool Verifies(byte[] publicKey, SignedContent content, byte[] signature)
    {
        ArgumentNullException.ThrowIfNull(content);
        return PublicKey.TryImport(Ed25519, publicKey, KeyBlobFormat.RawPublicKey, out var key) && Ed25519.Verify(key!, content.CanonicalBytes(), signature);
    }

    /// <summary>
    /// Checks an item against its source's keys. Verified: a key that is not revoked verifies it, and if that key was
    /// retired (rotated out) the item was published before it was. Invalid: the signature matches no key of the source
    /// (altered after signing, or a key the source never registered), or only a revoked key, or a retired key for an
    /// item published after its retirement. Unsigned: no signature.
    /// </summary>
    public static ProvenanceCheck Check(SignedContent content, byte[]? signature, IReadOnlyList<RegisteredKey> keys)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(keys);
        if (signature is null)
            return new ProvenanceCheck(ProvenanceStates.Unsigned, null, null);
        if (keys.Count == 0)
            return new ProvenanceCheck(ProvenanceStates.Invalid, null, content.SourceId is null ? "signed, but it names no source whose key could verify it" : "signed, but its source has registered no key");
        var matching = keys.Where(k => Verifies(k.PublicKey, content, signature)).ToList();
        if (matching.Count == 0)
            return new ProvenanceCheck(ProvenanceStates.Invalid, null, "its signature does not match: altered after signing, or signed with a key its source has not registered");
        var usable = matching.FirstOrDefault(k => k.RevokedAt is null && (k.RetiredAt is null || content.PublishedAt < k.RetiredAt));
        if (usable is not null)
            return new ProvenanceCheck(ProvenanceStates.Verified, usable, null);
        var key = matching[0];
        return key.RevokedAt is { } revoked
            ? new ProvenanceCheck(ProvenanceStates.Invalid, key, RevokedReason(key.KeyId, revoked, key.RevokedReason))
            : new ProvenanceCheck(ProvenanceStates.Invalid, key, string.Create(CultureInfo.InvariantCulture,
                $"signed with key {key.KeyId}, which was replaced on {key.RetiredAt:yyyy-MM-dd}, for an item published {(content.PublishedAt is { } p ? $"on {p:yyyy-MM-dd}" : "at no stated time")}"));
    }

    /// <summary>The reason an item signed with a revoked key carries, kept with the item.</summary>
    public static string RevokedReason(string keyId, DateTimeOffset revokedAt, string? why) =>
        string.Create(CultureInfo.InvariantCulture, $"signed with key {keyId}, revoked on {revokedAt:yyyy-MM-dd}{(string.IsNullOrWhiteSpace(why) ? "" : $": {why.Trim()}")}");

    private static byte[]? FromBase64(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        var buffer = new byte[(text.Length * 3 / 4) + 3];
        return Convert.TryFromBase64String(text.Trim(), buffer, out var written) ? buffer[..written] : null;
    }
}
