using Recommender.Data;
using Recommender.Service;

var builder = WebApplication.CreateBuilder(args);
builder.AddRecommenderData();
builder.Services.AddProblemDetails();
builder.Services.AddOpenApi();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapOpenApi();
app.MapHealthChecks("/health");
app.MapCatalogApi();
app.Run();

public partial class Program;
