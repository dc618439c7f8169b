namespace Recommender.Serving;

/// <summary>Settings under the <c>Recommender</c> configuration section. Every one is documented with its default in the README.</summary>
public sealed class ServingOptions
{
    /// <summary>The configuration section these settings live under.</summary>
    public const string Section = "Recommender";

    /// <summary>Objective for people who have not chosen one yet. Default <c>engagement</c>.</summary>
    public string DefaultObjective { get; set; } = "engagement";

    /// <summary>Most recent events per user the ranking reads. Default 500.</summary>
    public int HistoryLength { get; set; } = 500;

    /// <summary>Items per feed page when the caller does not say. Default 20.</summary>
    public int DefaultFeedSize { get; set; } = 20;

    /// <summary>Largest page a caller may ask for. Default 100.</summary>
    public int MaxFeedSize { get; set; } = 100;

    /// <summary>How deep paging may go (offset + page size). Default 500, the pipeline's candidate count.</summary>
    public int MaxFeedDepth { get; set; } = 500;

    /// <summary>Folder of third-party objective assemblies; none when empty. Default empty.</summary>
    public string? PluginFolder { get; set; }

    /// <summary>How often the active model version is checked, besides NOTIFY. Default 10 s.</summary>
    public TimeSpan ModelPollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the in-memory catalog (items, popularity) is reloaded, besides NOTIFY. Default 5 minutes.</summary>
    public TimeSpan CatalogRefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Folder of the local audit spool, where every served list is written (and synced to disk) before its feed is
    /// answered and kept until the database has it. A subfolder per database; processes on one machine may share it.
    /// Default: <c>recommender/audit-spool</c> in the user's local application data (<c>~/.local/share</c>).
    /// </summary>
    public string? AuditSpoolPath { get; set; }

    /// <summary>Bytes the audit spool may hold; past it feeds answer 503 with Retry-After rather than go unrecorded. Default 1 GiB.</summary>
    public long AuditSpoolLimit { get; set; } = 1L << 30;

    /// <summary>Whether this process retrains on <see cref="TrainingInterval"/> and on demand. Default true (the web app sets false).</summary>
    public bool TrainingEnabled { get; set; } = true;

    /// <summary>Time between scheduled retrains; zero turns the schedule off (on-demand training still works). Default 6 hours.</summary>
    public TimeSpan TrainingInterval { get; set; } = TimeSpan.FromHours(6);

    /// <summary>Sign-in attempts per client address per minute, in the REST service and the web app alike (see <see cref="SignInRateLimit"/>). Default 10.</summary>
    public int SignInPermitsPerMinute { get; set; } = 10;

    /// <summary>Requests one process works on at once; more wait in a queue (see <see cref="OverloadLimit"/>). Default 16 per core.</summary>
    public int MaxConcurrentRequests { get; set; } = 16 * Environment.ProcessorCount;

    /// <summary>Requests that may wait for a place; past this they are refused at once with 503 and Retry-After. Default 64.</summary>
    public int RequestQueueLimit { get; set; } = 64;

    /// <summary>
    /// Total ε that researcher exports may spend on the served lists, over the life of the data; an export past it is
    /// refused. Default 10 (ten exports at ε = 1).
    /// </summary>
    public double PrivacyBudget { get; set; } = 10;

    /// <summary>
    /// Other sites (<c>https://host[:port]</c>) whose pages may post to this one, besides its own origin (see
    /// <see cref="OriginCheck"/>). Default none.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>
    /// Whether sign-in and antiforgery cookies are marked <c>Secure</c>: <c>SameAsRequest</c> (on HTTPS requests,
    /// including those a proxy forwards as HTTPS once forwarded headers are honoured) or <c>Always</c> (behind TLS).
    /// Default <c>SameAsRequest</c>.
    /// </summary>
    public Microsoft.AspNetCore.Http.CookieSecurePolicy SecureCookies { get; set; } = Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;

    /// <summary>How long a REST service sign-in lasts without use (sliding: each use extends it). Default 8 hours.</summary>
    public TimeSpan ApiSessionLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>How long a web app sign-in lasts without use (sliding: each use extends it). Default 14 days.</summary>
    public TimeSpan WebSessionLifetime { get; set; } = TimeSpan.FromDays(14);

    /// <summary>
    /// How often a signed-in person's session is checked against the database (signed out, account deleted, role
    /// changed): the longest any of those can go unnoticed by another copy of the cookie. Zero checks every request. Default 30 s.
    /// </summary>
    public TimeSpan SessionCheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether <c>/metrics</c> answers Prometheus scrapes, without sign-in (docs/security.md says who should reach it).
    /// Turn it off where the process is reachable from outside and nothing in between keeps <c>/metrics</c> in. Default true.
    /// </summary>
    public bool PrometheusScraping { get; set; } = true;
}
