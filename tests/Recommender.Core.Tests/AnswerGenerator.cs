namespace Recommender.Core.Tests;

/// <summary>
/// Quiz answers from a known learning model, for checking that the skill model recovers what generated them: items with
/// one topic and a hidden difficulty (their level is its quintile), learners with a general ability plus an offset per
/// topic and a learning rate of their own, success <c>guess + (1 − guess)·σ(skill − difficulty)</c>, and skill that
/// grows with each answer (more after a right one, less with experience). Deterministic for a seed.
/// </summary>
internal static class AnswerGenerator
{
    public static (List<EvidenceEvent> Events, Dictionary<long, ItemInfo> Items) Generate(
        int learners, int itemCount, int answersPerLearner, int seed, double guess = 0.2, int topics = 4)
    {
        var rng = new Random(seed);
        double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var difficulty = Enumerable.Range(0, itemCount).Select(_ => 1.2 * Gaussian()).ToArray();
        var sorted = difficulty.Order().ToArray();
        var items = new Dictionary<long, ItemInfo>();
        var byTopic = Enumerable.Range(0, topics).Select(_ => new List<long>()).ToArray();
        for (var i = 0; i < itemCount; i++)
        {
            var level = 1 + Enumerable.Range(1, 4).Count(q => difficulty[i] > sorted[itemCount * q / 5]);
            var topic = i % topics;
            items[i + 1] = new ItemInfo(i + 1, $"q{i + 1}", $"Question {i + 1}", [$"topic {topic}"], level, null, null, null, null);
            byTopic[topic].Add(i + 1);
        }
        var events = new List<EvidenceEvent>();
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var u = 1; u <= learners; u++)
        {
            var ability = -0.3 + 0.8 * Gaussian();
            var rate = 0.05 * Math.Exp(0.4 * Gaussian());
            var skill = Enumerable.Range(0, topics).Select(_ => ability + 0.6 * Gaussian()).ToArray();
            var done = new int[topics];
            var when = start.AddMinutes(rng.Next(100_000));
            // Each learner sticks mostly to two topics, as learners do.
            var favourite = rng.Next(topics);
            for (var k = 0; k < answersPerLearner; k++)
            {
                var t = rng.NextDouble() < 0.7 ? favourite : rng.Next(topics);
                var itemId = byTopic[t][rng.Next(byTopic[t].Count)];
                var p = guess + (1 - guess) / (1 + Math.Exp(-(skill[t] - difficulty[itemId - 1])));
                var right = rng.NextDouble() < p;
                events.Add(new EvidenceEvent(u, itemId, right ? EventKind.QuizCorrect : EventKind.QuizWrong, when, $"{u}-{k:D6}"));
                skill[t] += rate * (right ? 1 : 0.4) / Math.Sqrt(1 + done[t]++ / 10.0);
                when = when.AddMinutes(1 + rng.Next(30));
            }
        }
        return (events, items);
    }
}
