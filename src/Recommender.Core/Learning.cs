namespace Recommender.Core;

/// <summary>A learner's estimated skill in one topic (Elo scale) and how much evidence supports it.</summary>
public sealed record TopicSkill(string Topic, double Rating, int Evidence);

/// <summary>The result of one Elo update: the learner's new skill and the item's new difficulty.</summary>
public readonly record struct EloUpdate(double Skill, double Difficulty);

/// <summary>What one evidence event changed: the learner's skill in each topic of the item, and the item's difficulty.</summary>
public sealed record EvidenceStep(IReadOnlyList<TopicSkill> Skills, double Difficulty);

/// <summary>
/// Elo-style skill tracking for learners and items, as in adaptive-practice systems: each evidence event is a
/// "match" between learner skill and item difficulty. The learning objective reads it, and the service uses the same
/// class to keep the stored per-(user, topic) skill up to date, so ranking and storage never disagree.
/// </summary>
public sealed class EloLearningModel
{
    /// <summary>Skill of a learner with no evidence: level-1 material sits at about 70% predicted success.</summary>
    public const double InitialSkill = 950;

    /// <summary>Difficulty of a level-1 item; each level adds <see cref="LevelStep"/>.</summary>
    public const double BaseDifficulty = 800;

    public const double LevelStep = 150;

    /// <summary>Difficulty assumed for items with neither a level nor evidence: the middle level.</summary>
    public const double UnknownDifficulty = BaseDifficulty + 2 * LevelStep;

    private const double Scale = 400;

    /// <param name="learnerK">How far one event moves a learner's skill.</param>
    /// <param name="itemK">How far one event moves an item's estimated difficulty (smaller: items see many learners).</param>
    public EloLearningModel(double learnerK = 32, double itemK = 8)
    {
        LearnerK = learnerK;
        ItemK = itemK;
    }

    public static EloLearningModel Default { get; } = new();

    public double LearnerK { get; }

    public double ItemK { get; }

    /// <summary>Skill at which a topic counts as mastered: level-5 material at about 70% predicted success.</summary>
    public static double MasteryRating => BaseDifficulty + 4 * LevelStep + 147;

    /// <summary>Probability the learner copes with the item (logistic on the Elo scale).</summary>
    public static double PredictSuccess(double skill, double difficulty) => 1 / (1 + Math.Pow(10, (difficulty - skill) / Scale));

    /// <summary>Difficulty on the Elo scale from a 1..5 level; <see cref="UnknownDifficulty"/> when absent.</summary>
    public static double DifficultyFromLevel(int? level) =>
        level is { } l ? BaseDifficulty + (Math.Clamp(l, 1, 5) - 1) * LevelStep : UnknownDifficulty;

    /// <summary>
    /// How well an evidence event says the learner did, 0..1; null for events that are not evidence.
    /// "Too easy" and "too hard" are strong statements, so they count fully; a plain completion is mild success.
    /// </summary>
    public static double? Outcome(EventKind kind) => kind switch
    {
        EventKind.Learned or EventKind.QuizCorrect or EventKind.TooEasy => 1,
        EventKind.Complete => 0.75,
        EventKind.TooHard or EventKind.QuizWrong => 0,
        _ => null,
    };

    /// <summary>Moves skill and difficulty towards what the event showed; non-evidence events change nothing.</summary>
    public EloUpdate Update(double skill, double difficulty, EventKind kind)
    {
        if (Outcome(kind) is not { } outcome)
        {
            return new EloUpdate(skill, difficulty);
        }
        var surprise = outcome - PredictSuccess(skill, difficulty);
        // "Too easy" also says the item was below the learner, so the skill should jump further than for a pass.
        var weight = kind == EventKind.TooEasy ? 2.0 : 1.0;
        return new EloUpdate(skill + weight * LearnerK * surprise, difficulty - ItemK * surprise);
    }

    /// <summary>
    /// Applies one evidence event on an item to every topic the item carries and returns the updated skills, ready to
    /// be stored. Topics without a stored skill start from <see cref="InitialSkill"/>.
    /// </summary>
    public IReadOnlyList<TopicSkill> UpdateTopics(IReadOnlyDictionary<string, TopicSkill> current, ItemInfo item, double difficulty, EventKind kind)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(item);
        if (Outcome(kind) is null)
        {
            return [];
        }
        var updated = new List<TopicSkill>(item.Topics.Count);
        foreach (var topic in item.Topics)
        {
            var before = current.TryGetValue(topic, out var s) ? s : new TopicSkill(topic, InitialSkill, 0);
            var after = Update(before.Rating, difficulty, kind);
            updated.Add(new TopicSkill(topic, after.Skill, before.Evidence + 1));
        }
        return updated;
    }

    /// <summary>
    /// One evidence event, start to finish: the learner's skill moves in every topic of the item
    /// (<see cref="UpdateTopics"/>) and the item's difficulty moves against the learner's mean skill over those topics
    /// before the event. Stored learning state and replays of past evidence both go through here, so they agree.
    /// An item without topics changes nothing.
    /// </summary>
    public EvidenceStep Observe(IReadOnlyDictionary<string, TopicSkill> current, ItemInfo item, double difficulty, EventKind kind)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(item);
        if (item.Topics.Count == 0 || Outcome(kind) is null)
        {
            return new EvidenceStep([], difficulty);
        }
        var before = item.Topics.Average(t => current.TryGetValue(t, out var s) ? s.Rating : InitialSkill);
        return new EvidenceStep(UpdateTopics(current, item, difficulty, kind), Update(before, difficulty, kind).Difficulty);
    }
}
