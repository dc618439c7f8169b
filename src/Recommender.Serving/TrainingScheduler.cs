using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Recommender.Factorization;
using Recommender.Reranking;
using Recommender.Training;

namespace Recommender.Serving;

/// <summary>
/// Retrains on a schedule and on demand. Only one process trains at a time across all replicas and the CLI
/// (<see cref="ModelTraining.TrainExclusiveAsync(MatrixFactorizationOptions, HyperparameterSearch?, RankingSearch?, IProgress{TrainingProgress}?, CancellationToken)"/>); a request while training is running is answered by that run.
/// Each run trains the MF model, then the learned re-ranker on the scores of whichever MF model is then active.
/// </summary>
public sealed class TrainingScheduler(ModelTraining training, RerankerTraining rerankerTraining, RecommenderMetrics metrics, IOptions<ServingOptions> options, ILogger<TrainingScheduler> logger)
    : BackgroundService
{
    private readonly Channel<bool> _requests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>The last run's outcome, for the admin API.</summary>
    public TrainingReport? LastReport { get; private set; }

    /// <summary>The last re-ranker stage's outcome.</summary>
    public RerankerReport? LastRerankerReport { get; private set; }

    public bool IsTraining { get; private set; }

    /// <summary>Asks for a run soon; false when training is turned off in this process.</summary>
    public bool RequestTraining()
    {
        if (!options.Value.TrainingEnabled)
            return false;
        // A request already waiting covers this one too.
        _requests.Writer.TryWrite(true);
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.TrainingEnabled)
            return;
        var interval = options.Value.TrainingInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            if (interval > TimeSpan.Zero)
                wait.CancelAfter(interval);
            try
            {
                await _requests.Reader.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // The schedule came round.
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await RunOnceAsync(stoppingToken);
        }
    }

    /// <summary>Trains now unless another process already is; returns that run's report, or null when skipped.</summary>
    public async Task<TrainingReport?> RunOnceAsync(CancellationToken ct)
    {
        try
        {
            IsTraining = true;
            using var span = RecommenderMetrics.ActivitySource.StartActivity("train");
            if (await training.TrainExclusiveAsync(ModelTraining.DefaultOptions(), HyperparameterSearch.Default, RankingSearch.Default, ct: ct) is not { } report)
            {
                logger.LogInformation("Another process is training; skipping this run");
                metrics.TrainingRun("skipped");
                return null;
            }
            LastReport = report;
            logger.LogInformation("Training run {Version}: {Decision}", report.Version, report.Decision);
            metrics.TrainingRun(report.Activated ? "activated" : "rejected");
            span?.SetTag("recommender.model_version", report.Version);
            if (await rerankerTraining.TrainExclusiveAsync(new RerankerOptions { HistoryLength = options.Value.HistoryLength }, ct) is { } reranker)
            {
                LastRerankerReport = reranker;
                logger.LogInformation("Re-ranker run {Version}: {Decision}", reranker.Version, reranker.Decision);
            }
            return report;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or ArgumentException)
        {
            logger.LogError(e, "Training run failed");
            metrics.TrainingRun("failed");
            return null;
        }
        finally
        {
            IsTraining = false;
        }
    }
}
