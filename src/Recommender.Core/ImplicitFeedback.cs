namespace Recommender.Core;

/// <summary>
/// How activity without ratings becomes implicit feedback for one-class factorisation (Hu, Koren, Volinsky 2008):
/// every (person, item) pair with activity is a positive; how sure we are of it grows with the effort the activity
/// took. The rules and their reasons are in docs/ranking.md ("Training on activity").
/// </summary>
public static class ImplicitFeedback
{
    /// <summary>
    /// The weight of one event: what it says about wanting the item, ordered by the effort and intent it shows.
    /// Null for kinds that are no preference (impressions, dismissals, difficulty and quiz feedback) and for ratings,
    /// which train the explicit model.
    /// </summary>
    public static float? Weight(EventKind kind) => kind switch
    {
        // Writing an answer is the most work a reader puts into a question; a favourite is an explicit "keep this".
        EventKind.Answer or EventKind.Favourite or EventKind.Like => 4,
        // Asking shows certain interest, but in one's own question, not in a choice among others.
        EventKind.Ask or EventKind.Complete => 3,
        EventKind.Comment or EventKind.Learned => 2,
        // Edits are often housekeeping by people who curate the site; clicks and views cost a moment.
        EventKind.Edit or EventKind.Click or EventKind.View => 1,
        _ => null,
    };

    /// <summary>
    /// A rating at or above this, on the product's 0–10 scale, says "I liked this": the one-class ranking model trains on
    /// such ratings as positives and ignores lower ones (a rated item is still consumed, so it is never served again).
    /// 7 of 10 is MovieTweetings' positive threshold in <c>evaluate</c>, as 4 of 5 is on a five-star scale.
    /// </summary>
    public const float PositiveRating = 7;

    /// <summary>Every kind with a weight, in enum order.</summary>
    public static IReadOnlyList<EventKind> Kinds { get; } = [.. Enum.GetValues<EventKind>().Where(k => Weight(k) is not null)];

    /// <summary>
    /// The strength of a pair from the sum of its events' weights: ln(1 + sum), Hu et al.'s logarithmic scaling, so
    /// that ten comments on a question count more than one but not ten times as much. ALS turns it into the
    /// confidence 1 + α·strength.
    /// </summary>
    public static float Strength(float weightSum) => MathF.Log(1 + Math.Max(0, weightSum));

    /// <summary>One (person, item) pair with its strength and the time of its first event, the time a temporal split cuts by.</summary>
    public readonly record struct Cell(long UserId, long ItemId, float Strength, long FirstUnixSeconds);

    /// <summary>Sums events into pairs; events of kinds without a weight are skipped. Pairs come out in order of first appearance.</summary>
    public static List<Cell> Cells(IEnumerable<(long UserId, long ItemId, EventKind Kind, long UnixSeconds)> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var sums = new Dictionary<(long, long), (float Sum, long First)>();
        foreach (var (user, item, kind, at) in events)
        {
            if (Weight(kind) is not { } weight)
                continue;
            sums[(user, item)] = sums.TryGetValue((user, item), out var s) ? (s.Sum + weight, Math.Min(s.First, at)) : (weight, at);
        }
        return [.. sums.Select(p => new Cell(p.Key.Item1, p.Key.Item2, Strength(p.Value.Sum), p.Value.First))];
    }
}
