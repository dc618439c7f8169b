namespace Recommender.Core.Evaluation;

/// <summary>How well one predictor foresaw the held-out answers.</summary>
/// <param name="Name">The predictor.</param>
/// <param name="Auc">Area under the ROC curve: the chance a right answer was predicted likelier than a wrong one.</param>
/// <param name="LogLoss">Mean negative log-likelihood of the answers (lower is better).</param>
/// <param name="Ece">Expected calibration error over 10 equal-width bins of predicted success.</param>
public sealed record SkillScore(string Name, double Auc, double LogLoss, double Ece);

/// <summary>The result of <see cref="SkillEvaluation.Run"/>.</summary>
/// <param name="Answers">Evidence events used.</param>
/// <param name="HeldOut">Quiz answers predicted (the last 20% of each learner's evidence in time).</param>
/// <param name="CorrectShare">Share of held-out answers that were right.</param>
/// <param name="Model">The model the product uses (the first of <paramref name="Models"/>).</param>
/// <param name="Models">Every skill model compared.</param>
/// <param name="Baselines">Success rates: overall, per learner, per item.</param>
/// <param name="Priors">What the fit estimated on the training answers.</param>
public sealed record SkillEvaluationReport(long Answers, long HeldOut, double CorrectShare, SkillScore Model,
    IReadOnlyList<SkillScore> Models, IReadOnlyList<SkillScore> Baselines, SkillPriors Priors);

/// <summary>
/// Offline check of the skill model on quiz answers: the last 20% of each learner's evidence in time is held out;
/// the model is fitted on the rest, then each held-out answer is predicted from everything before it and only then
/// applied, as the live service would. Quiz answers are scored; other evidence only updates the state.
/// </summary>
public static class SkillEvaluation
{
    public const double HeldOutShare = 0.2;

    public const string Fitted = "fitted_logistic";
    public const string Elo = "elo";

    /// <exception cref="ArgumentException">No quiz answers, or held-out answers all right or all wrong (AUC undefined).</exception>
    public static SkillEvaluationReport Run(IReadOnlyList<EvidenceEvent> events, IReadOnlyDictionary<long, ItemInfo> items)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(items);
        var evidence = events.Where(e => e.Kind.IsLearningEvidence() && items.TryGetValue(e.ItemId, out var i) && i.Topics.Count > 0).ToList();
        if (!evidence.Any(e => IsQuiz(e.Kind)))
            throw new ArgumentException("no quiz answers (quiz_correct or quiz_wrong events on items with topics)");
        var (train, heldOut) = Split(evidence);
        var scored = heldOut.Where(e => IsQuiz(e.Kind)).ToList();
        var positives = scored.Count(e => e.Kind == EventKind.QuizCorrect);
        if (positives == 0 || positives == scored.Count)
            throw new ArgumentException($"the {scored.Count} held-out quiz answers are all {(positives == 0 ? "wrong" : "right")}; need both to measure");

        var fit = SkillFit.Fit(train, items);
        var fitted = Score(Fitted, heldOut, fit.Replay(items, train));
        var elo = ScoreElo(train, heldOut, items);
        var baselines = Baselines(train, heldOut);
        return new SkillEvaluationReport(evidence.Count, scored.Count, (double)positives / scored.Count, fitted, [fitted, elo], baselines, fit.Priors);
    }

    private static bool IsQuiz(EventKind kind) => kind is EventKind.QuizCorrect or EventKind.QuizWrong;

    /// <summary>Per learner, the last ⌊n/5⌋ evidence events in time are held out; both parts come back in replay order.</summary>
    private static (List<EvidenceEvent> Train, List<EvidenceEvent> HeldOut) Split(List<EvidenceEvent> evidence)
    {
        var train = new List<EvidenceEvent>();
        var heldOut = new List<EvidenceEvent>();
        foreach (var learner in evidence.GroupBy(e => e.UserId))
        {
            var ordered = learner.Order(EvidenceEvent.Order).ToList();
            var cut = ordered.Count - (int)(ordered.Count * HeldOutShare);
            train.AddRange(ordered.Take(cut));
            heldOut.AddRange(ordered.Skip(cut));
        }
        train.Sort(EvidenceEvent.Order);
        heldOut.Sort(EvidenceEvent.Order);
        return (train, heldOut);
    }

    private static SkillScore Score(string name, List<EvidenceEvent> heldOut, SkillReplay replay)
    {
        var predictions = new List<(double P, bool Y)>();
        foreach (var e in heldOut)
        {
            if (IsQuiz(e.Kind))
                predictions.Add((replay.Predict(e.UserId, e.ItemId), e.Kind == EventKind.QuizCorrect));
            replay.Apply(e.UserId, e.ItemId, e.Kind);
        }
        return Measure(name, predictions);
    }

    /// <summary>The previous model: a fixed-step Elo update from fixed starting values, no fit.</summary>
    private static SkillScore ScoreElo(List<EvidenceEvent> train, List<EvidenceEvent> heldOut, IReadOnlyDictionary<long, ItemInfo> items)
    {
        var elo = EloLearningModel.Default;
        var skills = new Dictionary<long, Dictionary<string, TopicSkill>>();
        var difficulty = new Dictionary<long, double>();
        var predictions = new List<(double P, bool Y)>();
        foreach (var (e, scoreIt) in train.Select(e => (e, false)).Concat(heldOut.Select(e => (e, true))))
        {
            var item = items[e.ItemId];
            var current = skills.TryGetValue(e.UserId, out var s) ? s : skills[e.UserId] = new Dictionary<string, TopicSkill>(StringComparer.Ordinal);
            var d = difficulty.TryGetValue(e.ItemId, out var known) ? known : EloLearningModel.DifficultyFromLevel(item.Level);
            if (scoreIt && IsQuiz(e.Kind))
            {
                var skill = item.Topics.Average(t => current.TryGetValue(t, out var ts) ? ts.Rating : EloLearningModel.InitialSkill);
                predictions.Add((EloLearningModel.PredictSuccess(skill, d), e.Kind == EventKind.QuizCorrect));
            }
            var step = elo.Observe(current, item, d, e.Kind);
            foreach (var updated in step.Skills)
                current[updated.Topic] = updated;
            difficulty[e.ItemId] = step.Difficulty;
        }
        return Measure(Elo, predictions);
    }

    /// <summary>Success rates with two answers' worth of shrinkage towards the overall rate, updated as answers arrive.</summary>
    private static List<SkillScore> Baselines(List<EvidenceEvent> train, List<EvidenceEvent> heldOut)
    {
        var quizTrain = train.Where(e => IsQuiz(e.Kind)).ToList();
        var global = quizTrain.Count == 0 ? 0.5 : quizTrain.Count(e => e.Kind == EventKind.QuizCorrect) / (double)quizTrain.Count;
        var byUser = new Dictionary<long, (double Right, double All)>();
        var byItem = new Dictionary<long, (double Right, double All)>();
        void Add(EvidenceEvent e)
        {
            var right = e.Kind == EventKind.QuizCorrect ? 1 : 0;
            var u = byUser.GetValueOrDefault(e.UserId);
            byUser[e.UserId] = (u.Right + right, u.All + 1);
            var i = byItem.GetValueOrDefault(e.ItemId);
            byItem[e.ItemId] = (i.Right + right, i.All + 1);
        }
        double Rate(Dictionary<long, (double Right, double All)> counts, long key) =>
            counts.TryGetValue(key, out var c) ? (c.Right + 2 * global) / (c.All + 2) : global;
        foreach (var e in quizTrain)
            Add(e);
        var globalP = new List<(double, bool)>();
        var userP = new List<(double, bool)>();
        var itemP = new List<(double, bool)>();
        foreach (var e in heldOut.Where(e => IsQuiz(e.Kind)))
        {
            var y = e.Kind == EventKind.QuizCorrect;
            globalP.Add((global, y));
            userP.Add((Rate(byUser, e.UserId), y));
            itemP.Add((Rate(byItem, e.ItemId), y));
            Add(e);
        }
        return [Measure("global_rate", globalP), Measure("user_rate", userP), Measure("item_rate", itemP)];
    }

    /// <summary>AUC (ties count half), log-loss (predictions clipped to 1e-6..1−1e-6) and 10-bin ECE.</summary>
    public static SkillScore Measure(string name, IReadOnlyList<(double P, bool Y)> predictions)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        var n = predictions.Count;
        var sorted = predictions.OrderBy(p => p.P).ToList();
        double rankSum = 0, positives = 0;
        for (var k = 0; k < n;)
        {
            var end = k;
            while (end < n && sorted[end].P == sorted[k].P)
                end++;
            var rank = (k + 1 + end) / 2.0;
            for (var m = k; m < end; m++)
            {
                if (sorted[m].Y)
                {
                    rankSum += rank;
                    positives++;
                }
            }
            k = end;
        }
        var auc = positives == 0 || positives == n ? 0.5 : (rankSum - positives * (positives + 1) / 2) / (positives * (n - positives));
        var logLoss = predictions.Average(p => -Math.Log(p.Y ? Math.Clamp(p.P, 1e-6, 1) : Math.Clamp(1 - p.P, 1e-6, 1)));
        var bins = predictions.GroupBy(p => Math.Min((int)(p.P * 10), 9));
        var ece = bins.Sum(b => b.Count() / (double)n * Math.Abs(b.Average(p => p.P) - b.Average(p => p.Y ? 1.0 : 0.0)));
        return new SkillScore(name, auc, logLoss, ece);
    }
}
