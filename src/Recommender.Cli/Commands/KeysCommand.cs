using System.CommandLine;
using Recommender.Data;
using Spectre.Console;

namespace Recommender.Cli.Commands;

/// <summary><c>recommender keys create|list|revoke</c>: platform API keys from the command line (the admin API does the same).</summary>
internal static class KeysCommand
{
    public static Command Create()
    {
        var name = new Option<string>("--name") { Description = "Who the key is for.", Required = true };
        var scopes = new Option<string[]>("--scope") { Description = $"Scope, repeatable: {string.Join(", ", ApiKeyStore.Scopes)}.", Required = true, AllowMultipleArgumentsPerToken = true };
        var quiet = new Option<bool>("--quiet") { Description = "Print only the key (for scripts)." };
        var create = new Command("create", "Create an API key; it is printed once and stored only as a hash.") { name, scopes, quiet };
        create.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            var who = parse.GetValue(name)!.Trim();
            var wanted = parse.GetValue(scopes)!;
            var problems = ApiKeyStore.Problems(who, wanted);
            if (problems.ContainsKey("name"))
                throw new CliException($"--name: say who the key is for, 1 to {ApiKeyStore.MaxNameLength} characters");
            if (wanted.FirstOrDefault(s => !ApiKeyStore.Scopes.Contains(s)) is { } bad)
                throw new CliException($"--scope: '{bad}' is not one of {string.Join(", ", ApiKeyStore.Scopes)}");
            await using var dataSource = await CliContext.OpenDatabaseAsync(parse, ct);
            var (info, key) = await new ApiKeyStore(dataSource).CreateAsync(who, wanted, ct);
            if (parse.GetValue(quiet))
                Console.WriteLine(key);
            else
                AnsiConsole.MarkupLineInterpolated($"key {info.Id} ({string.Join(", ", info.Scopes)}): [bold]{key}[/] — shown once; send it as X-Api-Key");
            return 0;
        }));

        var list = new Command("list", "List API keys (never the keys themselves).");
        list.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            await using var dataSource = await CliContext.OpenDatabaseAsync(parse, ct);
            var table = new Table().AddColumns("id", "name", "prefix", "scopes", "created", "revoked", "last used");
            foreach (var k in await new ApiKeyStore(dataSource).ListAsync(ct))
                table.AddRow($"{k.Id}", k.Name, k.Prefix, string.Join(",", k.Scopes), $"{k.CreatedAt:u}", k.RevokedAt is { } r ? $"{r:u}" : "", k.LastUsedAt is { } u ? $"{u:u}" : "never");
            AnsiConsole.Write(table);
            return 0;
        }));

        var id = new Argument<long>("id") { Description = "The key's id (from keys list)." };
        var revoke = new Command("revoke", "Revoke an API key.") { id };
        revoke.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            await using var dataSource = await CliContext.OpenDatabaseAsync(parse, ct);
            if (!await new ApiKeyStore(dataSource).RevokeAsync(parse.GetValue(id), ct))
                throw new CliException($"no active key {parse.GetValue(id)}");
            AnsiConsole.WriteLine("revoked");
            return 0;
        }));
        return new Command("keys", "Platform API keys.") { create, list, revoke };
    }
}
