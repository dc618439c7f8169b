namespace Recommender.Core.Tests;

public sealed class SkillModelTests
{
    private static readonly ItemInfo Algebra = new(1, "Equations", "", ["algebra"], 3, null, null, null, null);

    private static Dictionary<string, TopicSkill> Learner(params TopicSkill[] skills) =>
        skills.ToDictionary(s => s.Topic, StringComparer.Ordinal);

    [Fact]
    public void Observe_rightAnswer_movesOtherPractisedTopicsByAShareOfTheStep()
    {
        var model = SkillModel.Default;
        var current = Learner(new TopicSkill("algebra", 1000, 5), new TopicSkill("geometry", 1000, 5));

        var step = model.Observe(current, Algebra, model.Unseen(Algebra), EventKind.QuizCorrect);

        var algebra = step.Skills.Single(s => s.Topic == "algebra");
        var geometry = step.Skills.Single(s => s.Topic == "geometry");
        Assert.Equal(6, algebra.Evidence);
        Assert.Equal(5, geometry.Evidence);
        Assert.True(geometry.Rating > 1000, $"geometry {geometry.Rating}");
        Assert.True(geometry.Rating - 1000 < algebra.Rating - 1000, $"geometry {geometry.Rating}, algebra {algebra.Rating}");
    }

    [Fact]
    public void Observe_wrongAnswer_lowersOtherPractisedTopics()
    {
        var model = SkillModel.Default;
        var current = Learner(new TopicSkill("algebra", 1000, 5), new TopicSkill("geometry", 1000, 5));

        var step = model.Observe(current, Algebra, model.Unseen(Algebra), EventKind.QuizWrong);

        Assert.True(step.Skills.Single(s => s.Topic == "geometry").Rating < 1000);
    }

    [Fact]
    public void Observe_practice_addsLessSkillToAnExperiencedLearner()
    {
        var model = SkillModel.Default;
        // Outcome 0.75 at a predicted 0.75: no surprise, so only practice moves the skill.
        var complete = EventKind.Complete;
        var difficulty = new ItemDifficulty(1000 - SkillModel.Scale * Math.Log(3), 1000);
        double Gain(int evidence) =>
            model.Observe(Learner(new TopicSkill("algebra", 1000, evidence)), Algebra, difficulty, complete).Skills.Single().Rating - 1000;

        Assert.True(Gain(0) > 0);
        Assert.True(Gain(100) > 0);
        Assert.True(Gain(100) < Gain(0) / 2, $"after 100 answers {Gain(100)}, at first {Gain(0)}");
    }
}
