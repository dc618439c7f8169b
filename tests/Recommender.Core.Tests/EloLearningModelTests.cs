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

    [Fact]
    public void Observe_success_raises_every_topic_and_eases_the_item_against_the_mean_skill()
    {
        var item = new ItemInfo(1, "1", "t", ["physics", "history"], 3, null, null, null, null);
        var current = new Dictionary<string, TopicSkill> { ["physics"] = new("physics", 1250, 4) };
        var difficulty = EloLearningModel.DifficultyFromLevel(3);

        var step = _elo.Observe(current, item, difficulty, EventKind.QuizCorrect);

        Assert.Equal(_elo.UpdateTopics(current, item, difficulty, EventKind.QuizCorrect), step.Skills);
        var mean = (1250 + EloLearningModel.InitialSkill) / 2;
        Assert.Equal(_elo.Update(mean, difficulty, EventKind.QuizCorrect).Difficulty, step.Difficulty, 9);
        Assert.True(step.Difficulty < difficulty);
    }

    [Fact]
    public void Observe_item_without_topics_or_a_plain_click_changes_nothing()
    {
        var current = new Dictionary<string, TopicSkill>();
        var untagged = new ItemInfo(1, "1", "t", [], 3, null, null, null, null);
        var tagged = untagged with { Topics = ["physics"] };

        Assert.Empty(_elo.Observe(current, untagged, 1000, EventKind.QuizCorrect).Skills);
        Assert.Equal(1000, _elo.Observe(current, untagged, 1000, EventKind.QuizCorrect).Difficulty);
        Assert.Empty(_elo.Observe(current, tagged, 1000, EventKind.Click).Skills);
        Assert.Equal(1000, _elo.Observe(current, tagged, 1000, EventKind.Click).Difficulty);
    }
}
