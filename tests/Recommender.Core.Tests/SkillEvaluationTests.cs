using Recommender.Core.Evaluation;

namespace Recommender.Core.Tests;

public sealed class SkillEvaluationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Run_answersFromAKnownModel_fittedModelBeatsEveryBaselineAndIsCalibrated(int seed)
    {
        var (events, items) = AnswerGenerator.Generate(learners: 300, itemCount: 400, answersPerLearner: 60, seed);

        var report = SkillEvaluation.Run(events, items);

        Assert.Equal(SkillEvaluation.Fitted, report.Model.Name);
        Assert.All(report.Baselines, b =>
        {
            Assert.True(report.Model.Auc > b.Auc + 0.02, $"AUC {report.Model.Auc:F4} against {b.Name} {b.Auc:F4}");
            Assert.True(report.Model.LogLoss < b.LogLoss, $"log-loss {report.Model.LogLoss:F4} against {b.Name} {b.LogLoss:F4}");
        });
        Assert.True(report.Model.Ece < 0.04, $"ECE {report.Model.Ece:F3}");
        var elo = report.Models.Single(m => m.Name == SkillEvaluation.Elo);
        Assert.True(report.Model.LogLoss < elo.LogLoss, $"log-loss {report.Model.LogLoss:F4} against elo {elo.LogLoss:F4}");
    }

    [Fact]
    public void Fit_answersWithAGuessingFloor_findsAFloor()
    {
        var (withFloor, items) = AnswerGenerator.Generate(learners: 300, itemCount: 400, answersPerLearner: 60, seed: 3, guess: 0.25);
        var (withoutFloor, _) = AnswerGenerator.Generate(learners: 300, itemCount: 400, answersPerLearner: 60, seed: 3, guess: 0);

        var floor = SkillFit.Fit(withFloor, items).Priors.Guess;
        var none = SkillFit.Fit(withoutFloor, items).Priors.Guess;

        Assert.InRange(floor, 0.1, 0.3);
        Assert.True(none < floor, $"without a floor {none}, with one {floor}");
    }

    [Fact]
    public void Fit_rightAnswersTeachMoreThanWrongOnes_fitsTheLargerPracticeGainForRightAnswers()
    {
        var (events, items) = AnswerGenerator.Generate(learners: 300, itemCount: 400, answersPerLearner: 60, seed: 4);

        var priors = SkillFit.Fit(events, items).Priors;

        Assert.True(priors.PracticeRight > priors.PracticeWrong, $"right {priors.PracticeRight:F3}, wrong {priors.PracticeWrong:F3}");
        Assert.InRange(priors.PracticeRight, 0.01, 0.3);
    }

    [Fact]
    public void Fit_levelsAreQuintilesOfABellCurve_fitsWiderSpreadsAtTheEndsThanInTheMiddle()
    {
        var (events, items) = AnswerGenerator.Generate(learners: 300, itemCount: 400, answersPerLearner: 60, seed: 5);

        var variance = SkillFit.Fit(events, items).Priors.LevelVariance;

        Assert.True(variance[1] > 2 * variance[3], $"level 1 {variance[1]:F3}, level 3 {variance[3]:F3}");
        Assert.True(variance[5] > 2 * variance[3], $"level 5 {variance[5]:F3}, level 3 {variance[3]:F3}");
    }
}
