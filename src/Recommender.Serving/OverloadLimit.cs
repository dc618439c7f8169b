using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;

namespace Recommender.Serving;

/// <summary>
/// Admission control for one process, the same in the REST service and the web app: at most
/// <see cref="ServingOptions.MaxConcurrentRequests"/> requests are worked on at once and
/// <see cref="ServingOptions.RequestQueueLimit"/> more wait, oldest first. Past that a request is refused at once
/// with 503 and Retry-After, so under overload the process keeps its latency bounded and its memory flat instead of
/// letting every request slow down together, and it is back to normal as soon as the load drops.
/// Health checks and metric scrapes are never queued or refused: operators and load balancers must see the process even when it is busy.
/// </summary>
public static class OverloadLimit
{
    public static RateLimiterOptions AddOverloadLimit(this RateLimiterOptions options, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(ServingOptions.Section);
        var defaults = new ServingOptions();
        var limiter = new ConcurrencyLimiterOptions
        {
            PermitLimit = Math.Max(1, section.GetValue(nameof(ServingOptions.MaxConcurrentRequests), defaults.MaxConcurrentRequests)),
            QueueLimit = Math.Max(0, section.GetValue(nameof(ServingOptions.RequestQueueLimit), defaults.RequestQueueLimit)),
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        };
        options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            TelemetryExtensions.IsProbe(context.Request.Path)
                ? RateLimitPartition.GetNoLimiter("probe")
                : RateLimitPartition.GetConcurrencyLimiter("process", _ => limiter));
        return options;
    }

    /// <summary>
    /// Whether a refusal came from this limit rather than a per-caller rate limit: those say when to retry, a full
    /// queue does not. The caller should get 503 (the service is busy), not 429 (you are sending too much).
    /// </summary>
    public static bool IsOverload(OnRejectedContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return !context.Lease.TryGetMetadata(MetadataName.RetryAfter, out _);
    }
}
