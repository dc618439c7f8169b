using Recommender.Data;

namespace Recommender.Serving;

/// <summary>The person an admin picked: one, several to choose from, or a problem to show beside the field.</summary>
public sealed record PersonChoice(Account? Chosen, IReadOnlyList<Account> Candidates, string? Problem)
{
    public static PersonChoice None { get; } = new(null, [], null);
}

/// <summary>What came of a role change.</summary>
public enum RoleChangeOutcome
{
    Changed,

    /// <summary>The role is neither "user" nor "admin".</summary>
    NotARole,

    /// <summary>An admin changing their own role is either pointless or a lock-out; another admin does it.</summary>
    OwnAccount,

    /// <summary>The account is the only admin; without one nobody could manage roles again.</summary>
    LastAdmin,

    NoSuchPerson,
}

/// <summary>
/// Admins managing people: finding a person by login or name, listing accounts, and changing roles under the rules
/// both the REST API and the admin pages keep (a known role, never one's own, never the last admin's).
/// </summary>
public sealed class AccountAdministration(AccountStore accounts)
{
    public const int MaxCandidates = 20;

    public static bool IsRole(string? role) => role is "user" or "admin";

    /// <summary>What <see cref="IsRole"/> accepts, in words for a 400.</summary>
    public const string RoleRule = "must be 'user' or 'admin'";

    public Task<Account?> GetAsync(long id, CancellationToken ct = default) => accounts.GetAsync(id, ct);

    /// <summary>People with an account, optionally of one role, ordered as the store lists them.</summary>
    public Task<IReadOnlyList<Account>> ListAsync(string? role, int offset, int limit, CancellationToken ct = default) =>
        accounts.ListAsync(role, offset, limit, ct);

    /// <summary>People whose login or name contains <paramref name="text"/> (everyone when it is empty).</summary>
    public Task<IReadOnlyList<Account>> SearchAsync(string? text, int offset, int limit, CancellationToken ct = default) =>
        accounts.SearchAsync(text, offset, limit, ct);

    /// <summary>
    /// The person an admin means: by id when the address has one (links from other admin pages); else by the typed
    /// text: an exact login wins, then a name nobody else has, else the only match, else up to
    /// <see cref="MaxCandidates"/> to choose from. The typed text is not repeated in the problem, so a crafted link
    /// cannot put words on the page.
    /// </summary>
    public async Task<PersonChoice> ChoosePersonAsync(long? id, string? text, CancellationToken ct = default)
    {
        if (id is { } known)
            return await accounts.GetAsync(known, ct) is { } account ? new(account, [], null) : new(null, [], "There is nobody with that id; search by login or name instead.");
        if (string.IsNullOrWhiteSpace(text))
            return PersonChoice.None;
        var found = await accounts.SearchAsync(text, 0, MaxCandidates + 1, ct);
        if (found.FirstOrDefault(a => string.Equals(a.Login, text.Trim(), StringComparison.OrdinalIgnoreCase)) is { } exact)
            return new(exact, [], null);
        if (found.Where(a => string.Equals(a.DisplayName, text.Trim(), StringComparison.OrdinalIgnoreCase)).ToList() is [var named])
            return new(named, [], null);
        return found.Count switch
        {
            0 => new(null, [], "Nobody's login or name contains that text. Try part of a login or of a name."),
            1 => new(found[0], [], null),
            _ => new(null, [.. found.Take(MaxCandidates)], null),
        };
    }

    /// <summary>Why <paramref name="adminId"/> may not give <paramref name="personId"/> this role, before asking the database; null when they may.</summary>
    public static RoleChangeOutcome? RoleChangeRefusal(long adminId, long personId, string? role) =>
        !IsRole(role) ? RoleChangeOutcome.NotARole
        : personId == adminId ? RoleChangeOutcome.OwnAccount
        : null;

    /// <summary>Gives <paramref name="personId"/> the role "user" or "admin", as <paramref name="adminId"/> asked.</summary>
    public async Task<RoleChangeOutcome> SetRoleAsync(long adminId, long personId, string? role, CancellationToken ct = default)
    {
        if (RoleChangeRefusal(adminId, personId, role) is { } refusal)
            return refusal;
        return await accounts.SetRoleAsync(personId, role!, ct) switch
        {
            RoleChange.Changed => RoleChangeOutcome.Changed,
            RoleChange.LastAdmin => RoleChangeOutcome.LastAdmin,
            _ => RoleChangeOutcome.NoSuchPerson,
        };
    }
}
