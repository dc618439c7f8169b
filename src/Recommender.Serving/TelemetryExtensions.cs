using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Recommender.Serving;

/// <summary>
/// OpenTelemetry for the REST service and the web app alike: the product's meter and spans
/// (<see cref="RecommenderMetrics"/>), ASP.NET Core and Npgsql; a Prometheus scrape at <see cref="ScrapePath"/>, and OTLP
/// export only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (docs/operations.md, "Telemetry").
/// </summary>
public static class TelemetryExtensions
{
    /// <summary>Where Prometheus scrapes each process.</summary>
    public const string ScrapePath = "/metrics";

    public static IHostApplicationBuilder AddRecommenderTelemetry(this IHostApplicationBuilder builder)
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            // The standard variable names a process (a replica, the trainer); without it, the app's own name.
            .ConfigureResource(r => r.AddService(builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : builder.Environment.ApplicationName))
            .WithMetrics(metrics => metrics
                .AddMeter(RecommenderMetrics.Name)
                .AddAspNetCoreInstrumentation()
                .AddNpgsqlInstrumentation()
                // Every scrape reads the instruments now: a cached answer would hide what a test or an operator just did.
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0))
            .WithTracing(tracing => tracing
                .AddSource(RecommenderMetrics.Name)
                // Scrapes and health probes arrive every few seconds and say nothing about the product.
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsProbe(context.Request.Path))
                .AddNpgsql());
        // The exporter reads the standard OTEL_EXPORTER_OTLP_* variables itself; without an endpoint nothing is sent.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            telemetry.UseOtlpExporter();
        return builder;
    }

    /// <summary>The Prometheus scrape, anonymous like <c>/health</c> unless turned off (<see cref="ServingOptions.PrometheusScraping"/>).</summary>
    public static IEndpointRouteBuilder MapRecommenderMetrics(this IEndpointRouteBuilder app)
    {
        var options = app.ServiceProvider.GetRequiredService<IConfiguration>().GetSection(ServingOptions.Section);
        if (!options.GetValue(nameof(ServingOptions.PrometheusScraping), new ServingOptions().PrometheusScraping))
            return app;
        app.MapPrometheusScrapingEndpoint(ScrapePath)
            // The exporter maps every method; a scrape is a GET, anything else is not found.
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get]))
            .AllowAnonymous()
            .WithName("PrometheusMetrics")
            .WithDisplayName("Prometheus metrics")
            .ExcludeFromDescription();
        return app;
    }

    /// <summary>Requests the overload limit and tracing leave alone: health probes and metric scrapes.</summary>
    public static bool IsProbe(PathString path) => path.StartsWithSegments("/health") || path.StartsWithSegments(ScrapePath);
}
