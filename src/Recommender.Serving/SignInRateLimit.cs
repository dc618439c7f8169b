using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;

namespace Recommender.Serving;

/// <summary>
/// The limit on sign-in attempts, one definition for the REST service and the web app: a fixed window of one minute
/// per client address with <see cref="ServingOptions.SignInPermitsPerMinute"/> attempts, successful or not, and no queue.
/// Each host says how a refusal looks to its callers.
/// </summary>
public static class SignInRateLimit
{
    public const string PolicyName = "sign-in";

    public static TimeSpan Window { get; } = TimeSpan.FromMinutes(1);

    /// <summary>Adds the sign-in policy with the configured number of attempts.</summary>
    /// <param name="options">The host's rate limiter options.</param>
    /// <param name="configuration">Where <c>Recommender:SignInPermitsPerMinute</c> is read from.</param>
    /// <param name="onRejected">What a refused caller gets; null leaves it to <see cref="RateLimiterOptions.OnRejected"/>.</param>
    public static RateLimiterOptions AddSignInLimit(this RateLimiterOptions options, IConfiguration configuration,
        Func<OnRejectedContext, CancellationToken, ValueTask>? onRejected = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configuration);
        var permits = configuration.GetSection(ServingOptions.Section)
            .GetValue(nameof(ServingOptions.SignInPermitsPerMinute), new ServingOptions().SignInPermitsPerMinute);
        options.AddPolicy(PolicyName, new Policy(Math.Max(1, permits), onRejected));
        return options;
    }

    private sealed class Policy(int permits, Func<OnRejectedContext, CancellationToken, ValueTask>? onRejected) : IRateLimiterPolicy<string>
    {
        public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => onRejected;

        public RateLimitPartition<string> GetPartition(HttpContext httpContext) => RateLimitPartition.GetFixedWindowLimiter(
            httpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = Window, QueueLimit = 0 });
    }
}
