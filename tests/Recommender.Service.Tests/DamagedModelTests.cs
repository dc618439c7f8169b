using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Recommender.Data;
using Recommender.Data.Models;
using Recommender.Serving;
using Recommender.Testing;

namespace Recommender.Service.Tests;

/// <summary>
/// A service that starts (or restarts after a crash) while the active model's stored payload is damaged serves the
/// model that was active before it, and says so in health; it never falls back to a half-read model.
/// </summary>
public sealed class DamagedModelTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        await SmallWorld.SeedAsync(_db.DataSource);
    }

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task Start_damaged_active_model_serves_the_previous_one_and_health_is_degraded()
    {
        var store = new ModelStore(_db.DataSource);
        var previous = (await store.LoadActiveAsync())!;
        var newer = await store.BeginAsync("mf-sgd", new ModelLoss(ModelLoss.SquaredError, false), "{}");
        await store.CompleteAsync(newer, previous.Model, "{}", "ready");
        Assert.True(await store.ActivateAsync(newer, ModelActivator.ByCommandLine));
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("update models set payload = set_byte(payload, 100, (get_byte(payload, 100) + 1) % 256) where version = @newer", new { newer });

        await using var service = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Recommender", _db.ConnectionString);
            b.UseSetting("Recommender:TrainingInterval", "00:00:00");
        });
        var (_, key) = await new ApiKeyStore(_db.DataSource).CreateAsync("platform", ["feeds"]);
        using var client = service.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        var feed = await client.GetFromJsonAsync<Feed>("/api/platform/users/p1/feed?k=3");
        var health = await client.GetFromJsonAsync<JsonElement>("/health");

        Assert.Equal(previous.Version, service.Services.GetRequiredService<ServingState>().Current.ModelVersion);
        Assert.Equal(previous.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), feed!.ModelVersion);
        var serving = health.GetProperty("checks").GetProperty("serving");
        Assert.Equal("Degraded", serving.GetProperty("status").GetString());
        Assert.Contains($"Model {newer}", serving.GetProperty("description").GetString(), StringComparison.Ordinal);
    }
}
