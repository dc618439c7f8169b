using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Recommender.Web.Tests;

/// <summary>Admission control in the web app: with every place taken and the queue full, a page is a fast 503 a person can read.</summary>
[Collection(WebCollection.Name)]
public sealed class BusyTests(WebFixture web)
{
    [Fact]
    public async Task Full_app_answers_a_readable_503_with_retry_after_and_health_still_answers()
    {
        // One place and no queue: a single lease fills the app, whatever the machine's core count.
        await using var full = web.WithWebHostBuilder(b =>
        {
            b.UseSetting("Recommender:MaxConcurrentRequests", "1");
            b.UseSetting("Recommender:RequestQueueLimit", "0");
        });
        using var client = new WebClient(full.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true }));
        // Take the one place the way a request in progress would: from the limiter the middleware uses.
        var limiter = full.Services.GetRequiredService<IOptions<RateLimiterOptions>>().Value.GlobalLimiter!;
        var page = new DefaultHttpContext();
        page.Request.Path = "/sign-in";

        HttpResponseMessage busy, health;
        using (var lease = limiter.AttemptAcquire(page))
        {
            Assert.True(lease.IsAcquired);
            busy = await client.GetAsync("/sign-in");
            health = await client.GetAsync("/health");
        }
        var after = await client.GetAsync("/sign-in");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, busy.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), busy.Headers.RetryAfter?.Delta);
        Assert.Contains("Busy right now", await busy.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }
}
