using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Recommender.Core;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>Registration of the serving runtime, shared by the REST service and the web app.</summary>
public static class ServingServiceExtensions
{
    public static IHostApplicationBuilder AddRecommenderServing(this IHostApplicationBuilder builder)
    {
        builder.AddRecommenderData();
        var section = builder.Configuration.GetSection(ServingOptions.Section);
        builder.Services.Configure<ServingOptions>(section);
        var pluginFolder = section.GetValue<string?>(nameof(ServingOptions.PluginFolder));
        builder.Services.AddRecommenderObjectives(string.IsNullOrWhiteSpace(pluginFolder) ? null : pluginFolder);

        builder.Services.AddSingleton<ServingState>();
        builder.Services.AddSingleton<RecommenderMetrics>();
        builder.Services.AddSingleton<FeedService>();
        builder.Services.AddSingleton<SettingsService>();
        builder.Services.AddSingleton<AuditQueries>();
        builder.Services.AddSingleton<AuditFilterCheck>();
        builder.Services.AddSingleton<AccountAdministration>();
        builder.Services.AddSingleton<ModelAdministration>();
        builder.Services.AddSingleton<PublisherKeyAdministration>();
        builder.Services.AddSingleton<CatalogBrowser>();
        builder.Services.AddSingleton<CounterfactualAudit>();
        builder.Services.AddSingleton<ResearchExport>();
        builder.Services.AddSingleton<ObjectiveReport>();
        builder.Services.AddSingleton<OutcomeChecks>();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AuditLog>());
        builder.Services.AddHostedService<ServingRefresher>();
        builder.Services.AddSingleton<Training.ModelTraining>();
        builder.Services.AddSingleton<Reranking.RerankerTraining>();
        builder.Services.AddSingleton<TrainingScheduler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TrainingScheduler>());
        builder.Services.AddHealthChecks()
            .AddCheck<AuditLog>("audit-log")
            .AddCheck<ServingHealthCheck>("serving");
        return builder;
    }
}
