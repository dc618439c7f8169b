using System.Net;

using Recommender.Testing;

namespace Recommender.Web.Tests;

/// <summary>The web app's Prometheus scrape: anonymous, and counting the feeds its pages serve.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryTests(WebFixture web) : IClassFixture<WebFixture>
{
    [Fact]
    public async Task Metrics_are_prometheus_text_for_anyone()
    {
        using var client = web.NewClient();
        // A finished request, so ASP.NET Core's request histogram has something to report.
        (await client.GetAsync("/health")).Dispose();
        using var response = await client.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE recommender_audit_backlog gauge", text, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration_seconds_count", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_a_feed_page_counts_under_the_persons_goal()
    {
        using var person = await web.OnboardedAsync(await web.NewAccountAsync(), objective: "learning");
        using var scrape = web.NewClient();
        var before = PrometheusText.Sample(await ReadAsync(scrape), "recommender_feeds_served_total", ("objective", "learning"));

        var (status, _, _) = await person.PageAsync("/");

        Assert.Equal(HttpStatusCode.OK, status);
        var after = await ReadAsync(scrape);
        Assert.True(PrometheusText.Sample(after, "recommender_feeds_served_total", ("objective", "learning")) >= before + 1, after);
    }

    private static async Task<string> ReadAsync(WebClient client)
    {
        using var response = await client.GetAsync("/metrics");
        return await response.Content.ReadAsStringAsync();
    }
}

/// <summary>
/// Runs after every other test class, alone: OpenTelemetry listens to meters by name across the process, so a test
/// host's scrape also picks up (and loses, when that host is disposed) the instruments of any other host alive beside it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "telemetry";
}
