namespace Recommender.Core;

/// <summary>
/// Population values the skill model starts from, fitted from stored answers by <see cref="SkillFit"/>. Skills and
/// difficulties are on the Elo scale of <see cref="EloLearningModel"/> (400 points is a factor of 10 in the odds),
/// anchored so that the average item sits at <see cref="EloLearningModel.UnknownDifficulty"/>.
/// </summary>
public sealed record SkillPriors
{
    public static SkillPriors Default { get; } = new();

    /// <summary>Starting skill in a topic with no fitted start of its own. Default <see cref="EloLearningModel.InitialSkill"/>.</summary>
    public double StartSkill { get; init; } = EloLearningModel.InitialSkill;

    /// <summary>Fitted starting skill per topic (a new learner's skill before their first answer there).</summary>
    public IReadOnlyDictionary<string, double> TopicStart { get; init; } = new Dictionary<string, double>(StringComparer.Ordinal);

    /// <summary>Difficulty of an item without evidence: index 1..5 by level, index 0 for items without a level.</summary>
    public IReadOnlyList<double> LevelDifficulty { get; init; } =
        [EloLearningModel.UnknownDifficulty, .. Enumerable.Range(1, 5).Select(l => EloLearningModel.DifficultyFromLevel(l))];

    /// <summary>
    /// How far (variance, logits²) an item's difficulty may sit from its level's: index 1..5 by level, 0 without a
    /// level. Fitted per level, since levels cut from a bell curve are narrow in the middle and wide at the ends; it
    /// sets how fast a new item's difficulty moves. Default 0.15 with a level, 1.2 without.
    /// </summary>
    public IReadOnlyList<double> LevelVariance { get; init; } = [1.2, 0.15, 0.15, 0.15, 0.15, 0.15];

    /// <summary>Chance of a right answer however hard the item (guessing, as with multiple choice), 0..0.45. Default 0.</summary>
    public double Guess { get; init; }

    /// <summary>
    /// Skill (logits) a right answer adds by practice alone, at first; it fades as 1/√(1 + n/10) after n answers in the
    /// topic (the power law of practice). Fitted, as in performance factors analysis. Default 0.05.
    /// </summary>
    public double PracticeRight { get; init; } = 0.05;

    /// <summary>Skill (logits) a wrong answer adds by practice alone, at first, fading like <see cref="PracticeRight"/>. Default 0.05.</summary>
    public double PracticeWrong { get; init; } = 0.05;

    /// <summary>Evidence events the values were fitted from; 0 for the defaults.</summary>
    public long Answers { get; init; }

    public double Start(string topic) => TopicStart.TryGetValue(topic, out var s) ? s : StartSkill;

    public double Difficulty(int? level) => LevelDifficulty[level is { } l ? Math.Clamp(l, 1, 5) : 0];

    public double Variance(int? level) => LevelVariance[level is { } l ? Math.Clamp(l, 1, 5) : 0];
}

/// <summary>An item's estimated difficulty (Elo scale) and how many evidence events it rests on.</summary>
public readonly record struct ItemDifficulty(double Rating, int Evidence);

/// <summary>What one evidence event changed, and what the model predicted before it.</summary>
/// <param name="Skills">The learner's updated skill in each topic of the item, then in their other practised topics.</param>
/// <param name="Difficulty">The item's updated difficulty.</param>
/// <param name="Predicted">Predicted success before the event (calibrated).</param>
/// <param name="Outcome">What the event said, 0..1.</param>
public sealed record SkillStep(IReadOnlyList<TopicSkill> Skills, ItemDifficulty Difficulty, double Predicted, double Outcome)
{
    public static SkillStep None(ItemDifficulty difficulty) => new([], difficulty, double.NaN, double.NaN);
}

/// <summary>
/// The one skill model every answer goes through: live ingest, import, <c>skill rebuild</c>, the outcome check, the
/// learner simulation and <c>evaluate skill</c>. A logistic (Rasch-style) model per topic: success is
/// <c>guess + (1 − guess)·σ(skill − difficulty)</c>. Each event moves the learner's skill in every topic of the item and
/// the item's difficulty by a Kalman-style step that shrinks as evidence accumulates (a new learner or item moves fast,
/// an established one slowly); learner steps keep a floor because learners keep learning, and practice adds a little
/// skill that fades with experience. A skill in a topic is a general ability plus a part of its own, each with its own
/// step: the topic's part shrinks with the answers in that topic, the general part with all of the learner's answers,
/// and the general part also moves every other topic the learner practised. The general ability is kept with the
/// topics, under <see cref="GeneralAbility"/>, as an offset from the population with the learner's answer count, and a
/// learner starts a new topic at its fitted starting skill plus that offset. A prediction allows for what is still unknown of
/// the learner's skill and the item's difficulty (both known from how many answers they rest on), so it sits nearer the
/// middle for a newcomer or a fresh item. Pure: the caller keeps the state.
/// </summary>
public sealed class SkillModel(SkillPriors priors)
{
    /// <summary>Elo points per logit.</summary>
    public const double Scale = 400 / 2.302585092994046;

    // Prior variance (logits²) of a learner's general ability, shared by all their topics, and of the part of a skill
    // that is the topic's own; information one answer carries; the per-answer step learners keep because they keep
    // learning. Learners differ more in general than topic by topic (general 0.3 and own 0.15 measured best on
    // gen-answers data among 0.25/0.2, 0.3/0.15, 0.35/0.12, 0.4/0.1, within 0.001 AUC of each other).
    private const double GeneralVariance = 0.3;
    private const double TopicVariance = 0.15;
    private const double AnswerInformation = 0.2;
    private const double LearningDrift = 0.1;

    // Answers in a topic after which practice teaches 1/√2 of what it did at first (the power law of practice: early
    // answers teach most).
    internal const double PracticeFade = 10;

    /// <summary>
    /// The key under which a learner's general ability is kept beside their topics (no topic has an empty name): its
    /// rating is how far (Elo points) the learner's answers have moved them from the population in every topic, its
    /// evidence how many answers they have given. It is stored apart from the topics (<c>learner_ability</c>).
    /// </summary>
    public const string GeneralAbility = "";

    public static SkillModel Default { get; } = new(SkillPriors.Default);

    public SkillPriors Priors { get; } = priors ?? throw new ArgumentNullException(nameof(priors));

    /// <summary>Difficulty of an item no one has answered yet.</summary>
    public ItemDifficulty Unseen(ItemInfo item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return new ItemDifficulty(Priors.Difficulty(item.Level), 0);
    }

    /// <summary>
    /// A learner's skill in <paramref name="topic"/>: the stored one, else the topic's start plus how far the learner's
    /// general ability stands from the population's.
    /// </summary>
    public double Skill(IReadOnlyDictionary<string, TopicSkill> current, string topic)
    {
        ArgumentNullException.ThrowIfNull(current);
        if (current.TryGetValue(topic, out var known))
            return known.Rating;
        return Priors.Start(topic) + (current.TryGetValue(GeneralAbility, out var general) ? general.Rating : 0);
    }

    /// <summary>The learner's topics, without their general ability.</summary>
    public static IEnumerable<TopicSkill> Topics(IReadOnlyDictionary<string, TopicSkill> current)
    {
        ArgumentNullException.ThrowIfNull(current);
        return current.Values.Where(s => s.Topic != GeneralAbility);
    }

    /// <summary>Predicted success of the learner on the item: their mean skill over its topics against its difficulty.</summary>
    public double PredictSuccess(IReadOnlyDictionary<string, TopicSkill> current, ItemInfo item, ItemDifficulty difficulty)
    {
        ArgumentNullException.ThrowIfNull(item);
        return PredictSuccess(current, item.Topics, item.Level, difficulty);
    }

    /// <summary>
    /// Predicted success of the learner on an item of <paramref name="level"/>: their mean skill over
    /// <paramref name="topics"/> against its difficulty, averaged over what is still unknown of both (a learner new to
    /// the topics or an item few have answered gives a prediction nearer the middle).
    /// </summary>
    public double PredictSuccess(IReadOnlyDictionary<string, TopicSkill> current, IReadOnlyCollection<string> topics, int? level, ItemDifficulty difficulty)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(topics);
        if (topics.Count == 0)
            return Predict(Priors.StartSkill, GeneralVariance + TopicVariance, level, difficulty);
        var answers = Answers(current);
        return Predict(topics.Average(t => Skill(current, t)), topics.Average(t => LearnerUncertainty(answers, current.TryGetValue(t, out var s) ? s.Evidence : 0)), level, difficulty);
    }

    /// <summary>Success for a skill still uncertain by <paramref name="learnerVariance"/> (logits²) against an item of <paramref name="level"/>.</summary>
    private double Predict(double skill, double learnerVariance, int? level, ItemDifficulty difficulty) =>
        PredictSuccess(skill, difficulty.Rating, learnerVariance + Posterior(Priors.Variance(level), difficulty.Evidence));

    /// <summary>What is still unknown (logits²) of the skill of a learner with <paramref name="answers"/> answers in a topic with <paramref name="evidence"/> of them: their general ability's part and the topic's own.</summary>
    private static double LearnerUncertainty(int answers, int evidence) =>
        Posterior(GeneralVariance, answers) + Posterior(TopicVariance, evidence);

    /// <summary>How many answers the learner has given: their general ability's count (state from before it was kept: their topics' counts).</summary>
    private static int Answers(IReadOnlyDictionary<string, TopicSkill> current) =>
        current.TryGetValue(GeneralAbility, out var general) ? general.Evidence : current.Values.Sum(s => s.Evidence);

    /// <summary>
    /// Probability of success for a skill against a difficulty (Elo scale) when skill − difficulty is still uncertain
    /// by <paramref name="variance"/> (logits²): the logistic curve averaged over that uncertainty (the probit
    /// approximation), under the guessing floor.
    /// </summary>
    public double PredictSuccess(double skill, double difficulty, double variance) =>
        Priors.Guess + (1 - Priors.Guess) * Sigmoid((skill - difficulty) / Scale / Math.Sqrt(1 + Math.PI * variance / 8));

    /// <summary>
    /// One evidence event: returns the learner's new skill in every topic of the item and in every other topic they
    /// have practised (which moves by a share of the step), and the item's new difficulty. Events that are not
    /// evidence, and items without topics, change nothing.
    /// </summary>
    public SkillStep Observe(IReadOnlyDictionary<string, TopicSkill> current, ItemInfo item, ItemDifficulty difficulty, EventKind kind)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(item);
        if (item.Topics.Count == 0 || EloLearningModel.Outcome(kind) is not { } outcome)
            return SkillStep.None(difficulty);
        var before = item.Topics.Select(t => (Topic: t, Rating: Skill(current, t), Evidence: current.TryGetValue(t, out var s) ? s.Evidence : 0)).ToList();
        var skill = before.Average(b => b.Rating);
        var z = (skill - difficulty.Rating) / Scale;
        var answers = Answers(current);
        var p = Predict(skill, before.Average(b => LearnerUncertainty(answers, b.Evidence)), item.Level, difficulty);
        // "Too easy" also says the item sat well below the learner, so it counts twice.
        var weight = kind == EventKind.TooEasy ? 2.0 : 1.0;
        var gradient = weight * Gradient(z, outcome);
        var itemStep = Gain(Priors.Variance(item.Level), difficulty.Evidence);
        // The general ability's step, known from all the learner's answers, moves every practised topic; the item's
        // own topics also take their own part's step and the drift.
        var general = Gain(GeneralVariance, answers) * gradient;
        var skills = before.Select(b => new TopicSkill(b.Topic,
            b.Rating + Scale * (general + (Gain(TopicVariance, b.Evidence) + LearningDrift) * gradient + Practice(outcome, b.Evidence)),
            b.Evidence + 1)).ToList();
        // The other practised topics move by the general step and keep their evidence count; so does the general ability, which counts the answer.
        var shared = Scale * general;
        skills.AddRange(Topics(current).Where(o => !item.Topics.Contains(o.Topic)).Select(o => o with { Rating = o.Rating + shared }));
        skills.Add(new TopicSkill(GeneralAbility, (current.TryGetValue(GeneralAbility, out var ability) ? ability.Rating : 0) + shared, answers + 1));
        return new SkillStep(skills, new ItemDifficulty(difficulty.Rating - Scale * itemStep * gradient, difficulty.Evidence + 1), p, outcome);
    }

    /// <summary>Skill (logits) an answer with this outcome adds by practice alone, after <paramref name="evidence"/> earlier answers in the topic.</summary>
    internal double Practice(double outcome, int evidence) =>
        (outcome * Priors.PracticeRight + (1 - outcome) * Priors.PracticeWrong) * Fade(evidence);

    internal static double Fade(int evidence) => 1 / Math.Sqrt(1 + evidence / PracticeFade);

    /// <summary>d log-likelihood / d(skill − difficulty) in logits, for the model with a guessing floor.</summary>
    internal double Gradient(double z, double outcome)
    {
        var s = Sigmoid(z);
        var p = Math.Clamp(Priors.Guess + (1 - Priors.Guess) * s, 1e-9, 1 - 1e-9);
        return (outcome - p) / (p * (1 - p)) * (1 - Priors.Guess) * s * (1 - s);
    }

    /// <summary>Posterior variance after <paramref name="evidence"/> answers, from a prior variance: the step for the next one.</summary>
    private static double Gain(double priorVariance, int evidence) => Posterior(priorVariance, evidence + 1);

    /// <summary>Variance (logits²) left of a prior variance after <paramref name="evidence"/> answers.</summary>
    private static double Posterior(double priorVariance, int evidence) => 1 / (1 / priorVariance + evidence * AnswerInformation);

    internal static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}

/// <summary>One stored evidence event, in the order every replay applies them.</summary>
public readonly record struct EvidenceEvent(long UserId, long ItemId, EventKind Kind, DateTimeOffset OccurredAt, string Key)
{
    /// <summary>The one order events are applied in: time, then user, then key, so every path replays alike.</summary>
    public static IComparer<EvidenceEvent> Order { get; } = Comparer<EvidenceEvent>.Create((a, b) =>
    {
        var c = a.OccurredAt.CompareTo(b.OccurredAt);
        if (c == 0)
            c = a.UserId.CompareTo(b.UserId);
        return c != 0 ? c : string.CompareOrdinal(a.Key, b.Key);
    });
}

/// <summary>
/// Learner and item state kept in memory while events are applied one by one through a <see cref="SkillModel"/>:
/// the rebuild, the fit, the outcome check and the evaluation all replay through here.
/// </summary>
public sealed class SkillReplay(SkillModel model, IReadOnlyDictionary<long, ItemInfo> items)
{
    public SkillModel Model { get; } = model;

    public Dictionary<long, Dictionary<string, TopicSkill>> Learners { get; } = [];

    public Dictionary<long, ItemDifficulty> Items { get; } = [];

    public Dictionary<string, TopicSkill> Learner(long userId) =>
        Learners.TryGetValue(userId, out var skills) ? skills : Learners[userId] = new Dictionary<string, TopicSkill>(StringComparer.Ordinal);

    public ItemDifficulty Difficulty(long itemId) =>
        Items.TryGetValue(itemId, out var d) ? d : items.TryGetValue(itemId, out var item) ? Model.Unseen(item) : new ItemDifficulty(Model.Priors.Difficulty(null), 0);

    /// <summary>Predicted success before the event, without applying it; NaN for an unknown or untagged item.</summary>
    public double Predict(long userId, long itemId) =>
        items.TryGetValue(itemId, out var item) && item.Topics.Count > 0
            ? Model.PredictSuccess(Learners.TryGetValue(userId, out var s) ? s : Empty, item, Difficulty(itemId))
            : double.NaN;

    /// <summary>
    /// Applies one event and returns what it changed (nothing for an unknown item or a non-evidence event). When
    /// <paramref name="calibrated"/>, the item's difficulty already counts this event (a fit measured it), so only the
    /// learner moves.
    /// </summary>
    public SkillStep Apply(long userId, long itemId, EventKind kind, bool calibrated = false)
    {
        if (!items.TryGetValue(itemId, out var item))
            return SkillStep.None(default);
        var current = Learner(userId);
        var step = Model.Observe(current, item, Difficulty(itemId), kind);
        if (step.Skills.Count == 0)
            return step;
        foreach (var s in step.Skills)
            current[s.Topic] = s;
        if (!calibrated)
            Items[itemId] = step.Difficulty;
        return step;
    }

    private static readonly Dictionary<string, TopicSkill> Empty = new(StringComparer.Ordinal);
}

/// <summary>What <see cref="SkillFit.Fit"/> estimated: population priors, and every answered item's difficulty.</summary>
public sealed record SkillFitResult(SkillPriors Priors, IReadOnlyDictionary<long, ItemDifficulty> Items)
{
    /// <summary>
    /// The state after replaying <paramref name="fitted"/>, the events this fit was made from, in order: learners move
    /// answer by answer, while every item keeps its calibrated difficulty, which already rests on all of those answers
    /// (its evidence is their count). Moving items again by the same answers counted them twice, which pulled an item
    /// seen a few times towards its first learners' noise. Events applied afterwards move items as usual.
    /// </summary>
    public SkillReplay Replay(IReadOnlyDictionary<long, ItemInfo> items, IEnumerable<EvidenceEvent> fitted)
    {
        ArgumentNullException.ThrowIfNull(fitted);
        var replay = new SkillReplay(new SkillModel(Priors), items);
        foreach (var (id, d) in Items)
            replay.Items[id] = d;
        foreach (var e in fitted)
            replay.Apply(e.UserId, e.ItemId, e.Kind, calibrated: true);
        return replay;
    }
}

/// <summary>
/// Fits the skill model to stored evidence in two stages. First the items are calibrated as in item response theory:
/// a joint maximum-likelihood fit, with shrinkage, of one skill per learner and topic and one difficulty per item
/// (shrunk towards the mean of its level), at the guessing floor that best predicts held-out answers (see
/// <see cref="FitGuess"/>); learners are measured against items that
/// are already known and items against learners who are, which an answer-by-answer replay cannot do. Then the events
/// are replayed through <see cref="SkillModel"/> against those difficulties a few times, and after each pass every
/// topic's starting skill takes a Newton step on the learners' first answers in it (shrunk towards the overall start
/// where a topic has few learners). The average answered item is pinned at
/// <see cref="EloLearningModel.UnknownDifficulty"/>. Deterministic: the same events give the same fit.
/// </summary>
public static class SkillFit
{
    public const int DefaultPasses = 3;

    private const int Sweeps = 20;

    // Guessing floors tried (multiple choice with k options guesses 1/k), and the held-out answers needed to choose.
    private static readonly double[] GuessCandidates = [0, 0.1, 0.2, 0.3];
    private const int MinimumForGuess = 500;

    // Information (in answers' worth) a topic's own first answers must reach before its start counts half.
    private const double TopicShrinkage = 4;

    private const double LevelShrinkage = 3;

    // Prior variances (logits²) of a learner's skill in a topic around its mean, and of an item around its level's mean.
    private const double SkillSpread = 1.0;
    private const double LevelledSpread = 0.3;
    private const double UnlevelledSpread = 1.5;
    private const double MinimumSpread = 0.01;

    // Prior variance (logits²) of the practice gains around their defaults, and their ceiling.
    private const double PracticeSpread = 0.01;
    private const double MaximumPractice = 0.5;

    public static SkillFitResult Fit(IReadOnlyList<EvidenceEvent> events, IReadOnlyDictionary<long, ItemInfo> items, int passes = DefaultPasses)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(items);
        var fit = Calibrate(events, items, FitGuess(events, items, passes));
        for (var pass = 0; pass < passes; pass++)
            fit = Step(fit, events, items);
        return fit;
    }

    /// <summary>
    /// The guessing floor that best predicts each learner's later answers from their earlier ones: the joint fit alone
    /// cannot find it, because without a floor it explains weak learners' lucky answers by squeezing the difficulties
    /// together, a local optimum it does not leave. So each candidate is fitted on the first 80% of every learner's
    /// evidence and scored (log-likelihood) on the rest, as <c>evaluate skill</c> scores the model.
    /// </summary>
    private static double FitGuess(IReadOnlyList<EvidenceEvent> events, IReadOnlyDictionary<long, ItemInfo> items, int passes)
    {
        var early = new List<EvidenceEvent>();
        var late = new List<EvidenceEvent>();
        foreach (var learner in events.GroupBy(e => e.UserId))
        {
            var ordered = learner.Order(EvidenceEvent.Order).ToList();
            var cut = ordered.Count - ordered.Count / 5;
            early.AddRange(ordered.Take(cut));
            late.AddRange(ordered.Skip(cut));
        }
        if (late.Count < MinimumForGuess)
            return 0;
        early.Sort(EvidenceEvent.Order);
        late.Sort(EvidenceEvent.Order);
        double best = 0, bestLikelihood = double.NegativeInfinity;
        foreach (var guess in GuessCandidates)
        {
            var fit = Calibrate(early, items, guess);
            for (var pass = 0; pass < passes; pass++)
                fit = Step(fit, early, items);
            var replay = fit.Replay(items, early);
            var likelihood = 0.0;
            foreach (var e in late)
            {
                var step = replay.Apply(e.UserId, e.ItemId, e.Kind);
                if (!double.IsNaN(step.Predicted))
                    likelihood += step.Outcome * Math.Log(Math.Max(step.Predicted, 1e-6)) + (1 - step.Outcome) * Math.Log(Math.Max(1 - step.Predicted, 1e-6));
            }
            if (likelihood > bestLikelihood)
                (best, bestLikelihood) = (guess, likelihood);
        }
        return best;
    }

    private static int LevelIndex(ItemInfo item) => item.Level is { } l ? Math.Clamp(l, 1, 5) : 0;

    /// <summary>Joint maximum likelihood with normal priors at a given guessing floor: alternating Newton steps on skills and difficulties.</summary>
    private static SkillFitResult Calibrate(IReadOnlyList<EvidenceEvent> events, IReadOnlyDictionary<long, ItemInfo> items, double guess)
    {
        var pairIndex = new Dictionary<(long, string), int>();
        var itemIndex = new Dictionary<long, int>();
        var itemIds = new List<long>();
        var rows = new List<(int[] Pairs, int Item, double Outcome, double Weight, double Right, double Wrong)>();
        // Per learner and topic so far: answers, and the faded right and wrong answers behind their practice gain.
        var practised = new List<(int Count, double Right, double Wrong)>();
        foreach (var e in events)
        {
            if (!items.TryGetValue(e.ItemId, out var item) || item.Topics.Count == 0 || EloLearningModel.Outcome(e.Kind) is not { } outcome)
                continue;
            if (!itemIndex.TryGetValue(e.ItemId, out var i))
            {
                itemIndex[e.ItemId] = i = itemIds.Count;
                itemIds.Add(e.ItemId);
            }
            var pairs = item.Topics.Select(t =>
            {
                if (pairIndex.TryGetValue((e.UserId, t), out var k))
                    return k;
                practised.Add(default);
                return pairIndex[(e.UserId, t)] = pairIndex.Count;
            }).ToArray();
            rows.Add((pairs, i, outcome, e.Kind == EventKind.TooEasy ? 2.0 : 1.0, pairs.Average(k => practised[k].Right), pairs.Average(k => practised[k].Wrong)));
            foreach (var k in pairs)
            {
                var (n, right, wrong) = practised[k];
                practised[k] = (n + 1, right + outcome * SkillModel.Fade(n), wrong + (1 - outcome) * SkillModel.Fade(n));
            }
        }
        var priors = SkillPriors.Default with { Answers = events.Count };
        if (rows.Count == 0)
            return new SkillFitResult(priors, new Dictionary<long, ItemDifficulty>());

        var level = itemIds.Select(id => LevelIndex(items[id])).ToArray();
        var levelVariance = Enumerable.Range(0, 6).Select(l => l == 0 ? UnlevelledSpread : LevelledSpread).ToArray();
        var spread = level.Select(l => levelVariance[l]).ToArray();
        var levelMean = priors.LevelDifficulty.Select(d => (d - EloLearningModel.UnknownDifficulty) / SkillModel.Scale).ToArray();
        var theta = new double[pairIndex.Count];
        var b = level.Select(l => levelMean[l]).ToArray();
        var count = new int[itemIds.Count];
        foreach (var r in rows)
            count[r.Item]++;
        var g = new double[Math.Max(theta.Length, b.Length)];
        var h = new double[g.Length];
        double practiceRight = priors.PracticeRight, practiceWrong = priors.PracticeWrong;
        double Z((int[] Pairs, int Item, double Outcome, double Weight, double Right, double Wrong) r) =>
            r.Pairs.Average(k => theta[k]) + practiceRight * r.Right + practiceWrong * r.Wrong - b[r.Item];
        for (var sweep = 0; sweep < Sweeps; sweep++)
        {
            var model = new SkillModel(priors with { Guess = guess });
            // Skills: one Newton step each, prior N(mean skill, SkillSpread).
            Array.Clear(g);
            Array.Clear(h);
            foreach (var r in rows)
            {
                var (grad, info) = Derivatives(model, guess, Z(r), r.Outcome);
                foreach (var k in r.Pairs)
                {
                    g[k] += r.Weight * grad / r.Pairs.Length;
                    h[k] += r.Weight * info / r.Pairs.Length;
                }
            }
            var meanSkill = theta.Average();
            for (var k = 0; k < theta.Length; k++)
                theta[k] += (g[k] - (theta[k] - meanSkill) / SkillSpread) / (h[k] + 1 / SkillSpread);

            // Difficulties: one Newton step each, prior N(level mean, spread); then the level means follow their items.
            Array.Clear(g);
            Array.Clear(h);
            double gRight = 0, hRight = 0, gWrong = 0, hWrong = 0;
            foreach (var r in rows)
            {
                var (grad, info) = Derivatives(model, guess, Z(r), r.Outcome);
                g[r.Item] -= r.Weight * grad;
                h[r.Item] += r.Weight * info;
                gRight += r.Weight * grad * r.Right;
                hRight += r.Weight * info * r.Right * r.Right;
                gWrong += r.Weight * grad * r.Wrong;
                hWrong += r.Weight * info * r.Wrong * r.Wrong;
            }
            // Practice gains: Newton steps with a weak prior at the defaults, never negative.
            practiceRight = Math.Clamp(practiceRight + (gRight - (practiceRight - priors.PracticeRight) / PracticeSpread) / (hRight + 1 / PracticeSpread), 0, MaximumPractice);
            practiceWrong = Math.Clamp(practiceWrong + (gWrong - (practiceWrong - priors.PracticeWrong) / PracticeSpread) / (hWrong + 1 / PracticeSpread), 0, MaximumPractice);
            for (var i = 0; i < b.Length; i++)
                b[i] += (g[i] - (b[i] - levelMean[level[i]]) / spread[i]) / (h[i] + 1 / spread[i]);
            // Each level's spread follows its items (an EM step: squared distance from the level's mean plus what is
            // still unknown of each difficulty), shrunk towards the spread it had.
            for (var l = 0; l < levelVariance.Length; l++)
            {
                var members = Enumerable.Range(0, b.Length).Where(i => level[i] == l).ToList();
                var sum = members.Sum(i => Math.Pow(b[i] - levelMean[l], 2) + 1 / (h[i] + 1 / levelVariance[l]));
                levelVariance[l] = Math.Clamp((sum + LevelShrinkage * levelVariance[l]) / (members.Count + LevelShrinkage), MinimumSpread, UnlevelledSpread);
            }
            for (var i = 0; i < b.Length; i++)
                spread[i] = levelVariance[level[i]];
            for (var l = 0; l < levelMean.Length; l++)
            {
                var members = Enumerable.Range(0, b.Length).Where(i => level[i] == l).ToList();
                levelMean[l] = (members.Sum(i => b[i]) + LevelShrinkage * levelMean[l]) / (members.Count + LevelShrinkage);
            }
            // Only skill minus difficulty is identified: pin the average answered item.
            var shift = b.Average();
            for (var i = 0; i < b.Length; i++)
                b[i] -= shift;
            for (var k = 0; k < theta.Length; k++)
                theta[k] -= shift;
            for (var l = 0; l < levelMean.Length; l++)
                levelMean[l] -= shift;
        }
        if (level.All(l => l != 0))
            levelMean[0] = level.Average(l => levelMean[l]);
        var start = EloLearningModel.UnknownDifficulty + SkillModel.Scale * theta.Average();
        var fitted = new Dictionary<long, ItemDifficulty>(itemIds.Count);
        for (var i = 0; i < b.Length; i++)
            fitted[itemIds[i]] = new ItemDifficulty(EloLearningModel.UnknownDifficulty + SkillModel.Scale * b[i], count[i]);
        return new SkillFitResult(priors with
        {
            Guess = guess,
            LevelVariance = levelVariance,
            PracticeRight = practiceRight,
            PracticeWrong = practiceWrong,
            StartSkill = start,
            LevelDifficulty = [.. levelMean.Select(m => EloLearningModel.UnknownDifficulty + SkillModel.Scale * m)],
        }, fitted);
    }

    /// <summary>d log-likelihood / dz and the Fisher information at z (logits), for the model with a guessing floor.</summary>
    private static (double Gradient, double Information) Derivatives(SkillModel model, double guess, double z, double outcome)
    {
        var s = SkillModel.Sigmoid(z);
        var p = Math.Clamp(guess + (1 - guess) * s, 1e-6, 1 - 1e-6);
        return (model.Gradient(z, outcome), Math.Pow((1 - guess) * s * (1 - s), 2) / (p * (1 - p)));
    }

    /// <summary>One replay against the calibrated items: a Newton step for each topic's start and the overall start.</summary>
    private static SkillFitResult Step(SkillFitResult fit, IReadOnlyList<EvidenceEvent> events, IReadOnlyDictionary<long, ItemInfo> items)
    {
        var priors = fit.Priors;
        var replay = fit.Replay(items, []);
        var model = replay.Model;
        var topicGradient = new Dictionary<string, double>(StringComparer.Ordinal);
        var topicInformation = new Dictionary<string, double>(StringComparer.Ordinal);
        double allGradient = 0, allInformation = 0;
        foreach (var e in events)
        {
            if (!items.TryGetValue(e.ItemId, out var item) || item.Topics.Count == 0 || EloLearningModel.Outcome(e.Kind) is not { } outcome)
                continue;
            var current = replay.Learner(e.UserId);
            var difficulty = replay.Difficulty(e.ItemId);
            var skill = item.Topics.Average(t => model.Skill(current, t));
            var (gradient, information) = Derivatives(model, priors.Guess, (skill - difficulty.Rating) / SkillModel.Scale, outcome);
            foreach (var topic in item.Topics.Where(t => !current.ContainsKey(t)))
            {
                topicGradient[topic] = topicGradient.GetValueOrDefault(topic) + gradient / item.Topics.Count;
                topicInformation[topic] = topicInformation.GetValueOrDefault(topic) + information / item.Topics.Count;
                allGradient += gradient / item.Topics.Count;
                allInformation += information / item.Topics.Count;
            }
            replay.Apply(e.UserId, e.ItemId, e.Kind, calibrated: true);
        }

        var start = priors.StartSkill + SkillModel.Scale * allGradient / (allInformation + 1);
        var topicStart = topicGradient.Keys.Order(StringComparer.Ordinal).ToDictionary(t => t, t =>
        {
            var own = priors.Start(t) + SkillModel.Scale * topicGradient[t] / (topicInformation[t] + 1);
            var weight = topicInformation[t] / (topicInformation[t] + TopicShrinkage);
            return weight * own + (1 - weight) * start;
        }, StringComparer.Ordinal);
        return fit with
        {
            Priors = priors with
            {
                StartSkill = start,
                TopicStart = topicStart,
            },
        };
    }
}
