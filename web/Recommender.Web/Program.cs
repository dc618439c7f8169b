using Recommender.Serving;
using Recommender.Web.Components;

var builder = WebApplication.CreateBuilder(args);
builder.AddRecommenderServing();
builder.Services.AddRazorComponents();

var app = builder.Build();
if (!app.Environment.IsDevelopment())
    app.UseExceptionHandler("/error", createScopeForErrors: true);
app.UseAntiforgery();
app.MapStaticAssets();
app.MapHealthChecks("/health");
app.MapRazorComponents<App>();
app.Run();

public partial class Program;
