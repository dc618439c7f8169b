using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Recommender.Serving;

using Recommender.Testing;

namespace Recommender.Service.Tests;

/// <summary>
/// The Prometheus scrape reports what the service did, the admin figures are the meter's own numbers, and the OpenAPI
/// document explains every operation.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Metrics_are_prometheus_text_for_anyone()
    {
        var client = service.CreateClient();
        // A finished request, so ASP.NET Core's request histogram has something to report.
        (await client.GetAsync("/health")).Dispose();
        using var response = await client.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE recommender_audit_backlog gauge", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE recommender_model_active_version gauge", text, StringComparison.Ordinal);
        // ASP.NET Core's own request histogram comes through the same exporter.
        Assert.Contains("http_server_request_duration_seconds_count", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_a_served_feed_counts_under_its_objective_and_its_ranking_is_timed()
    {
        var client = await service.SignedInAsync(service.Bob);
        var scrape = service.CreateClient();
        var objective = JsonNode.Parse(await client.GetStringAsync("/api/me/feed?k=3"))!["objectiveId"]!.GetValue<string>();
        var feeds = PrometheusText.Sample(await scrape.GetStringAsync("/metrics"), "recommender_feeds_served_total", ("objective", objective));
        var rankings = PrometheusText.Sample(await scrape.GetStringAsync("/metrics"), "recommender_ranking_duration_seconds_count", ("objective", objective));

        (await client.GetAsync("/api/me/feed?k=3")).EnsureSuccessStatusCode();

        var text = await scrape.GetStringAsync("/metrics");
        // At least: other test classes' hosts in this process share the meter's name, so their feeds may add to it.
        Assert.True(PrometheusText.Sample(text, "recommender_feeds_served_total", ("objective", objective)) >= feeds + 1, text);
        Assert.True(PrometheusText.Sample(text, "recommender_ranking_duration_seconds_count", ("objective", objective)) >= rankings + 1, text);
        Assert.Contains("recommender_ranking_duration_seconds_bucket{", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_posted_events_count_by_kind_and_a_resent_batch_counts_as_repeated()
    {
        var client = await service.SignedInAsync(service.Alice);
        var scrape = service.CreateClient();
        var before = await scrape.GetStringAsync("/metrics");
        var batch = new[] { new { itemId = service.Items["item-2"], kind = "too_easy", idempotencyKey = $"telemetry-{Guid.NewGuid():N}", occurredAt = DateTimeOffset.UtcNow.AddMinutes(-1) } };

        (await client.PostAsJsonAsync("/api/me/events", batch)).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/api/me/events", batch)).EnsureSuccessStatusCode();

        var after = await scrape.GetStringAsync("/metrics");
        Assert.True(PrometheusText.Sample(after, "recommender_events_ingested_total", ("kind", "too_easy")) >= PrometheusText.Sample(before, "recommender_events_ingested_total", ("kind", "too_easy")) + 2, after);
        Assert.True(PrometheusText.Sample(after, "recommender_events_repeated_total") >= PrometheusText.Sample(before, "recommender_events_repeated_total") + 1, after);
    }

    [Fact]
    public async Task Process_figures_for_admins_are_the_meters_own_numbers()
    {
        var metrics = service.Services.GetRequiredService<RecommenderMetrics>();
        var admin = await service.SignedInAsync(service.Admin);
        var person = await service.SignedInAsync(service.Alice);
        var objective = JsonNode.Parse(await person.GetStringAsync("/api/me/feed?k=2"))!["objectiveId"]!.GetValue<string>();
        var before = metrics.Snapshot().FeedsServed[objective];

        (await person.GetAsync("/api/me/feed?k=2")).EnsureSuccessStatusCode();

        // This host's own instruments, so exactly one more; the admin route reads the same snapshot.
        Assert.Equal(before + 1, metrics.Snapshot().FeedsServed[objective]);
        var figures = JsonNode.Parse(await admin.GetStringAsync("/api/admin/process"))!;
        Assert.Equal(before + 1, figures["feedsServed"]![objective]!.GetValue<long>());
        Assert.True(figures["auditBacklog"]!.GetValue<long>() >= 0);
    }

    [Fact]
    public async Task OpenApi_every_operation_has_a_name_and_a_summary()
    {
        var document = JsonNode.Parse(await service.CreateClient().GetStringAsync("/openapi/v1.json"))!;
        var operations = document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Where(o => o.Key is "get" or "put" or "post" or "delete" or "patch")
                .Select(o => (Route: $"{o.Key.ToUpperInvariant()} {path.Key}", Operation: o.Value!)))
            .ToList();

        Assert.NotEmpty(operations);
        Assert.Empty(operations.Where(o => string.IsNullOrWhiteSpace(o.Operation["summary"]?.GetValue<string>())).Select(o => o.Route));
        Assert.Empty(operations.Where(o => string.IsNullOrWhiteSpace(o.Operation["operationId"]?.GetValue<string>())).Select(o => o.Route));
        // The Prometheus scrape is not part of the REST API.
        Assert.DoesNotContain("/metrics", document["paths"]!.AsObject().Select(p => p.Key));
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
