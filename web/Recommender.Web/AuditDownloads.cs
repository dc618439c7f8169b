using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Recommender.Core;
using Recommender.Data;
using Recommender.Serving;

namespace Recommender.Web;

/// <summary>
/// The audit pages' evidence as files an auditor can hand on: one record as JSON, or what the explorer's filters match
/// as JSON lines. Each record is written exactly as the admin REST API answers it (<see cref="AuditRow"/>, with its
/// serializer options), read through the same <see cref="AuditQueries"/> as the pages, so a file, the API and
/// <c>recommender audit --out</c> agree. Admins only, as the pages are.
/// </summary>
public static class AuditDownloads
{
    /// <summary>
    /// The most records one download of the explorer's filter holds, newest first: about 90 MB of twenty-item lists (a
    /// diversity list on the demo is about 9 KB).
    /// The REST API's GET /api/admin/served pages through any number.
    /// </summary>
    public const int MaxRecords = 10_000;

    public static IEndpointRouteBuilder MapAuditDownloads(this IEndpointRouteBuilder app)
    {
        // Links from the audit pages: someone signed out on the way is sent to sign in, as a page would send them, not
        // answered 401 as the framework answers a JSON endpoint.
        var audit = app.MapGroup("/admin/audit").RequireAuthorization(WebServiceExtensions.AdminPolicy).AllowCookieRedirect();
        audit.MapGet("/{requestId:guid}.json", Record)
            .WithName("WebDownloadAuditRecord").WithSummary("One served list's audit record as a JSON file, as GET /api/admin/served/{requestId} answers it");
        audit.MapGet("/records.jsonl", Records)
            .WithName("WebDownloadAuditRecords")
            .WithSummary("The audit explorer's filter as a JSON lines file, one record a line as GET /api/admin/served gives each")
            .WithDescription($"user (a person's id), objective, from and to as the explorer reads them; newest first, at most {MaxRecords:N0}.");
        return app;
    }

    /// <summary>Where the audit record page's download link points.</summary>
    public static string RecordAddress(Guid requestId) => $"/admin/audit/{requestId}.json";

    /// <summary>Where the explorer's download link points: the filters it shows, without the page it is on.</summary>
    public static string RecordsAddress(long? user, string? objective, string? from, string? to) =>
        $"/admin/audit/records.jsonl?user={user}&objective={Uri.EscapeDataString(objective ?? "")}&from={Uri.EscapeDataString(from ?? "")}&to={Uri.EscapeDataString(to ?? "")}";

    private static async Task<Results<FileContentHttpResult, NotFound>> Record(Guid requestId, AuditQueries audit, ServingState serving, CancellationToken ct)
    {
        if (await audit.RecordAsync(requestId, ct) is not { } row)
            return TypedResults.NotFound();
        var json = JsonSerializer.SerializeToUtf8Bytes(AuditRow.From(row, serving.ExternalIdOf), AuditRow.Json);
        return TypedResults.File(json, "application/json",
            string.Create(CultureInfo.InvariantCulture, $"recommender-audit-record-{row.CreatedAt:yyyy-MM-dd}-{row.RequestId}.json"));
    }

    /// <summary>
    /// Every record the explorer's filters match, newest first, to <see cref="MaxRecords"/>; the page number ("before")
    /// is not a filter, so the file starts from the newest whichever page it was taken from. Streamed a page of the
    /// search at a time. A filter the explorer would refuse is a 400 naming its field.
    /// </summary>
    private static async Task<Results<PushStreamHttpResult, ValidationProblem>> Records(string? user, string? objective, string? from, string? to,
        AuditQueries audit, AccountStore accounts, ObjectiveRegistry objectives, ServingState serving, HttpContext http, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (!QueryValues.TryRead<long>(user, out var userId))
            errors["user"] = ["must be a person's id, as the audit explorer's links carry it"];
        var person = userId is { } id ? await accounts.GetAsync(id, ct) : null;
        if (userId is not null && person is null)
            errors["user"] = [$"no person has id {userId}; choose them on the audit explorer"];
        if (!string.IsNullOrEmpty(objective) && !objectives.TryGet(objective, out _))
            errors["objective"] = [$"is not one of the goals ({string.Join(", ", objectives.All.Select(o => o.Id))})"];
        var (start, end, timeProblems) = AuditWindow.Read(from, to);
        foreach (var (field, problem) in timeProblems)
            errors[field] = [problem];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var filter = new ServedListFilter(userId, string.IsNullOrEmpty(objective) ? null : objective, start, end);
        var name = new StringBuilder("recommender-audit-records");
        foreach (var part in new[] { person?.PlatformId ?? person?.Login, objective, string.IsNullOrWhiteSpace(from) ? null : "from-" + from, string.IsNullOrWhiteSpace(to) ? null : "to-" + to })
        {
            if (!string.IsNullOrWhiteSpace(part))
                name.Append('-').Append(FileNamePart(part));
        }
        name.Append(CultureInfo.InvariantCulture, $"-taken-{DateTimeOffset.UtcNow:yyyy-MM-dd-HHmm}Z.jsonl");
        return TypedResults.Stream(async body =>
        {
            await foreach (var row in audit.SearchAllAsync(filter, MaxRecords, http.RequestAborted))
            {
                await JsonSerializer.SerializeAsync(body, AuditRow.From(row, serving.ExternalIdOf), AuditRow.Json, http.RequestAborted);
                await body.WriteAsync(NewLine, http.RequestAborted);
            }
        }, "application/jsonl", name.ToString());
    }

    private static readonly ReadOnlyMemory<byte> NewLine = "\n"u8.ToArray();

    /// <summary>A login or a typed time as part of a file name: letters, digits, dots, hyphens and underscores; nothing a file system refuses.</summary>
    private static string FileNamePart(string text) =>
        new([.. text.Trim().Where(c => c != ':').Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_')]);
}
