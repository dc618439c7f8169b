namespace Recommender.Core;

/// <summary>
/// The share of a page each chosen topic is owed under a goal that balances them (<see cref="IObjective.BalancesChosenTopics"/>),
/// and which chosen topics a page shows fewer items on than that. Read from the page's own items, so what the feed says
/// about a topic rests on the cards it shows.
/// </summary>
public static class ChosenTopicShare
{
    /// <summary>Whole places of <paramref name="places"/> owed to each of <paramref name="chosenTopics"/> topics: none without two or more.</summary>
    public static int Of(int places, int chosenTopics) => chosenTopics < 2 ? 0 : places / chosenTopics;

    /// <summary>
    /// The chosen topics the items show at least one of but fewer than their share, with how many they show, in the
    /// order they were chosen. An item counts for a topic when it carries it, so a subject counts its tags' items too.
    /// </summary>
    public static IReadOnlyList<(string Topic, int Shown)> Short(IReadOnlyList<string> chosen, IReadOnlyList<IReadOnlyList<string>> shownTopics)
    {
        ArgumentNullException.ThrowIfNull(chosen);
        ArgumentNullException.ThrowIfNull(shownTopics);
        var distinct = chosen.Distinct(StringComparer.Ordinal).ToList();
        var share = Of(shownTopics.Count, distinct.Count);
        return [.. distinct.Select(t => (Topic: t, Shown: shownTopics.Count(topics => topics.Contains(t))))
            .Where(t => t.Shown > 0 && t.Shown < share)];
    }
}
