using Recommender.Core;
using Recommender.Data;
using Recommender.Data.Import;

namespace Recommender.Serving;

/// <summary>
/// How a caller names the fields of an audit search, so each problem is told in its words: the admin route by its query
/// parameters (<c>from</c>, <c>externalUserId</c>), the CLI by its flags (<c>--from</c>, <c>--platform-user</c>).
/// <paramref name="Person"/> is the caller's own way to name a person (a user id, a login); <paramref name="ObjectivesHint"/>
/// says where the objectives are listed, or null to list them in the message.
/// </summary>
public sealed record AuditFilterFields(string Person, string PlatformUser, string Objective, string From, string To, string? ObjectivesHint = null);

/// <summary>
/// An audit search as given. <paramref name="PersonNamed"/> is true when the caller's own person field was given,
/// which may not be given with <paramref name="PlatformUser"/>; the caller resolves that one itself.
/// </summary>
public sealed record AuditFilterInput(string? ObjectiveId = null, DateTimeOffset? From = null, DateTimeOffset? To = null, string? PlatformUser = null, bool PersonNamed = false);

/// <summary>What a check found: the problems by field (the caller's names), and the platform user's id when one was named and found.</summary>
public sealed record AuditFilterOutcome(IReadOnlyDictionary<string, string> Problems, long? PlatformUserId)
{
    public bool Ok => Problems.Count == 0;
}

/// <summary>
/// The checks of an audit search's filter, one definition for the admin route and <c>recommender audit</c>: every mistake
/// is refused before the log is read, because a filter that matches nothing looks like a log with nothing in it.
/// </summary>
public sealed class AuditFilterCheck(ObjectiveRegistry objectives, AccountStore accounts, ServedListStore served)
{
    public async Task<AuditFilterOutcome> CheckAsync(AuditFilterInput input, AuditFilterFields names, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(names);
        var problems = new Dictionary<string, string>(StringComparer.Ordinal);
        if (input.PlatformUser is not null && input.PersonNamed)
            problems[names.PlatformUser] = $"give {names.Person} or {names.PlatformUser}, not both";
        else if (input.PlatformUser is not null && CatalogRules.IdProblem(input.PlatformUser) is { } idProblem)
            problems[names.PlatformUser] = idProblem;
        // An objective whose plug-in this process does not load (the CLI loads none), or that was removed since, still
        // has its lists in the log: those are found, and only an id nothing was ever served under is refused.
        if (input.ObjectiveId is { } id && !objectives.TryGet(id, out _) && !await served.AnyOfObjectiveAsync(id, ct))
            problems[names.Objective] = $"no objective '{id}'; {names.ObjectivesHint ?? $"the objectives are {string.Join(", ", objectives.All.Select(o => o.Id))}"}";
        foreach (var (field, value) in new[] { (names.From, input.From), (names.To, input.To) })
        {
            if (CatalogRules.InstantProblem(value) is { } problem)
                problems[field] = problem;
        }
        if (problems.Count == 0 && input.From > input.To)
            problems[names.From] = $"must not be after '{names.To}'";
        if (problems.Count > 0 || input.PlatformUser is not { } platformUser)
            return new AuditFilterOutcome(problems, null);
        var found = await accounts.FindExternalAsync(platformUser, ct);
        if (found is null)
            problems[names.PlatformUser] = $"no platform user '{platformUser}'";
        return new AuditFilterOutcome(problems, found);
    }
}
