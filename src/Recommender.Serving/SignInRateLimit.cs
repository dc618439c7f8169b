using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;

namespace Recommender.Serving;

/// <summary>
/// The limit on sign-in attempts, one definition for the REST service and the web app: a fixed window of one minute
/// per client address with <see cref="ServingOptions.SignInPermitsPerMinute"/> attempts, successful or not, and no queue.
/// A refusal carries the real wait until the window ends. Beside it, <see cref="Recommender.Data.AccountStore.SignInAsync"/>
/// limits failed sign-ins per login and client (<see cref="Client"/>), never per login alone, so that nobody's guesses
/// can lock the owner out.
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

    /// <summary>
    /// The client a sign-in attempt is counted against: its address (after a trusted proxy's forwarded headers), an
    /// IPv6 address by its /64 network, since one host is usually given a whole /64 to pick from.
    /// </summary>
    public static string Client(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var address = httpContext.Connection.RemoteIpAddress;
        if (address is null)
            return "unknown";
        if (address.IsIPv4MappedToIPv6)
            return address.MapToIPv4().ToString();
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            return address.ToString();
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new System.Net.IPAddress(bytes) + "/64";
    }

    /// <summary>Whole seconds to put in Retry-After for <paramref name="wait"/>: rounded up, at least 1.</summary>
    public static long RetryAfterSeconds(TimeSpan wait) => Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));

    /// <summary>The wait a refused caller is told, from the limiter's own lease when it says one, else the whole window.</summary>
    public static TimeSpan RetryAfter(OnRejectedContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) && wait > TimeSpan.Zero ? wait : Window;
    }

    /// <summary>A wait in words for people: "45 seconds", "3 minutes".</summary>
    public static string Describe(TimeSpan wait)
    {
        var seconds = RetryAfterSeconds(wait);
        return seconds < 90
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{seconds} seconds")
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{(long)Math.Ceiling(seconds / 60.0)} minutes");
    }

    private sealed class Policy(int permits, Func<OnRejectedContext, CancellationToken, ValueTask>? onRejected) : IRateLimiterPolicy<string>
    {
        public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => onRejected;

        public RateLimitPartition<string> GetPartition(HttpContext httpContext) => RateLimitPartition.Get(
            Client(httpContext),
            _ => new WindowLimiter(permits, Window, TimeProvider.System));
    }

    /// <summary>
    /// A fixed window that knows when it started, so a refusal says the real wait until the window ends (the
    /// framework's fixed-window limiter reports the whole window whatever is left of it).
    /// </summary>
    internal sealed class WindowLimiter(int permits, TimeSpan window, TimeProvider clock) : RateLimiter
    {
        private readonly Lock _lock = new();
        private DateTimeOffset _start = DateTimeOffset.MinValue;
        private int _used;

        public override TimeSpan? IdleDuration
        {
            get
            {
                lock (_lock)
                {
                    var over = clock.GetUtcNow() - (_start + window);
                    return over > TimeSpan.Zero ? over : null;
                }
            }
        }

        public override RateLimiterStatistics? GetStatistics()
        {
            lock (_lock)
                return new RateLimiterStatistics { CurrentAvailablePermits = Math.Max(0, permits - _used) };
        }

        protected override RateLimitLease AttemptAcquireCore(int permitCount)
        {
            lock (_lock)
            {
                var now = clock.GetUtcNow();
                if (now >= _start + window)
                {
                    _start = now;
                    _used = 0;
                }
                if (_used + permitCount <= permits)
                {
                    _used += permitCount;
                    return new Lease(true, null);
                }
                return new Lease(false, _start + window - now);
            }
        }

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
            ValueTask.FromResult(AttemptAcquireCore(permitCount));

        private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
        {
            public override bool IsAcquired => acquired;

            public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

            public override bool TryGetMetadata(string metadataName, out object? metadata)
            {
                metadata = retryAfter;
                return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
            }
        }
    }
}
