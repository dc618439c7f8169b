using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Recommender.Service.Tests;

/// <summary>Admission control: a process with every place taken refuses at once with 503, still answers health, and recovers.</summary>
public sealed class OverloadTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Full_process_refuses_with_503_and_retry_after_but_answers_health_and_recovers()
    {
        await using var busy = service.WithWebHostBuilder(b =>
        {
            b.UseSetting("Recommender:MaxConcurrentRequests", "1");
            b.UseSetting("Recommender:RequestQueueLimit", "0");
        });
        var client = busy.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/objectives")).StatusCode);
        // Take the one place the way a request in progress would: from the limiter the middleware uses.
        var limiter = busy.Services.GetRequiredService<IOptions<RateLimiterOptions>>().Value.GlobalLimiter!;
        var inProgress = new DefaultHttpContext();
        inProgress.Request.Path = "/api/objectives";

        HttpResponseMessage refused, health;
        using (var lease = limiter.AttemptAcquire(inProgress))
        {
            Assert.True(lease.IsAcquired);
            refused = await client.GetAsync("/api/objectives");
            health = await client.GetAsync("/health");
        }
        var recovered = await client.GetAsync("/api/objectives");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        var problem = await refused.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("Service busy", problem!["title"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
    }
}
