using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Recommender.Core;
using Recommender.Data;
using Recommender.Data.Import;
using Recommender.Serving;
using Spectre.Console;

namespace Recommender.Cli.Commands;

/// <summary>
/// <c>recommender audit</c>: the served lists an admin's audit search finds (<c>GET /api/admin/served</c>), read through
/// the same <see cref="AuditQueries"/>, printed or written as JSON lines in the shape that route answers.
/// </summary>
internal static class AuditCommand
{
    /// <summary>Lists read per query; the store is asked again, older than the last, until the limit is reached.</summary>
    private const int Page = 500;

    private const int MaxLimit = 100_000;

    public static Command Create()
    {
        var login = new Option<string?>("--login") { Description = "Only lists served to the person who signs in with this login." };
        var platformUser = new Option<string?>("--platform-user") { Description = "Only lists served to a platform's user, by the platform's own id." };
        var objective = new Option<string?>("--objective") { Description = "Only lists ranked for this objective (learning, diversity, engagement, no_profiling, blend)." };
        var from = new Option<string?>("--from") { Description = "Only lists served at or after this time: ISO 8601, such as 2026-12-06 or 2026-12-06T09:30:00Z (UTC without an offset)." };
        var to = new Option<string?>("--to") { Description = "Only lists served at or before this time, written as --from." };
        var limit = new Option<int>("--limit") { Description = $"At most this many lists, newest first (1 to {MaxLimit:N0}).", DefaultValueFactory = _ => 50 };
        var output = new Option<string?>("--out") { Description = "Write the lists to this file as JSON lines, one list a line, as GET /api/admin/served gives each, instead of printing them." };
        var command = new Command("audit", "Served lists from the audit log, newest first: for a person, an objective and a time window.")
        {
            login, platformUser, objective, from, to, limit, output,
        };
        command.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            // Every mistake is named by its flag before the database is read: an empty answer must mean nothing was served.
            var (loginValue, platformValue) = (parse.GetValue(login), parse.GetValue(platformUser));
            if (loginValue is not null && platformValue is not null)
                throw new CliException("--login and --platform-user: give one of them, not both");
            if (platformValue is not null && CatalogRules.IdProblem(platformValue) is { } idProblem)
                throw new CliException($"--platform-user: {idProblem}");
            var objectiveId = parse.GetValue(objective);
            var objectives = new ObjectiveRegistry(ObjectiveRegistry.BuiltIn());
            if (objectiveId is not null && !objectives.TryGet(objectiveId, out _))
                throw new CliException($"--objective: no objective '{objectiveId}'; the objectives are {string.Join(", ", objectives.All.Select(o => o.Id))}");
            var start = Instant("--from", parse.GetValue(from));
            var end = Instant("--to", parse.GetValue(to));
            if (start > end)
                throw new CliException("--from: must not be after --to");
            var wanted = parse.GetValue(limit);
            if (wanted is < 1 or > MaxLimit)
                throw new CliException($"--limit must be from 1 to {MaxLimit:N0} (got {wanted})");

            await using var dataSource = await CliContext.OpenDatabaseAsync(parse, ct);
            var accounts = new AccountStore(dataSource);
            long? userId = null;
            if (loginValue is not null)
                userId = await accounts.FindLoginAsync(loginValue, ct) ?? throw new CliException($"--login: no one signs in with '{loginValue}'; recommender users create adds people");
            if (platformValue is not null)
                userId = await accounts.FindExternalAsync(platformValue, ct) ?? throw new CliException($"--platform-user: no platform user '{platformValue}'");

            var audit = new AuditQueries(new ServedListStore(dataSource), accounts);
            var rows = new List<ServedListRow>();
            long? before = null;
            while (rows.Count < wanted)
            {
                var size = Math.Min(Page, wanted - rows.Count);
                var page = await audit.SearchAsync(new ServedListFilter(userId, objectiveId, start, end, size, before), ct);
                rows.AddRange(page);
                if (page.Count < size)
                    break;
                before = page[^1].Id;
            }
            var externalIds = await new CatalogStore(dataSource).ExternalIdsAsync(rows.SelectMany(r => r.ReadItems().Select(i => i.ItemId)), ct);
            var lists = rows.Select(r => new AuditRow(r.Id, r.UserId, ServedListDto.From(r, id => externalIds.GetValueOrDefault(id)))).ToList();
            if (parse.GetValue(output) is { } file)
            {
                await using var writer = new StreamWriter(file, append: false, new System.Text.UTF8Encoding(false));
                foreach (var list in lists)
                    await writer.WriteLineAsync(JsonSerializer.Serialize(list, Json));
                AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {lists.Count:N0} served {(lists.Count == 1 ? "list" : "lists")} to {file}"));
                return 0;
            }
            if (lists.Count == 0)
            {
                AnsiConsole.WriteLine("no served lists match");
                return 0;
            }
            var people = await audit.PeopleShownAsync(rows, ct);
            var table = new Table().AddColumns("id", "served (UTC)", "to", "objective", "model", "items");
            foreach (var list in lists)
            {
                var person = people.TryGetValue(list.UserId, out var a) ? a.PlatformId ?? a.Login : $"user {list.UserId} (deleted)";
                var items = list.List.Items;
                var shown = string.Join(", ", items.Take(3).Select(i => i.ExternalId ?? $"#{i.ItemId}")) + (items.Count > 3 ? ", …" : "");
                table.AddRow($"{list.Id}", list.List.CreatedAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), Markup.Escape(person),
                    list.List.ObjectiveId, Markup.Escape(list.List.ModelVersion), Markup.Escape($"{items.Count}: {shown}"));
            }
            AnsiConsole.Write(table);
            if (lists.Count == wanted)
                AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"the newest {wanted:N0} shown; a larger --limit shows more"));
            return 0;
        }));
        return command;
    }

    private static DateTimeOffset? Instant(string flag, string? value) =>
        value is null ? null
        : CatalogRules.TryParseIso(value, out var at) ? at
        : throw new CliException($"{flag}: '{value}' is not an ISO 8601 date or time, such as 2026-12-06 or 2026-12-06T09:30:00Z");

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
}
