using Recommender.Core.Objectives;
using Recommender.Core.Ranking;

namespace Recommender.Core;

/// <summary>
/// What a chosen topic holds for one reader, item by item, in the order a goal that covers chosen topics rules items
/// out: read or dismissed (never shown again), from a source below the reader's credibility floor, already mastered
/// (predicted success at or above the goal's <c>mastered_success</c>), and well above their level (predicted success
/// below <see cref="LearningObjective.ChallengeBelow"/>). The rest are at their level. So when a page shows little on
/// a topic, the feed can say which of these it is rather than a reason that may not hold.
/// </summary>
public sealed record TopicSupply(string Topic, int Total, int Read, int BelowFloor, int Mastered, int AboveLevel)
{
    /// <summary>Items on the topic that none of the reasons rules out.</summary>
    public int AtLevel => Total - Read - BelowFloor - Mastered - AboveLevel;

    /// <summary>
    /// The topic's items for <paramref name="user"/>; <paramref name="masteredSuccess"/> null for a goal that does not
    /// set items aside as mastered. Success is predicted for the topic itself, as learning predicts it for a chosen topic.
    /// </summary>
    public static TopicSupply Of(Catalog catalog, UserState user, string topic, double credibilityFloor, double? masteredSuccess)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(user);
        var read = RankingMath.NeverAgain(user);
        var (total, readCount, below, mastered, above) = (0, 0, 0, 0, 0);
        string[] topics = [topic];
        foreach (var id in catalog.ItemsInTopic(topic))
        {
            total++;
            if (read.Contains(id))
            {
                readCount++;
                continue;
            }
            if (catalog[id].Credibility is { } credibility && credibility < credibilityFloor)
            {
                below++;
                continue;
            }
            var success = catalog.PredictSuccess(user.Skills, id, topics);
            if (success >= masteredSuccess)
                mastered++;
            else if (success < LearningObjective.ChallengeBelow)
                above++;
        }
        return new TopicSupply(topic, total, readCount, below, mastered, above);
    }
}
