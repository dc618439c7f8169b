namespace Recommender.Core.Tests;

public sealed class EloLearningModelTests
{
    private readonly EloLearningModel _elo = EloLearningModel.Default;

    [Fact]
    public void PredictSuccess_newLearnerOnLevelOne_isAboutSeventyPercent()
    {
        var p = EloLearningModel.PredictSuccess(EloLearningModel.InitialSkill, EloLearningModel.DifficultyFromLevel(1));

        Assert.InRange(p, 0.67, 0.73);
    }

    [Fact]
    public void Update_quizCorrect_raisesSkillAndLowersDifficulty()
    {
        var after = _elo.Update(1000, 1000, EventKind.QuizCorrect);

        Assert.True(after.Skill > 1000);
        Assert.True(after.Difficulty < 1000);
    }

    [Fact]
    public void Update_tooHard_lowersSkill()
    {
        Assert.True(_elo.Update(1000, 1000, EventKind.TooHard).Skill < 1000);
    }

    [Fact]
    public void Update_tooEasy_movesFurtherThanQuizCorrect()
    {
        Assert.True(_elo.Update(1000, 1000, EventKind.TooEasy).Skill > _elo.Update(1000, 1000, EventKind.QuizCorrect).Skill);
    }

    [Fact]
    public void Update_nonEvidenceEvent_changesNothing()
    {
        Assert.Equal(new EloUpdate(1000, 900), _elo.Update(1000, 900, EventKind.Click));
    }

    [Fact]
    public void UpdateTopics_itemWithTwoTopics_updatesBothAndCountsEvidence()
    {
        var item = new ItemInfo(1, "1", "t", ["physics", "history"], 3, null, null, null, null);
        var current = new Dictionary<string, TopicSkill> { ["physics"] = new("physics", 1200, 4) };

        var updated = _elo.UpdateTopics(current, item, EloLearningModel.DifficultyFromLevel(3), EventKind.QuizWrong);

        var physics = updated.Single(s => s.Topic == "physics");
        var history = updated.Single(s => s.Topic == "history");
        Assert.True(physics.Rating < 1200);
        Assert.Equal(5, physics.Evidence);
        Assert.True(history.Rating < EloLearningModel.InitialSkill);
        Assert.Equal(1, history.Evidence);
    }
}
