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
    public void Skill_inATopicNotYetPractised_startsFromTheGeneralAbilityThatAnswersElsewhereMoved()
    {
        var model = SkillModel.Default;
        Dictionary<string, TopicSkill> AfterAlgebra(EventKind kind)
        {
            var current = Learner();
            for (var i = 0; i < 5; i++)
            {
                foreach (var s in model.Observe(current, Algebra, model.Unseen(Algebra), kind).Skills)
                    current[s.Topic] = s;
            }
            return current;
        }

        var strong = AfterAlgebra(EventKind.QuizCorrect);
        var weak = AfterAlgebra(EventKind.QuizWrong);

        var general = strong[SkillModel.GeneralAbility];
        Assert.Equal(5, general.Evidence);
        Assert.Equal(5, strong["algebra"].Evidence);
        Assert.Equal(["algebra"], SkillModel.Topics(strong).Select(s => s.Topic));
        Assert.True(general.Rating > 0, $"general {general.Rating}");
        Assert.Equal(model.Priors.Start("geometry") + general.Rating, model.Skill(strong, "geometry"), 9);
        Assert.True(model.Skill(weak, "geometry") < model.Priors.Start("geometry"));
        // The topic answered moved further than the general part it shares with every topic.
        Assert.True(strong["algebra"].Rating - model.Priors.Start("algebra") > general.Rating);
    }

    [Fact]
    public void Observe_learnerStoredBeforeTheGeneralAbilityWasKept_countsTheirAnswersFromTheirTopics()
    {
        var model = SkillModel.Default;
        var before = Learner(new TopicSkill("algebra", 1000, 100), new TopicSkill("geometry", 1000, 100));
        var kept = Learner(new TopicSkill("algebra", 1000, 100), new TopicSkill("geometry", 1000, 100), new TopicSkill(SkillModel.GeneralAbility, 0, 200));

        var fromTopics = model.Observe(before, Algebra, model.Unseen(Algebra), EventKind.QuizCorrect).Skills.ToDictionary(s => s.Topic);
        var fromAbility = model.Observe(kept, Algebra, model.Unseen(Algebra), EventKind.QuizCorrect).Skills.ToDictionary(s => s.Topic);

        Assert.Equal(201, fromTopics[SkillModel.GeneralAbility].Evidence);
        Assert.Equal(fromAbility["geometry"].Rating, fromTopics["geometry"].Rating, 9);
        Assert.Equal(fromAbility["algebra"].Rating, fromTopics["algebra"].Rating, 9);
        Assert.True(fromTopics["geometry"].Rating > 1000);
    }

    [Fact]
    public void Observe_generalAbilitySettlesWithAllAnswers_anExperiencedLearnersOtherTopicsMoveByASmallerShareThanANewcomers()
    {
        var model = SkillModel.Default;
        double ShareOfStep(int evidence)
        {
            var current = Learner(new TopicSkill("algebra", 1000, evidence), new TopicSkill("geometry", 1000, evidence));
            var step = model.Observe(current, Algebra, model.Unseen(Algebra), EventKind.QuizCorrect);
            return (step.Skills.Single(s => s.Topic == "geometry").Rating - 1000) / (step.Skills.Single(s => s.Topic == "algebra").Rating - 1000);
        }

        var newcomer = ShareOfStep(1);
        var experienced = ShareOfStep(100);

        Assert.InRange(newcomer, 0.3, 0.9);
        Assert.InRange(experienced, 0.01, newcomer / 2);
    }

    [Fact]
    public void Observe_practice_addsLessSkillToAnExperiencedLearner()
    {
        var model = SkillModel.Default;
        // Outcome 0.75 at a predicted 0.75: no surprise, so only practice moves the skill.
        var complete = EventKind.Complete;
        var difficulty = new ItemDifficulty(1000 - SkillModel.Scale * Math.Log(3), 1000);
        double Gain(int evidence) =>
            model.Observe(Learner(new TopicSkill("algebra", 1000, evidence)), Algebra, difficulty, complete).Skills.Single(s => s.Topic == "algebra").Rating - 1000;

        Assert.True(Gain(0) > 0);
        Assert.True(Gain(100) > 0);
        Assert.True(Gain(100) < Gain(0) / 2, $"after 100 answers {Gain(100)}, at first {Gain(0)}");
    }

    [Fact]
    public void Observe_fittedPracticeGains_aRightAnswerAddsItsGainAndAWrongOneItsOwn()
    {
        var model = new SkillModel(SkillPriors.Default with { PracticeRight = 0.2, PracticeWrong = 0 });
        // An item the learner is sure to get right and one they are sure to get wrong: no surprise, only practice.
        var easy = new ItemDifficulty(1000 - 20 * SkillModel.Scale, 1000);
        var hard = new ItemDifficulty(1000 + 20 * SkillModel.Scale, 1000);

        var right = model.Observe(Learner(new TopicSkill("algebra", 1000, 0)), Algebra, easy, EventKind.QuizCorrect).Skills.Single(s => s.Topic == "algebra").Rating - 1000;
        var wrong = model.Observe(Learner(new TopicSkill("algebra", 1000, 0)), Algebra, hard, EventKind.QuizWrong).Skills.Single(s => s.Topic == "algebra").Rating - 1000;

        Assert.Equal(0.2 * SkillModel.Scale, right, 1);
        Assert.Equal(0, wrong, 1);
    }

    [Fact]
    public void Observe_itemOfAWideLevel_movesFurtherThanOneOfANarrowLevel()
    {
        var model = new SkillModel(SkillPriors.Default with { LevelVariance = [1.2, 0.5, 0.05, 0.05, 0.05, 0.5] });
        var wide = Algebra with { Level = 1 };
        var narrow = Algebra with { Level = 3 };
        var at = new ItemDifficulty(1000, 0);

        var wideMove = model.Observe(Learner(), wide, at, EventKind.QuizWrong).Difficulty.Rating - 1000;
        var narrowMove = model.Observe(Learner(), narrow, at, EventKind.QuizWrong).Difficulty.Rating - 1000;

        Assert.True(narrowMove > 0, $"narrow {narrowMove}");
        Assert.True(wideMove > 3 * narrowMove, $"wide {wideMove}, narrow {narrowMove}");
    }

    [Fact]
    public void PredictSuccess_learnerAndItemStillUnknown_predictsNearerTheMiddleThanWhenBothAreEstablished()
    {
        var model = SkillModel.Default;
        var established = Learner(new TopicSkill("algebra", 1300, 40));
        var newcomer = Learner(new TopicSkill("algebra", 1300, 0));

        var sure = model.PredictSuccess(established, Algebra, new ItemDifficulty(1000, 40));
        var unsure = model.PredictSuccess(newcomer, Algebra, new ItemDifficulty(1000, 0));
        var below = model.PredictSuccess(Learner(new TopicSkill("algebra", 700, 0)), Algebra, new ItemDifficulty(1000, 0));

        // Skill 300 points above the item: likely either way, less so while either is a guess.
        Assert.InRange(unsure, 0.5, sure - 0.01);
        Assert.InRange(sure, 0.5, 1);
        // The same uncertainty pulls a learner below the item up towards the middle.
        Assert.InRange(below, 1 - SkillModel.Sigmoid(300 / SkillModel.Scale) + 0.01, 0.5);
    }

    [Fact]
    public void Replay_ofTheFittedEvents_leavesEachItemAtItsCalibratedDifficultyAndCountsItsAnswersOnce()
    {
        var (events, items) = AnswerGenerator.Generate(learners: 100, itemCount: 60, answersPerLearner: 30, seed: 6);
        var fit = SkillFit.Fit(events, items);

        var replay = fit.Replay(items, events);

        Assert.NotEmpty(fit.Items);
        Assert.All(fit.Items, f => Assert.Equal(f.Value, replay.Items[f.Key]));
        Assert.Equal(events.Count, fit.Items.Values.Sum(d => d.Evidence));
        Assert.Equal(items.Keys.Count(id => events.Any(e => e.ItemId == id)), fit.Items.Count);
        // Answers after the fit move the item as live ones do.
        var (id, before) = fit.Items.First();
        var user = events.First(e => e.ItemId == id).UserId;
        replay.Apply(user, id, EventKind.QuizWrong);
        Assert.True(replay.Items[id].Rating > before.Rating, $"{replay.Items[id].Rating} after a wrong answer, {before.Rating} before");
        Assert.Equal(before.Evidence + 1, replay.Items[id].Evidence);
    }
}
