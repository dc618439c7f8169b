using System.Diagnostics;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Recommender.Data.Models;
using Recommender.Serving;

namespace Recommender.Service.Tests;

/// <summary>Two service processes on one database agree on the active model within seconds.</summary>
public sealed class ReplicaTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Activation_in_one_replica_reaches_the_other_through_notify()
    {
        // A second host on the same database stands for a second process: its own serving state, its own listener.
        // Polling is set to an hour, so only the notification can carry the change within the test's deadline.
        using var other = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Recommender", service.ConnectionString);
            b.UseSetting("Recommender:TrainingInterval", "00:00:00");
            b.UseSetting("Recommender:ModelPollInterval", "01:00:00");
        });
        _ = other.CreateClient();
        var otherState = other.Services.GetRequiredService<ServingState>();
        var store = new ModelStore(service.DataSource);
        var active = (await store.LoadActiveAsync())!;
        var copy = await store.BeginAsync("mf-sgd", new ModelLoss(ModelLoss.SquaredError, false), "{}");
        await store.CompleteAsync(copy, active.Model, "{}", "ready");
        await WaitUntilAsync(() => otherState.IsLoaded);
        Assert.Equal(active.Version, otherState.Current.ModelVersion);

        var admin = await service.SignedInAsync(service.Admin);
        (await admin.PostAsync($"/api/admin/models/{copy}/activate", null)).EnsureSuccessStatusCode();

        await WaitUntilAsync(() => otherState.Current.ModelVersion == copy);
        Assert.Equal(copy, otherState.Current.ModelVersion);
        Assert.Equal(copy, service.Services.GetRequiredService<ServingState>().Current.ModelVersion);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition() && clock.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(50);
    }
}
