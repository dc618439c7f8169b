using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Recommender.Core;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>What this process has done since it started: the figures the meter reports, as the admin pages show them.</summary>
/// <param name="StartedAt">When this process started counting.</param>
/// <param name="FeedsServed">Feeds served per objective id.</param>
/// <param name="FeedsWithoutDatabase">Feeds served without personal data because the database was unreachable.</param>
/// <param name="LastWithoutDatabase">When the last of those was served; null when none was.</param>
/// <param name="EventsIngested">Events accepted in stored batches per kind (the API's name), repeats of stored keys included.</param>
/// <param name="EventsRepeated">Events whose idempotency key was already stored, so they were not recorded again.</param>
/// <param name="AuditWritten">Served lists moved from the spool to the database.</param>
/// <param name="AuditBacklog">Served lists in the spool waiting for the database.</param>
/// <param name="TrainingRuns">Training runs per outcome: activated, rejected, skipped, failed.</param>
public sealed record ProcessFigures(
    DateTimeOffset StartedAt,
    IReadOnlyDictionary<string, long> FeedsServed,
    long FeedsWithoutDatabase,
    DateTimeOffset? LastWithoutDatabase,
    IReadOnlyDictionary<string, long> EventsIngested,
    long EventsRepeated,
    long AuditWritten,
    long AuditBacklog,
    IReadOnlyDictionary<string, long> TrainingRuns);

/// <summary>
/// The product's own metrics and traces, all in one place. Each figure is counted once, here or by the class that owns
/// it (the audit log's spool, the serving state), and the meter's observable instruments read those same numbers, so
/// Prometheus, OTLP, health and the admin pages cannot disagree. Ranking latency is the one histogram.
/// The instrument names and units are listed in docs/operations.md ("Telemetry").
/// </summary>
public sealed class RecommenderMetrics
{
    /// <summary>The name of the meter and of the activity source (spans feed → rank → audit).</summary>
    public const string Name = "Recommender";

    /// <summary>Spans of the product's own work, beneath ASP.NET Core's request span.</summary>
    public static readonly ActivitySource ActivitySource = new(Name);

    // Upper bounds in seconds: ranking is sub-millisecond to tens of milliseconds; the default buckets start at 5 s.
    private static readonly double[] RankingBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    private readonly DateTimeOffset _startedAt = DateTimeOffset.UtcNow;
    private readonly ConcurrentDictionary<string, StrongBox<long>> _feeds = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StrongBox<long>> _events = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StrongBox<long>> _training = new(StringComparer.Ordinal);
    private readonly AuditLog _audit;
    private readonly Histogram<double> _ranking;
    private long _withoutDatabase;
    private long _lastWithoutDatabase;
    private long _eventsRepeated;

    public RecommenderMetrics(IMeterFactory meterFactory, AuditLog audit, ServingState state)
    {
        _audit = audit;
        var meter = meterFactory.Create(Name);
        meter.CreateObservableCounter("recommender.feeds.served", () => Tagged(_feeds, "objective"), "{feed}",
            "Feeds served (each page counts), by objective id.");
        meter.CreateObservableCounter("recommender.feeds.without_database", () => Interlocked.Read(ref _withoutDatabase), "{feed}",
            "Feeds served without personal data because the database was unreachable.");
        _ranking = meter.CreateHistogram("recommender.ranking.duration", "s",
            "Time to rank one feed (candidates, objective, re-ranking), without the database reads before it or the audit write after it.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RankingBuckets });
        meter.CreateObservableCounter("recommender.events.ingested", () => Tagged(_events, "kind"), "{event}",
            "Events accepted in stored batches, by kind; an event repeating a stored idempotency key counts again.");
        meter.CreateObservableCounter("recommender.events.repeated", () => Interlocked.Read(ref _eventsRepeated), "{event}",
            "Events not recorded because their idempotency key was already stored (client retries).");
        meter.CreateObservableCounter("recommender.audit.written", () => audit.Written, "{list}",
            "Served lists moved from the local spool to the database.");
        meter.CreateObservableGauge("recommender.audit.backlog", () => audit.Pending, "{list}",
            "Served lists in the local spool waiting for the database.");
        meter.CreateObservableGauge("recommender.model.active_version", () => ActiveVersion(state), "{version}",
            "Version of the model this process ranks with; 0 while it ranks by popularity.");
        meter.CreateObservableCounter("recommender.training.runs", () => Tagged(_training, "outcome"), "{run}",
            "Training runs this process started, by outcome: activated, rejected (did not pass its gate), skipped (another process was training), failed.");
    }

    /// <summary>A feed page was served under <paramref name="objectiveId"/>.</summary>
    public void FeedServed(string objectiveId, bool withoutDatabase)
    {
        Increment(_feeds, objectiveId);
        if (withoutDatabase)
        {
            Interlocked.Increment(ref _withoutDatabase);
            Interlocked.Exchange(ref _lastWithoutDatabase, DateTimeOffset.UtcNow.UtcTicks);
        }
    }

    /// <summary>Ranking one feed took <paramref name="elapsed"/>.</summary>
    public void Ranked(TimeSpan elapsed, string objectiveId) =>
        _ranking.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("objective", objectiveId));

    /// <summary>A batch of events was stored.</summary>
    public void EventsStored(IReadOnlyList<NewEvent> batch, AppendResult result)
    {
        foreach (var e in batch)
            Increment(_events, e.Kind.ToName());
        Interlocked.Add(ref _eventsRepeated, result.Duplicates);
    }

    /// <summary>A training run ended with <paramref name="outcome"/> (activated, rejected, skipped, failed).</summary>
    public void TrainingRun(string outcome) => Increment(_training, outcome);

    /// <summary>Feeds served without the database since start.</summary>
    public long FeedsWithoutDatabase => Interlocked.Read(ref _withoutDatabase);

    /// <summary>When the last feed was served without the database; null when none was.</summary>
    public DateTimeOffset? LastWithoutDatabase =>
        Interlocked.Read(ref _lastWithoutDatabase) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>The same figures the meter reports, read now.</summary>
    public ProcessFigures Snapshot() => new(_startedAt, Read(_feeds), FeedsWithoutDatabase, LastWithoutDatabase, Read(_events),
        Interlocked.Read(ref _eventsRepeated), _audit.Written, _audit.Pending, Read(_training));

    private static IEnumerable<Measurement<int>> ActiveVersion(ServingState state) =>
        state.IsLoaded ? [new Measurement<int>(state.Current.ModelVersion ?? 0)] : [];

    private static void Increment(ConcurrentDictionary<string, StrongBox<long>> counts, string key) =>
        Interlocked.Increment(ref counts.GetOrAdd(key, _ => new StrongBox<long>()).Value);

    private static IEnumerable<Measurement<long>> Tagged(ConcurrentDictionary<string, StrongBox<long>> counts, string tag) =>
        counts.Select(c => new Measurement<long>(Interlocked.Read(ref c.Value.Value), new KeyValuePair<string, object?>(tag, c.Key)));

    private static Dictionary<string, long> Read(ConcurrentDictionary<string, StrongBox<long>> counts) =>
        counts.ToDictionary(c => c.Key, c => Interlocked.Read(ref c.Value.Value), StringComparer.Ordinal);
}
