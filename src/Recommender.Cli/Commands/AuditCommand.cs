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
    private const int MaxLimit = 100_000;

    public static Command Create()
    {
        var login = new Option<string?>("--login") { Description = "Only lists served to the person who signs in with this login." };
        var platformUser = new Option<string?>("--platform-user") { Description = "Only lists served to a platform's user, by the platform's own id." };
        var objective = new Option<string?>("--objective") { Description = "Only lists ranked for this objective (learning, diversity, engagement, no_profiling, blend)." };
        var from = new Option<string?>("--from") { Description = "Only lists served at or after this time: ISO 8601, such as 2026-12-06 or 2026-12-06T09:30:00Z (UTC without an offset)." };
        var to = new Option<string?>("--to") { Description = "Only lists served up to this time, written as --from; a date includes that day, a time to the minute that minute." };
        var limit = new Option<int>("--limit") { Description = $"At most this many lists, newest first (1 to {MaxLimit:N0}).", DefaultValueFactory = _ => 50 };
        var output = new Option<string?>("--out") { Description = "Write the lists to this file as JSON lines, one list a line, as GET /api/admin/served gives each, instead of printing them." };
        var command = new Command("audit", "Served lists from the audit log, newest first: for a person, an objective and a time window.")
        {
            login, platformUser, objective, from, to, limit, output,
        };
        command.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            // Every mistake is named by its flag before the log is read: an empty answer must mean nothing was served.
            var (loginValue, platformValue, objectiveId) = (parse.GetValue(login), parse.GetValue(platformUser), parse.GetValue(objective));
            var start = Instant("--from", parse.GetValue(from));
            // "--to 2026-12-06" means through that day, as the audit page reads its "to"; the store's end is exclusive.
            var end = Instant("--to", parse.GetValue(to)) is { } until ? CatalogRules.EndOf(parse.GetValue(to)!, until) : (DateTimeOffset?)null;
            var wanted = parse.GetValue(limit);
            if (wanted is < 1 or > MaxLimit)
                throw new CliException($"--limit must be from 1 to {MaxLimit:N0} (got {wanted})");

            await using var dataSource = await CliContext.OpenDatabaseAsync(parse, ct);
            var accounts = new AccountStore(dataSource);
            var checkedFilter = await new AuditFilterCheck(new ObjectiveRegistry(ObjectiveRegistry.BuiltIn()), accounts, new ServedListStore(dataSource))
                .CheckAsync(new AuditFilterInput(objectiveId, start, end, platformValue, PersonNamed: loginValue is not null), Flags, ct);
            if (checkedFilter.Problems.FirstOrDefault() is { Key: { } field, Value: var problem })
                throw new CliException($"{field}: {problem}");
            var userId = checkedFilter.PlatformUserId;
            if (loginValue is not null)
                userId = await accounts.FindLoginAsync(loginValue, ct) ?? throw new CliException($"--login: no one signs in with '{loginValue}'; recommender users create adds people");

            var audit = new AuditQueries(new ServedListStore(dataSource), accounts);
            var rows = new List<ServedListRow>();
            // One list more than asked for says whether "a larger --limit shows more" is true.
            await foreach (var row in audit.SearchAllAsync(new ServedListFilter(userId, objectiveId, start, end), wanted + 1, ct))
                rows.Add(row);
            var more = rows.Count > wanted;
            if (more)
                rows.RemoveAt(rows.Count - 1);
            var externalIds = await new CatalogStore(dataSource).ExternalIdsAsync(rows.SelectMany(r => r.ReadItems().Select(i => i.ItemId)), ct);
            var lists = rows.Select(r => AuditRow.From(r, id => externalIds.GetValueOrDefault(id))).ToList();
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
            if (more)
                AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"the newest {wanted:N0} shown; a larger --limit shows more"));
            return 0;
        }));
        return command;
    }

    private static DateTimeOffset? Instant(string flag, string? value) =>
        value is null ? null
        : CatalogRules.TryParseIso(value, out var at) ? at
        : throw new CliException($"{flag}: '{value}' is not an ISO 8601 date or time, such as 2026-12-06 or 2026-12-06T09:30:00Z");

    private static readonly AuditFilterFields Flags = new("--login", "--platform-user", "--objective", "--from", "--to");

    /// <summary>
    /// The route's shape, with text as it is written ("you've", “Help me learn”, é) rather than \u0027 escapes: the file
    /// is read by people and grep, never embedded in a page, which is what the default escaping guards against.
    /// </summary>
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
