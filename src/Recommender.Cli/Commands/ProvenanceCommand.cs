using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using Recommender.Core;
using Recommender.Data.Import;
using Spectre.Console;

namespace Recommender.Cli.Commands;

/// <summary>
/// <c>recommender provenance keygen|sign|verify</c>: what a publisher needs to sign its items (docs/provenance.md). No
/// database: keys and files only. Items are <c>items.jsonl</c> lines of the generic import.
/// </summary>
internal static class ProvenanceCommand
{
    public const string PrivateKeyFile = "publisher.key";
    public const string PublicKeyFile = "publisher.pub";

    public static Command Create()
    {
        var outDir = new Option<string>("--out") { Description = $"Folder to write {PrivateKeyFile} (private, PEM) and {PublicKeyFile} (public, base64) into.", Required = true };
        var keygen = new Command("keygen", "Make a publisher key pair. Register the public key on your source (publicKey in the API, public_key in sources.csv).") { outDir };
        keygen.SetAction(CliApp.Guarded((parse, ct) => Task.FromResult(Keygen(parse.GetValue(outDir)!))));

        var key = new Option<string>("--key") { Description = $"The private key ({PrivateKeyFile} from keygen).", Required = true };
        var input = new Option<string>("--in") { Description = "items.jsonl: one item per line, as the generic import reads it.", Required = true };
        var output = new Option<string>("--out") { Description = "Where to write the items, each with a signature field added.", Required = true };
        var sign = new Command("sign", "Sign every item of an items.jsonl file: adds a signature field to each line.") { key, input, output };
        sign.SetAction(CliApp.Guarded((parse, ct) => Task.FromResult(Sign(parse.GetValue(key)!, parse.GetValue(input)!, parse.GetValue(output)!))));

        var signed = new Option<string>("--in") { Description = "Signed items.jsonl.", Required = true };
        var publicKey = new Option<string>("--public-key") { Description = $"The public key ({PublicKeyFile} from keygen).", Required = true };
        var verify = new Command("verify", "Check every line's signature with a public key: exit 0 only if all verify, else file:line: reason for each that does not and exit 1; a line that cannot be read is exit 2.") { signed, publicKey };
        verify.SetAction(CliApp.Guarded((parse, ct) => Task.FromResult(Verify(parse.GetValue(signed)!, parse.GetValue(publicKey)!))));

        return new Command("provenance", "Publisher keys and signed items: keygen, sign, verify.") { keygen, sign, verify };
    }

    private static int Keygen(string folder)
    {
        if (File.Exists(folder))
            throw new CliException($"--out: {folder} is a file, and keygen writes two files into a folder and never replaces a file; give a new folder, e.g. {folder}-keys");
        Directory.CreateDirectory(folder);
        var privatePath = Path.Combine(folder, PrivateKeyFile);
        var publicPath = Path.Combine(folder, PublicKeyFile);
        if (File.Exists(privatePath) || File.Exists(publicPath))
            throw new CliException($"{folder}: already holds a key; a new one would replace it (rotate by making one in another folder)");
        var (pem, pub) = PublisherKeys.Generate();
        PublisherKeys.WritePrivateKey(privatePath, pem);
        File.WriteAllText(publicPath, pub + "\n");
        AnsiConsole.MarkupLineInterpolated($"key [bold]{PublisherKeys.KeyId(Convert.FromBase64String(pub))}[/]: private {privatePath} (keep it secret), public {publicPath}: {pub}");
        return 0;
    }

    private static int Sign(string keyPath, string input, string output)
    {
        var pem = File.ReadAllText(UserFile("--key", keyPath));
        var items = Items(UserFile("--in", input), "sign");
        if (Directory.Exists(output))
            throw new CliException($"--out: {output} is a folder; give the file to write the signed items to, e.g. {Path.Combine(output, "items.signed.jsonl")}");
        var lines = new StringBuilder();
        foreach (var (item, text) in items)
        {
            string signature;
            try
            {
                signature = PublisherKeys.Sign(pem, item.SignedContent());
            }
            catch (FormatException e)
            {
                throw new CliException($"{keyPath}: {e.Message}");
            }
            var json = JsonNode.Parse(text)!.AsObject();
            json["signature"] = signature;
            lines.Append(json.ToJsonString()).Append('\n');
        }
        File.WriteAllText(output, lines.ToString());
        AnsiConsole.WriteLine($"signed {items.Count} items into {output}");
        return 0;
    }

    private static int Verify(string input, string publicKeyPath)
    {
        UserFile("--in", input);
        var key = PublisherKeys.ParsePublicKey(File.ReadAllText(UserFile("--public-key", publicKeyPath)))
            ?? throw new CliException($"{publicKeyPath}:1: {PublisherKeys.PublicKeyRule}");
        // A line that cannot be read is bad input (exit 2, as for sign); exit 1 is kept for lines that read but do not verify.
        var items = Items(input, "verify");
        var failed = 0;
        foreach (var (item, _) in items)
        {
            var reason = PublisherKeys.ParseSignature(item.Signature) is not { } signature ? "not signed"
                : PublisherKeys.Verifies(key, item.SignedContent(), signature) ? null
                : $"signature does not match: item {item.ExternalId} was altered after signing, or signed with another key than {PublisherKeys.KeyId(key)}";
            if (reason is null)
                continue;
            failed++;
            Console.Error.WriteLine($"{input}:{item.Line}: {reason}");
        }
        if (failed > 0)
            return 1;
        AnsiConsole.WriteLine($"all {items.Count} items verify with key {PublisherKeys.KeyId(key)}");
        return 0;
    }

    /// <summary>
    /// The items of <paramref name="input"/>; none is bad input for sign and verify alike (exit 2): most likely the wrong
    /// file, or one not written yet, and signing it would write a file with nothing to vouch for.
    /// </summary>
    private static IReadOnlyList<(ItemRow Item, string Text)> Items(string input, string verb) =>
        ImportReaders.ItemsJsonl(input) is { Count: > 0 } items ? items
        : throw new CliException($"--in: {input}: no items to {verb}; an items.jsonl has one JSON object a line");

    /// <summary>The path, when it names a file that exists; a folder or a missing file is a one-line error naming the flag.</summary>
    private static string UserFile(string flag, string path) =>
        Directory.Exists(path) ? throw new CliException($"{flag}: {path} is a folder; give a file")
        : File.Exists(path) ? path
        : throw new CliException($"{flag}: {path}: no such file");
}
