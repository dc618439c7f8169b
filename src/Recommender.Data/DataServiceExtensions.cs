using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Recommender.Data.Migrations;

namespace Recommender.Data;

/// <summary>Registration shared by the service and the web app: the one data source, the stores, the database health check.</summary>
public static class DataServiceExtensions
{
    public static IHostApplicationBuilder AddRecommenderData(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Recommender")
            ?? Environment.GetEnvironmentVariable(Database.EnvironmentVariable)
            ?? throw new InvalidOperationException(
                $"No database configured: set ConnectionStrings__Recommender or {Database.EnvironmentVariable} (./recommender up does this for you).");
        builder.Services.AddSingleton(_ => Database.CreateDataSource(connectionString, builder.Environment.ApplicationName));
        builder.Services.AddSingleton<CatalogStore>();
        builder.Services.AddSingleton<AccountStore>();
        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<ProvenanceStore>();
        builder.Services.AddSingleton<SessionStore>();
        builder.Services.AddSingleton<Import.CatalogImporter>();
        builder.Services.AddSingleton<EventStore>();
        builder.Services.AddSingleton<SettingsStore>();
        builder.Services.AddSingleton<LearningStateStore>();
        builder.Services.AddSingleton<RankingContextStore>();
        builder.Services.AddSingleton<ServedListStore>();
        builder.Services.AddSingleton<PrivacyBudgetStore>();
        builder.Services.AddSingleton<Models.ModelStore>();
        builder.Services.AddSingleton<Models.RerankerStore>();
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        if (builder.Configuration.GetValue("Recommender:MigrateOnStart", true))
            builder.Services.AddHostedService<MigrateOnStart>();
        return builder;
    }

    private sealed class DatabaseHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var conn = await dataSource.OpenConnectionAsync(cancellationToken);
                await conn.ExecuteScalarAsync<int>(new CommandDefinition("select 1", cancellationToken: cancellationToken));
                return HealthCheckResult.Healthy();
            }
            catch (NpgsqlException e)
            {
                return HealthCheckResult.Unhealthy("PostgreSQL is unreachable", e);
            }
        }
    }

    /// <summary>Embedded mode migrates at start; the migration lock makes concurrent starts safe.</summary>
    private sealed class MigrateOnStart(NpgsqlDataSource dataSource, ILogger<MigrateOnStart> logger) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            var result = await MigrationRunner.MigrateAsync(dataSource, cancellationToken);
            if (result.Applied.Count > 0)
                logger.LogInformation("Applied {Count} migrations", result.Applied.Count);
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
