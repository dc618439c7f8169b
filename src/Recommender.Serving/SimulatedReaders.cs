using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Recommender.Core;
using Recommender.Core.Evaluation;
using Recommender.Data;
using Recommender.Data.Models;
using Recommender.Reranking;
using Recommender.Training;

namespace Recommender.Serving;

/// <summary>What <see cref="SimulatedReaders.SeedAsync"/> wrote.</summary>
public sealed record SimulatedHistory(int Readers, int Days, int Lists, int Events)
{
    /// <summary>
    /// The model <see cref="SimulatedReaders.SeedDatabaseAsync"/> trained on the history afterwards, as *Train now* does;
    /// null when it trained none (the active model learns from ratings, which simulated readers do not give, or the run failed).
    /// </summary>
    public TrainingReport? Retrained { get; init; }

    /// <summary>The re-ranker run that followed <see cref="Retrained"/>, when it ran.</summary>
    public RerankerReport? Reranker { get; init; }

    /// <summary>How long writing the history took, without the training after it.</summary>
    public TimeSpan Elapsed { get; init; }
}

/// <summary>
/// A labelled, simulated history for the demo, so that an auditor has something to judge on a fresh database:
/// <see cref="PerGoal"/> readers per goal, accounts named "Simulated reader NN" and marked simulated, each served one
/// feed a day for <see cref="Days"/> days through the real feed ranking (<see cref="FeedService.RankAt"/>) with the
/// active model, recorded in the audit log with that day's time, and answering it as below. Each day's feed reads the
/// events of the days before, so learning adapts.
/// <para>
/// The behaviour model, fixed seed: a reader looks at the first <see cref="Looked"/> items (an impression each) and
/// clicks, at most <see cref="MaxClicks"/> a day, an item at rank r with probability
/// <see cref="ClickAtTop"/> × <see cref="ClickDecay"/>^(r−1), times <see cref="OffTaste"/> when the item is on none of
/// the reader's topics (two or three of the demo's largest topics). A click on one of their topics is followed by
/// "glad I saw this" with probability <see cref="LikeShare"/>; an item looked at, not clicked and off their topics gets
/// "not interested" with probability <see cref="NotInterestedShare"/>. Every reader, whatever their goal, answers every
/// item they click as <see cref="SimulatedLearner"/> does in the learner simulation: from a hidden skill in each of their topics against the
/// item's hidden difficulty (too easy, too hard, or a quiz answer right with the true probability), the hidden skill
/// growing when the item is near their level.
/// </para>
/// </summary>
public sealed class SimulatedReaders(
    ServingState state,
    FeedService feeds,
    SettingsService settings,
    RankingContextStore contexts,
    AccountStore accounts,
    ServedListStore lists,
    EventStore events,
    LearningStateStore learning,
    IOptions<ServingOptions> options)
{
    /// <summary>Simulated readers per goal. 8.</summary>
    public const int PerGoal = 8;

    /// <summary>Days of history, ending today (or yesterday in the first hour of a day). 14.</summary>
    public const int Days = 14;

    /// <summary>How every simulated reader's display name begins, so every page that names people shows it.</summary>
    public const string NamePrefix = "Simulated reader";

    public const int Seed = 20_261_207;

    public const int Looked = 10;
    public const int MaxClicks = 3;
    public const double ClickAtTop = 0.6;
    public const double ClickDecay = 0.8;
    public const double OffTaste = 0.3;
    public const double LikeShare = 0.2;
    public const double NotInterestedShare = 0.05;

    /// <summary>The goals simulated, in order; each gets <see cref="PerGoal"/> readers.</summary>
    public static IReadOnlyList<string> Goals { get; } = ["learning", "diversity", "engagement", "no_profiling"];

    /// <summary>Readers choose among this many of the catalog's largest topics (sub-topics, not whole subjects).</summary>
    private const int TopicPool = 10;

    private static readonly LearnerSimulationOptions Learner = new() { Seed = Seed };

    private sealed class Reader(int number, string goal, IReadOnlyList<string> topics, Random rng)
    {
        public int Number { get; } = number;
        public string Goal { get; } = goal;
        public IReadOnlyList<string> Topics { get; } = topics;
        public Random Rng { get; } = rng;
        public long UserId { get; set; }

        // Hidden from the ranking: where a reader stands off their topics, in each of them, and how fast they learn.
        public double BaseSkill { get; } = SimulatedLearner.StartSkill(rng, Learner);
        public Dictionary<string, double> Skills { get; } = topics.ToDictionary(t => t, _ => SimulatedLearner.StartSkill(rng, Learner), StringComparer.Ordinal);
        public double Rate { get; } = SimulatedLearner.LearningRate(rng, Learner);
    }

    /// <summary>
    /// Seeds the demo's simulated readers on the database at <paramref name="connectionString"/> (migrated, with a catalog
    /// and, for the model's ranking, an active model), served by a serving runtime of its own as the service would serve
    /// them: what <c>recommender up</c> does on a fresh demo, and what the product tour does before it takes the docs'
    /// screenshots. Null, and nothing written, when simulated readers exist. The runtime opens its audit spool in
    /// <paramref name="auditSpoolPath"/>, though nothing goes through it: the history is written straight to the audit log.
    /// <para>
    /// The model that ranked the history was trained before the readers existed, so it has no scores for them and no
    /// re-ranker can learn from their lists. When it learns from activity, which the readers now have, this trains once
    /// more as *Train now* does (<see cref="TrainingScheduler.RunOnceAsync"/>: the model, then the re-ranker, each
    /// activated only when it passes its gate). A model of ratings is left as it is: a new one would not know them either.
    /// </para>
    /// </summary>
    public static async Task<SimulatedHistory?> SeedDatabaseAsync(string connectionString, string auditSpoolPath, CancellationToken ct = default)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "recommender-simulated-readers" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Recommender"] = connectionString,
            ["Recommender:MigrateOnStart"] = "false",
            ["Recommender:AuditSpoolPath"] = auditSpoolPath,
        });
        builder.AddRecommenderServing();
        builder.Services.AddSingleton<SimulatedReaders>();
        using var host = builder.Build();
        var started = Stopwatch.GetTimestamp();
        var history = await host.Services.GetRequiredService<SimulatedReaders>().SeedAsync(DateTimeOffset.UtcNow, ct) is { } written
            ? written with { Elapsed = Stopwatch.GetElapsedTime(started) }
            : null;
        if (history is null || await host.Services.GetRequiredService<ModelStore>().GetActiveMetricsAsync(ct) is not { } active
            || ModelMetrics.Read(active.Metrics)?.Feedback != ModelMetrics.Activity)
            return history;
        var training = host.Services.GetRequiredService<TrainingScheduler>();
        var retrained = await training.RunOnceAsync(ct);
        return history with { Retrained = retrained, Reranker = retrained is null ? null : training.LastRerankerReport };
    }

    /// <summary>
    /// Creates the readers and their history up to <paramref name="now"/>, then rebuilds learning state from the
    /// stored events (as <c>recommender skill rebuild</c> does). Null, and nothing written, when simulated readers exist.
    /// </summary>
    public async Task<SimulatedHistory?> SeedAsync(DateTimeOffset now, CancellationToken ct = default)
    {
        if (await accounts.CountSimulatedAsync(ct) > 0)
            return null;
        if (!state.IsLoaded)
            await state.ReloadAsync(ct: ct);
        var catalog = state.Current.Pipeline.Catalog;
        var pool = catalog.LeafTopics.OrderByDescending(t => catalog.ItemsInTopic(t).Count).ThenBy(t => t, StringComparer.Ordinal).Take(TopicPool).ToList();
        if (pool.Count == 0)
            pool = [.. catalog.Topics];

        var readers = new List<Reader>();
        foreach (var goal in Goals)
        {
            for (var i = 0; i < PerGoal; i++)
            {
                var number = readers.Count + 1;
                var rng = new Random(Seed + number);
                var topics = pool.OrderBy(_ => rng.Next()).Take(Math.Min(pool.Count, 2 + number % 2)).ToList();
                readers.Add(new Reader(number, goal, topics, rng));
            }
        }
        await CreateAccountsAsync(readers, ct);

        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        // Every list and click lies before now: today counts once an hour of it has passed.
        var lastDay = now - today >= TimeSpan.FromHours(1) ? today : today.AddDays(-1);
        var records = new List<AuditRecord>(readers.Count * Days);
        var recorded = 0;
        for (var d = 0; d < Days; d++)
        {
            var day = lastDay.AddDays(d - (Days - 1));
            var span = (now - day < TimeSpan.FromDays(1) ? now - day : TimeSpan.FromDays(1)) - TimeSpan.FromMinutes(15);
            var loaded = await Task.WhenAll(readers.Select(r => contexts.LoadAsync(r.UserId, options.Value.HistoryLength, ct)));
            var served = new (AuditRecord Record, List<NewEvent> Events)[readers.Count];
            // Each reader has a seed and a random source of their own, so ranking them side by side changes nothing.
            Parallel.For(0, readers.Count, new ParallelOptions { CancellationToken = ct }, i =>
            {
                var reader = readers[i];
                // Readers come at different times of the day, the goals mixed.
                var servedAt = day + span * ((i * 7 % readers.Count + 0.5) / readers.Count);
                var context = loaded[i] ?? throw new InvalidOperationException($"{NamePrefix} {reader.Number:D2} was created but cannot be read back.");
                var list = feeds.RankAt(context, servedAt, options.Value.DefaultFeedSize, Seed + reader.Number * 100 + d);
                served[i] = (new AuditRecord(Guid.CreateVersion7(servedAt), reader.UserId, list), Respond(reader, catalog, list, servedAt));
            });
            records.AddRange(served.Select(s => s.Record));
            // The next day's feeds read these events; the lists can wait.
            foreach (var chunk in served.SelectMany(s => s.Events).Chunk(EventStore.MaxBatch))
                recorded += (await events.AppendAsync(chunk, ct)).Recorded;
        }
        // In the order served, as the audit explorer lists them (newest stored last).
        await lists.WriteAsync([.. records.OrderBy(r => r.List.ServedAt)], ct);
        await learning.RebuildAsync(ct);
        return new SimulatedHistory(readers.Count, Days, records.Count, recorded);
    }

    /// <summary>Accounts with a random password nobody is told (so nobody signs in as them), their goals saved as the goals page saves them.</summary>
    private async Task CreateAccountsAsync(List<Reader> readers, CancellationToken ct)
    {
        // Password hashing is the slow part: the readers side by side.
        await Task.WhenAll(readers.Select(r => Task.Run(async () =>
        {
            var password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            r.UserId = (await accounts.UpsertAsync($"simulated-{r.Number:D2}", $"{NamePrefix} {r.Number:D2}", "user", password, ct)).Id;
            // No profiling's topics would narrow its list rather than seed it, so its readers give none.
            var change = await settings.SwitchAsync(r.UserId, r.Goal, r.Goal == "no_profiling" ? [] : r.Topics, ct);
            if (!change.Succeeded)
                throw new InvalidOperationException($"{NamePrefix} {r.Number:D2}'s goal was refused: {string.Join("; ", change.Errors.Select(e => $"{e.Field}: {e.Message}"))}");
        }, ct)));
        await accounts.MarkSimulatedAsync([.. readers.Select(r => r.UserId)], ct);
    }

    /// <summary>The reader's events on one list, seconds to minutes after it was served (see the class's behaviour model).</summary>
    private static List<NewEvent> Respond(Reader reader, Catalog catalog, ServedList list, DateTimeOffset servedAt)
    {
        var result = new List<NewEvent>();
        var rng = reader.Rng;
        var clicks = 0;
        foreach (var served in list.Items.Take(Looked))
        {
            var item = catalog[served.ItemId];
            var at = servedAt + TimeSpan.FromSeconds(served.Rank);
            NewEvent Event(EventKind kind, TimeSpan after) =>
                new(reader.UserId, item.Id, kind, null, at + after, $"simulated:{servedAt:yyyy-MM-dd}:{kind.ToName()}:{item.Id}");
            result.Add(Event(EventKind.Impression, TimeSpan.Zero));
            var onTaste = item.Topics.Any(reader.Topics.Contains);
            var p = ClickAtTop * Math.Pow(ClickDecay, served.Rank - 1) * (onTaste ? 1 : OffTaste);
            if (clicks < MaxClicks && rng.NextDouble() < p)
            {
                clicks++;
                result.Add(Event(EventKind.Click, TimeSpan.FromSeconds(30 + 20 * clicks)));
                // Every reader, whatever their goal, answers what they read: only the lists differ, so the outcome
                // check can compare learning's readers with everyone else's.
                result.Add(Event(Answer(reader, item), TimeSpan.FromSeconds(150 + 20 * clicks)));
                if (onTaste && rng.NextDouble() < LikeShare)
                    result.Add(Event(EventKind.Like, TimeSpan.FromSeconds(160 + 20 * clicks)));
            }
            else if (!onTaste && rng.NextDouble() < NotInterestedShare)
            {
                result.Add(Event(EventKind.NotInterested, TimeSpan.FromSeconds(20)));
            }
        }
        return result;
    }

    /// <summary>A reader's answer on an item, from the hidden skill in their topics (where they started, off them); the item teaches those topics.</summary>
    private static EventKind Answer(Reader reader, ItemInfo item)
    {
        var difficulty = SimulatedLearner.HiddenDifficulty(item, Learner);
        var practised = item.Topics.Where(reader.Skills.ContainsKey).ToList();
        var skill = practised.Count > 0 ? practised.Max(t => reader.Skills[t]) : reader.BaseSkill;
        var kind = SimulatedLearner.Answer(EloLearningModel.PredictSuccess(skill, difficulty), reader.Rng);
        foreach (var topic in practised)
            reader.Skills[topic] += SimulatedLearner.Gain(reader.Skills[topic], difficulty, reader.Rate, Learner);
        return kind;
    }
}
