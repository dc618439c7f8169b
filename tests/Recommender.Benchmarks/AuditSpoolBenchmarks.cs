using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Recommender.Core;
using Recommender.Data;
using Recommender.Serving;

namespace Recommender.Benchmarks;

/// <summary>
/// What the durable audit costs a feed: appending a served list of 20 items (scores, components, reasons) to the audit
/// spool and waiting for its <c>fsync</c>, with 1, 16 or 64 feeds appending at once. Group commit shares one
/// <c>fsync</c> among every feed waiting, so the time per feed falls as concurrency rises. Runs in the system's
/// temporary folder unless RECOMMENDER_SPOOL_BENCH_DIR names another (put it on the disk the service will use).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class AuditSpoolBenchmarks
{
    private string _folder = "";
    private AuditSpool _spool = null!;
    private AuditRecord _record = null!;

    [Params(1, 16, 64)]
    public int Concurrency { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var root = Environment.GetEnvironmentVariable("RECOMMENDER_SPOOL_BENCH_DIR") is { Length: > 0 } dir ? dir : Path.GetTempPath();
        _folder = Directory.CreateDirectory(Path.Combine(root, $"recommender-spool-bench-{Guid.NewGuid():N}")).FullName;
        _spool = new AuditSpool(_folder, long.MaxValue, 16 << 20, NullLogger.Instance);
        var items = Enumerable.Range(1, 20).Select(rank => new ServedItem(rank, 1000 + rank, 1.0 / rank,
            new Dictionary<string, double> { ["relevance"] = 0.8 / rank, ["novelty"] = 0.1, ["credibility"] = 0.7 },
            ["Because you read about quantum error correction", "From a source rated 0.7 for credibility"])).ToList();
        _record = new AuditRecord(Guid.CreateVersion7(), 42,
            new ServedList(42, "engagement", "1", """{"topics":["qubits"]}""", new string('a', 64), "17", 12345, DateTimeOffset.UtcNow, 500, items));
    }

    // One call is Concurrency feeds: divide the time by Concurrency for the cost per feed.
    [Benchmark(Description = "Concurrency appends, each awaiting its fsync")]
    public Task Append() => Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(() => _spool.AppendAsync(_record with { RequestId = Guid.CreateVersion7() }))));

    [IterationCleanup]
    public void Drain()
    {
        var read = new List<AuditRecord>();
        while (true)
        {
            var end = _spool.Read(read, 10_000);
            if (read.Count == 0)
                break;
            _spool.Release(end, read.Count);
            read.Clear();
        }
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _spool.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}
