using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
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
        var limiter = web.Services.GetRequiredService<IOptions<RateLimiterOptions>>().Value.GlobalLimiter!;
        var page = new DefaultHttpContext();
        page.Request.Path = "/sign-in";
        var held = new List<RateLimitLease>();
        var waiting = new List<Task<RateLimitLease>>();
        using var client = web.NewClient();
        HttpResponseMessage busy, health;
        try
        {
            // Every place in progress, then every place in the queue, the way concurrent requests would take them.
            for (var lease = limiter.AttemptAcquire(page); lease.IsAcquired; lease = limiter.AttemptAcquire(page))
                held.Add(lease);
            for (var i = 0; i < 1000; i++)
            {
                var next = limiter.AcquireAsync(page).AsTask();
                if (next.IsCompleted)
                {
                    (await next).Dispose();
                    break;
                }
                waiting.Add(next);
            }
            busy = await client.GetAsync("/sign-in");
            health = await client.GetAsync("/health");
        }
        finally
        {
            // Each released place goes to the oldest waiter, whose own release lets the next one in.
            held.ForEach(l => l.Dispose());
            foreach (var next in waiting)
                (await next).Dispose();
        }
        var after = await client.GetAsync("/sign-in");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, busy.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), busy.Headers.RetryAfter?.Delta);
        Assert.Contains("Busy right now", await busy.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }
}
