using Recommender.Core.Ranking;

namespace Recommender.Core.Evaluation;

/// <summary>
/// The hidden side of a simulated learner, which the objectives never see: starting skill and learning rate, each
/// item's true difficulty, how much an item teaches and how the learner answers it. One model for the learner
/// simulation (<see cref="LearnerSimulator"/>) and for the demo's simulated readers, so both learn the same way.
/// Skills and difficulties are on the Elo scale of <see cref="EloLearningModel"/>.
/// </summary>
public static class SimulatedLearner
{
    /// <summary>A starting skill: <see cref="LearnerSimulationOptions.StartSkill"/> plus a personal level and a topic offset, each half the spread's variance.</summary>
    public static double StartSkill(Random rng, LearnerSimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.StartSkill + options.StartSpread * Math.Sqrt(0.5) * (Gaussian(rng) + Gaussian(rng));
    }

    /// <summary>A learner's own rate: <see cref="LearnerSimulationOptions.Growth"/> × e^(N(0, <see cref="LearnerSimulationOptions.RateSpread"/>)).</summary>
    public static double LearningRate(Random rng, LearnerSimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Growth * Math.Exp(options.RateSpread * Gaussian(rng));
    }

    /// <summary>A standard normal draw.</summary>
    public static double Gaussian(Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        return Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
    }

    /// <summary>The true difficulty: the level's, with per-item noise (about ±2 × <see cref="LearnerSimulationOptions.ItemNoise"/>) the objectives cannot see.</summary>
    public static double HiddenDifficulty(ItemInfo item, LearnerSimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(options);
        var hash = RankingMath.TieBreak(options.Seed, item.Id);
        var noise = ((hash >> 8) % 1001 / 1000.0 - 0.5) * 4 * options.ItemNoise;
        return LevelDifficulty(item, options) + noise;
    }

    /// <summary>The true difficulty's level part (a hashed level when the item has none).</summary>
    public static double LevelDifficulty(ItemInfo item, LearnerSimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(options);
        return EloLearningModel.DifficultyFromLevel(item.Level ?? (int)(RankingMath.TieBreak(options.Seed, item.Id) % 5) + 1);
    }

    /// <summary>
    /// Hidden skill one item on the learner's topic adds: their rate times how well its difficulty matches their level
    /// (one they cope with <see cref="LearnerSimulationOptions.BestSuccess"/> of the time teaches most; far above or below, almost nothing).
    /// </summary>
    public static double Gain(double skill, double difficulty, double rate, LearnerSimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return rate * Math.Exp(-Math.Pow((difficulty - skill - options.Stretch) / options.Reach, 2));
    }

    /// <summary>
    /// What the learner says about an item they would get right with probability <paramref name="success"/>: too easy
    /// above 0.9, too hard below 0.2, otherwise a quiz answer, right with that probability.
    /// </summary>
    public static EventKind Answer(double success, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        return success > 0.9 ? EventKind.TooEasy
            : success < 0.2 ? EventKind.TooHard
            : rng.NextDouble() < success ? EventKind.QuizCorrect : EventKind.QuizWrong;
    }
}
