using Recommender.Service;
using Recommender.Serving;

var builder = WebApplication.CreateBuilder(args);
builder.AddRecommenderApi();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseSecurityHeaders();
app.UseApiBrowser();
app.UseEncodedRouteValues();
app.UseStorableText();
app.UseOriginCheck();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();
app.MapOpenApi().AllowAnonymous();
app.MapHealthChecks("/health", new() { ResponseWriter = HealthReportWriter.WriteAsync }).AllowAnonymous();
app.MapRecommenderMetrics();
app.MapAuthApi();
app.MapObjectivesApi();
app.MapMeApi();
app.MapAdminApi();
app.MapPlatformApi();
app.MapCatalogApi();
app.Run();

public partial class Program;
