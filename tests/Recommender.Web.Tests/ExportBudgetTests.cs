using System.Net;

namespace Recommender.Web.Tests;

/// <summary>The export past the privacy budget, on a database of its own: it uses up the budget other tests spend from.</summary>
public sealed class ExportBudgetTests(WebFixture web) : IClassFixture<WebFixture>
{
    [Fact]
    public async Task Export_past_the_budget_is_refused_on_the_report_from_the_budget_and_spends_nothing()
    {
        using var client = web.NewClient();
        await client.SignInAsync(await web.NewAccountAsync("admin"));
        var token = await client.TokenAsync("/admin/report");
        using (var most = await client.PostAsync("/admin/do/export", [("__RequestVerificationToken", token), ("epsilon", "9.5"), ("days", "7"), ("confirmed", "yes")]))
            Assert.Equal(HttpStatusCode.OK, most.StatusCode);

        using var refused = await client.PostAsync("/admin/do/export", [("__RequestVerificationToken", token), ("epsilon", "2"), ("days", "7"), ("confirmed", "yes")]);

        Assert.Equal("/admin/report?days=7&spend=2#export", refused.Headers.Location?.OriginalString);
        var (_, page, _) = await client.PageAsync(refused.Headers.Location!.OriginalString);
        Assert.Equal("Nothing was exported or spent: ε = 2 is more than the 0.5 left. Choose a smaller ε.", page.QuerySelector("#export ~ [role=alert]")!.TextContent);
        // No step offers to spend what is not there.
        Assert.Empty(page.QuerySelectorAll(".confirm"));
        Assert.Contains("ε = 9.5 of 10 spent; 0.5 left", string.Join(' ', page.QuerySelector(".budget")!.TextContent.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }
}
