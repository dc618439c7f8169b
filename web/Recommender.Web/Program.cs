using Recommender.Web;

var builder = WebApplication.CreateBuilder(args);
builder.AddRecommenderWeb();

var app = builder.Build();
app.UseRecommenderWeb();
app.Run();

public partial class Program;
