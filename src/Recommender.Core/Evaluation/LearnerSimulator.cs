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

    /// <summary>Seeds per parameter set; the report averages over them. Default 3 (the seed and the next two).</summary>
    public int Seeds { get; init; } = 3;

    /// <summary>Hidden starting skill (Elo scale) in the goal topic, on average. Default 900: a beginner.</summary>
    public double StartSkill { get; init; } = 900;

    /// <summary>Spread (standard deviation, Elo points) of starting skill between learners and between one learner's topics. Default 120.</summary>
    public double StartSpread { get; init; } = 120;

    /// <summary>Hidden skill one item gains at best (an item at <see cref="BestSuccess"/>), on average. Default 30.</summary>
    public double Growth { get; init; } = 30;

    /// <summary>How much learning rates differ: each learner's is <see cref="Growth"/> × e^(N(0, this)). Default 0.4.</summary>
    public double RateSpread { get; init; } = 0.4;

    /// <summary>
    /// How far (Elo points) from the best level an item still teaches: the gain falls as e^(−(distance / reach)²), so an
    /// item 2 reaches off teaches 2% of the best. Default 120.
    /// </summary>
    public double Reach { get; init; } = 120;

    /// <summary>
    /// The success rate at which an item teaches most: the learner copes with it most of the time, but not always
    /// (desirable difficulty; adaptive-practice systems aim at 60–85%). Default 0.65, an item about 100 Elo points
    /// below the learner's skill.
    /// </summary>
    public double BestSuccess { get; init; } = 0.65;

    /// <summary>Where the best item sits relative to the learner's skill (Elo points; negative is below).</summary>
    public double Stretch => -400 * Math.Log10(BestSuccess / (1 - BestSuccess));

    /// <summary>Spread (Elo points) of an item's hidden difficulty around its level's, which the objectives cannot see. Default 60.</summary>
    public double ItemNoise { get; init; } = 60;

    /// <summary>
    /// The parameter sets a report covers besides these options: slower learners who differ more, a narrow zone
    /// with stronger starters, and quick learners with a wide zone. Learning must win on all of them, not only the defaults.
    /// </summary>
    public IReadOnlyList<(string Name, LearnerSimulationOptions Options)> ParameterSets() =>
    [
        ("default", this),
        ("slow, varied", this with { Growth = Growth * 0.6, StartSpread = StartSpread * 1.5, RateSpread = RateSpread * 1.5 }),
        ("narrow zone, easier best", this with { Reach = Reach * 0.6, StartSkill = StartSkill + 100, BestSuccess = 0.75 }),
        ("quick, wide zone, harder best", this with { Growth = Growth * 1.5, Reach = Reach * 1.6, ItemNoise = ItemNoise * 1.5, BestSuccess = 0.55 }),
        // Two topics to master take about twice the items, so twice the limit, or every objective would stop at it.
        ("two topics", this with { GoalTopics = 2, MaxItems = MaxItems * 2 }),
    ];

    /// <summary>Topics with fewer items than this are not chosen as a learning goal. Default 30.</summary>
    public int MinTopicItems { get; init; } = 30;

    /// <summary>
    /// Goal topics per learner: their most-read topics (never a topic beside its own parent), each with a starting skill
    /// of its own; mastery is every one of them mastered. Default 1; the "two topics" parameter set has 2.
    /// </summary>
    public int GoalTopics { get; init; } = 1;

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

/// <summary>One parameter set and seed.</summary>
/// <param name="ParameterSet">Name of the parameter set.</param>
/// <param name="Seed">The simulation's seed.</param>
/// <param name="Objectives">Per objective, in the options' order.</param>
/// <param name="ModelSeed">Seed of the relevance model the objectives ranked with (the evaluation's seed).</param>
/// <param name="BestPossible">
/// The same learners served by a chooser that knows their hidden skill and every item's hidden difficulty, and takes the
/// goal-topic item that teaches most: what no objective can beat, so a run whose best is near the cap cannot show a
/// margin between objectives.
/// </param>
/// <param name="BestByLevel">
/// The same learners served by a chooser that knows their hidden skill but each item only by its level, as an objective
/// with a perfect skill model would before any answers on the item: what choosing at the learner's level can reach,
/// apart from learning each item's own difficulty.
/// </param>
public sealed record LearnerRun(string ParameterSet, int Seed, IReadOnlyList<LearnerResult> Objectives, int ModelSeed = 0,
    LearnerResult? BestPossible = null, LearnerResult? BestByLevel = null);

/// <summary>Every run, and per objective the mean over them.</summary>
public sealed record LearnerSimulationReport(LearnerSimulationOptions Options, IReadOnlyList<LearnerResult> Objectives, IReadOnlyList<LearnerRun> Runs);

/// <summary>
/// Simulated learners: real users of the training data (so engagement has tastes to serve), each given a goal topic
/// (their most-read one), a hidden starting skill in every topic (a personal level plus a per-topic offset) and a
/// learning rate of their own. Items have a hidden difficulty (their level's, with noise the objectives cannot see; a
/// hashed level when the data has none). Each step the learner takes the top item the objective serves; hidden skill
/// in the goal topic grows by the learner's rate times how well the item's difficulty matches their level (one they would
/// cope with <see cref="LearnerSimulationOptions.BestSuccess"/> of the time teaches most; far above or below, almost
/// nothing; off-topic, nothing). The learner answers a quiz on it
/// (right with the true probability) or says it was too easy or too hard, and that evidence updates, through the
/// one <see cref="SkillModel"/>, the estimated skill and item difficulty the objectives see. Mastery is hidden skill at
/// <see cref="EloLearningModel.MasteryRating"/>. Runs every parameter set of <see cref="LearnerSimulationOptions.ParameterSets"/>
/// with several seeds.
/// </summary>
public static class LearnerSimulator
{
    public static LearnerSimulationReport Run(EvaluationData data, IRelevanceModel model, ObjectiveRegistry registry, LearnerSimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(options);
        var runs = new List<LearnerRun>();
        foreach (var (name, set) in options.ParameterSets())
        {
            for (var seed = options.Seed; seed < options.Seed + Math.Max(1, options.Seeds); seed++)
            {
                var o = set with { Seed = seed };
                var learners = ChooseLearners(data, model, o);
                var results = new LearnerResult[o.Objectives.Count];
                Parallel.For(0, o.Objectives.Count, i => results[i] = Simulate(data, model, registry, o.Objectives[i], learners, o));
                runs.Add(new LearnerRun(name, seed, results, BestPossible: Simulate(data, model, registry, BestPossible, learners, o),
                    BestByLevel: Simulate(data, model, registry, BestByLevel, learners, o)));
            }
        }
        var mean = options.Objectives.Select((id, i) => new LearnerResult(id, runs.Sum(r => r.Objectives[i].Learners),
            runs.Average(r => r.Objectives[i].MeanItems), runs.Average(r => r.Objectives[i].MedianItems), runs.Average(r => r.Objectives[i].MasteredShare))).ToList();
        return new LearnerSimulationReport(options, mean, runs);
    }

    /// <summary>A simulated learner: goal topics with a hidden starting skill in each (same order), a rate and the history they bring.</summary>
    private sealed record Learner(long UserId, IReadOnlyList<string> Topics, IReadOnlyList<double> StartSkills, double Rate, List<Interaction> History);

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
            var goals = new List<string>();
            foreach (var topic in byUser[userId]
                .SelectMany(h => data.Catalog.TryGet(h.ItemId, out var item) ? item.Topics : [])
                .Where(topics.Contains)
                .GroupBy(t => t, StringComparer.Ordinal)
                .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => g.Key))
            {
                if (goals.Count < options.GoalTopics && !goals.Any(g => data.Catalog.ParentOf(g) == topic || data.Catalog.ParentOf(topic) == g))
                    goals.Add(topic);
            }
            if (goals.Count == options.GoalTopics && byUser[userId].Count >= 5)
            {
                var starts = goals.Select(_ => SimulatedLearner.StartSkill(rng, options)).ToList();
                learners.Add(new Learner(userId, goals, starts, SimulatedLearner.LearningRate(rng, options), byUser[userId]));
            }
            if (learners.Count == options.Learners)
            {
                break;
            }
        }
        return learners;
    }

    /// <summary>Name of the hidden-knowledge chooser's result (see <see cref="LearnerRun.BestPossible"/>).</summary>
    public const string BestPossible = "best_possible";

    /// <summary>Name of the chooser that knows the hidden skill but items only by level (see <see cref="LearnerRun.BestByLevel"/>).</summary>
    public const string BestByLevel = "best_by_level";

    /// <summary>
    /// The unread item of a goal topic not yet mastered that teaches this learner most now, by hidden skill and the
    /// item's hidden difficulty, or with <paramref name="byLevel"/> its level's difficulty.
    /// </summary>
    private static long? BestItem(Catalog catalog, Learner learner, List<Interaction> history, double[] skills, LearnerSimulationOptions options, bool byLevel)
    {
        var read = history.Select(h => h.ItemId).ToHashSet();
        var candidates = Enumerable.Range(0, skills.Length).Where(k => skills[k] < EloLearningModel.MasteryRating)
            .SelectMany(k => catalog.ItemsInTopic(learner.Topics[k]).Where(id => !read.Contains(id)).Select(id => (Id: id, Skill: skills[k])))
            .ToList();
        return candidates.Count == 0 ? null
            : candidates.MinBy(c => Math.Abs((byLevel ? SimulatedLearner.LevelDifficulty(catalog[c.Id], options) : SimulatedLearner.HiddenDifficulty(catalog[c.Id], options)) - c.Skill - options.Stretch)).Id;
    }

    /// <summary>Learners served by <paramref name="objectiveId"/>, or by the hidden-knowledge chooser named <see cref="BestPossible"/> or <see cref="BestByLevel"/>.</summary>
    private static LearnerResult Simulate(EvaluationData data, IRelevanceModel model, ObjectiveRegistry registry, string objectiveId,
        List<Learner> learners, LearnerSimulationOptions options)
    {
        // Difficulty estimates are shared by all learners of this objective, as they would be in the service.
        var estimated = new Dictionary<long, ItemDifficulty>();
        var replay = new SkillReplay(SkillModel.Default, data.Catalog.Items.ToDictionary(i => i.Id));
        var catalog = new Catalog(data.Catalog.Items, data.Catalog.Items.ToDictionary(i => i.Id, i => data.Catalog.Popularity(i.Id)), estimated, skill: replay.Model);
        var pipeline = new RecommendationPipeline(model, catalog, registry);
        var chooser = objectiveId is BestPossible or BestByLevel;
        var objective = chooser ? null : registry[objectiveId];
        var rng = new Random(options.Seed);
        var counts = new List<int>();
        var mastered = 0;
        foreach (var learner in learners)
        {
            var parameters = objective is not null && objective.Schema.TryGet(CommonParameters.Topics, out _)
                ? ObjectiveParameters.Empty.With(CommonParameters.Topics, learner.Topics)
                : ObjectiveParameters.Empty;
            var goalSkills = learner.StartSkills.ToArray();
            var skills = replay.Learner(learner.UserId);
            var history = new List<Interaction>(learner.History);
            var consumed = 0;
            while (consumed < options.MaxItems && goalSkills.Any(g => g < EloLearningModel.MasteryRating))
            {
                var chosen = chooser
                    ? BestItem(catalog, learner, history, goalSkills, options, objectiveId == BestByLevel)
                    : pipeline.Recommend(new RecommendationRequest(new UserState(learner.UserId, history, skills), objectiveId, parameters, 10, options.Seed, DateTimeOffset.UnixEpoch))
                        .Items.Select(i => (long?)i.ItemId).FirstOrDefault();
                if (chosen is not { } chosenId)
                {
                    consumed = options.MaxItems;
                    break;
                }
                var item = catalog[chosenId];
                consumed++;
                var difficulty = SimulatedLearner.HiddenDifficulty(item, options);
                // On goal topics the learner answers at their weakest of those the item is on, and gains in each; off
                // them they stand where they started (their first goal topic's start, a per-topic offset of their own).
                var on = Enumerable.Range(0, goalSkills.Length).Where(k => item.Topics.Contains(learner.Topics[k])).ToList();
                var success = EloLearningModel.PredictSuccess(on.Count > 0 ? on.Min(k => goalSkills[k]) : learner.StartSkills[0], difficulty);
                foreach (var k in on)
                    goalSkills[k] += SimulatedLearner.Gain(goalSkills[k], difficulty, learner.Rate, options);
                var kind = SimulatedLearner.Answer(success, rng);
                replay.Apply(learner.UserId, item.Id, kind);
                estimated[item.Id] = replay.Difficulty(item.Id);
                history.Add(new Interaction(learner.UserId, item.Id, kind, null, DateTimeOffset.UnixEpoch));
            }
            if (goalSkills.All(g => g >= EloLearningModel.MasteryRating))
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
