using Recommender.Core.Objectives;
using Recommender.Core.Ranking;

namespace Recommender.Core.Evaluation;

/// <summary>Settings of the learner simulation; each default is the one the CLI documents.</summary>
public sealed record LearnerSimulationOptions
{
    /// <summary>Simulated learners per objective. Default 40.</summary>
    public int Learners { get; init; } = 40;

    /// <summary>Items a learner consumes at most; a learner who has not mastered the topic by then counts this many. Default 150.</summary>
    public int MaxItems { get; init; } = 150;

    public int Seed { get; init; } = 42;

    /// <summary>Hidden starting skill (Elo scale), ± 50 per learner. Default 900: a beginner.</summary>
    public double StartSkill { get; init; } = 900;

    /// <summary>Hidden skill gained from one item inside the zone of proximal development. Default 30.</summary>
    public double Growth { get; init; } = 30;

    /// <summary>The zone: true success probability from <see cref="ZoneLow"/> to <see cref="ZoneHigh"/>. Defaults 0.5 and 0.85.</summary>
    public double ZoneLow { get; init; } = 0.5;

    public double ZoneHigh { get; init; } = 0.85;

    /// <summary>Topics with fewer items than this are not chosen as a learning goal. Default 30.</summary>
    public int MinTopicItems { get; init; } = 30;

    /// <summary>Objectives to simulate.</summary>
    public IReadOnlyList<string> Objectives { get; init; } = ["engagement", "learning", "diversity", "no_profiling", "blend"];
}

/// <summary>How quickly learners served by one objective reached mastery.</summary>
/// <param name="Objective">Objective id.</param>
/// <param name="Learners">Learners simulated.</param>
/// <param name="MedianItems">Median items consumed until mastery (capped likewise).</param>
/// <param name="MeanItems">Mean items consumed until mastery (learners who never got there count <see cref="LearnerSimulationOptions.MaxItems"/>).</param>
/// <param name="MasteredShare">Share of learners who reached mastery within the limit.</param>
public sealed record LearnerResult(string Objective, int Learners, double MeanItems, double MedianItems, double MasteredShare);

public sealed record LearnerSimulationReport(LearnerSimulationOptions Options, IReadOnlyList<LearnerResult> Objectives);

/// <summary>
/// Simulated learners: real users of the training data (so engagement has tastes to serve), each given a goal topic
/// (their most-read one) and a hidden skill in it. Items have a hidden difficulty (their level, with per-item noise;
/// a hashed level when the data has none). Each step the learner takes the top item the objective serves; hidden skill
/// grows only when the item is on the goal topic and inside the zone of proximal development. The learner reports
/// evidence (quiz right/wrong, too easy/hard), which updates the estimated skill and item difficulty the objectives see.
/// Mastery is hidden skill at <see cref="EloLearningModel.MasteryRating"/>.
/// </summary>
public static class LearnerSimulator
{
    public static LearnerSimulationReport Run(EvaluationData data, IRelevanceModel model, ObjectiveRegistry registry, LearnerSimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(options);
        var learners = ChooseLearners(data, model, options);
        var results = new LearnerResult[options.Objectives.Count];
        Parallel.For(0, options.Objectives.Count, o => results[o] = Simulate(data, model, registry, options.Objectives[o], learners, options));
        return new LearnerSimulationReport(options, results);
    }

    private sealed record Learner(long UserId, string Topic, double StartSkill, List<Interaction> History);

    private static List<Learner> ChooseLearners(EvaluationData data, IRelevanceModel model, LearnerSimulationOptions options)
    {
        var topics = data.Catalog.Topics.Where(t => data.Catalog.ItemsInTopic(t).Count >= options.MinTopicItems).ToHashSet(StringComparer.Ordinal);
        var train = data.Split.Train;
        var byUser = new Dictionary<long, List<Interaction>>();
        for (var j = 0; j < train.Count; j++)
        {
            var userId = train.Users.IdAt(train.UserIndices[j]);
            (byUser.TryGetValue(userId, out var list) ? list : byUser[userId] = [])
                .Add(new Interaction(userId, train.Items.IdAt(train.ItemIndices[j]), EventKind.Rating, train.Values[j], DateTimeOffset.UnixEpoch));
        }
        var rng = new Random(options.Seed);
        var learners = new List<Learner>();
        foreach (var userId in byUser.Keys.Where(u => model.TryGetUserIndex(u, out _)).OrderBy(u => RankingMath.TieBreak(options.Seed, u)))
        {
            var topic = byUser[userId]
                .SelectMany(h => data.Catalog.TryGet(h.ItemId, out var item) ? item.Topics : [])
                .Where(topics.Contains)
                .GroupBy(t => t, StringComparer.Ordinal)
                .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => g.Key).FirstOrDefault();
            if (topic is not null && byUser[userId].Count >= 5)
            {
                learners.Add(new Learner(userId, topic, options.StartSkill + rng.NextDouble() * 100 - 50, byUser[userId]));
            }
            if (learners.Count == options.Learners)
            {
                break;
            }
        }
        return learners;
    }

    /// <summary>The true difficulty: the level's, with ±40 of per-item noise the objectives cannot see.</summary>
    private static double HiddenDifficulty(ItemInfo item, int seed)
    {
        var hash = RankingMath.TieBreak(seed, item.Id);
        var level = item.Level ?? (int)(hash % 5) + 1;
        var noise = (hash >> 8) % 81 / 1.0 - 40;
        return EloLearningModel.DifficultyFromLevel(level) + noise;
    }

    private static LearnerResult Simulate(EvaluationData data, IRelevanceModel model, ObjectiveRegistry registry, string objectiveId,
        List<Learner> learners, LearnerSimulationOptions options)
    {
        // Difficulty estimates are shared by all learners of this objective, as they would be in the service.
        var estimated = new Dictionary<long, double>();
        var catalog = new Catalog(data.Catalog.Items, data.Catalog.Items.ToDictionary(i => i.Id, i => data.Catalog.Popularity(i.Id)), estimated);
        var pipeline = new RecommendationPipeline(model, catalog, registry);
        var objective = registry[objectiveId];
        var elo = EloLearningModel.Default;
        var rng = new Random(options.Seed);
        var counts = new List<int>();
        var mastered = 0;
        foreach (var learner in learners)
        {
            var parameters = objective.Schema.TryGet(CommonParameters.Topics, out _)
                ? ObjectiveParameters.Empty.With(CommonParameters.Topics, [learner.Topic])
                : ObjectiveParameters.Empty;
            var skill = learner.StartSkill;
            var skills = new Dictionary<string, TopicSkill>(StringComparer.Ordinal);
            var history = new List<Interaction>(learner.History);
            var consumed = 0;
            while (consumed < options.MaxItems && skill < EloLearningModel.MasteryRating)
            {
                var user = new UserState(learner.UserId, history, skills);
                var served = pipeline.Recommend(new RecommendationRequest(user, objectiveId, parameters, 10, options.Seed, DateTimeOffset.UnixEpoch));
                if (served.Items.Count == 0)
                {
                    consumed = options.MaxItems;
                    break;
                }
                var item = catalog[served.Items[0].ItemId];
                consumed++;
                var onTopic = item.Topics.Contains(learner.Topic);
                var success = EloLearningModel.PredictSuccess(onTopic ? skill : EloLearningModel.InitialSkill, HiddenDifficulty(item, options.Seed));
                if (onTopic && success >= options.ZoneLow && success <= options.ZoneHigh)
                {
                    skill += options.Growth;
                }
                var kind = success > 0.9 ? EventKind.TooEasy
                    : success < 0.3 ? EventKind.TooHard
                    : rng.NextDouble() < success ? EventKind.QuizCorrect : EventKind.QuizWrong;
                var difficulty = catalog.Difficulty(item.Id);
                foreach (var s in elo.UpdateTopics(skills, item, difficulty, kind))
                {
                    skills[s.Topic] = s;
                }
                var topicSkill = skills.TryGetValue(learner.Topic, out var ts) ? ts.Rating : EloLearningModel.InitialSkill;
                estimated[item.Id] = elo.Update(topicSkill, difficulty, kind).Difficulty;
                history.Add(new Interaction(learner.UserId, item.Id, kind, null, DateTimeOffset.UnixEpoch));
            }
            if (skill >= EloLearningModel.MasteryRating)
            {
                mastered++;
            }
            counts.Add(consumed);
        }
        var sorted = counts.Order().ToList();
        return new LearnerResult(objectiveId, counts.Count, counts.Count == 0 ? 0 : counts.Average(),
            sorted.Count == 0 ? 0 : sorted[sorted.Count / 2], counts.Count == 0 ? 0 : (double)mastered / counts.Count);
    }
}
