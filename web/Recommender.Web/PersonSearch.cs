using Recommender.Data;

namespace Recommender.Web;

/// <summary>The person an admin picked: one, several to choose from, or a problem to show beside the field.</summary>
public sealed record PersonChoice(Account? Chosen, IReadOnlyList<Account> Candidates, string? Problem)
{
    public static PersonChoice None { get; } = new(null, [], null);
}

/// <summary>Where an admin chooses a person (audit explorer, counterfactual audit) they type a login or a name, not an id.</summary>
public static class PersonSearch
{
    public const int MaxCandidates = 20;

    /// <summary>
    /// By id when the address has one (links from other admin pages); else by the typed text: an exact login wins,
    /// then a name nobody else has, else the only match, else up to <see cref="MaxCandidates"/> to choose from. The typed text is not repeated in
    /// the problem, so a crafted link cannot put words on the page.
    /// </summary>
    public static async Task<PersonChoice> ChooseAsync(AccountStore accounts, long? id, string? text, CancellationToken ct)
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
}
