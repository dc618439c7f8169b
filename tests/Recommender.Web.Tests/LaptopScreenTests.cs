namespace Recommender.Web.Tests;

/// <summary>
/// Admin pages as a laptop (1280 × 900) shows them, in a real Chromium: whether a table fits its box can only be measured
/// in a browser.
/// </summary>
[Collection(WebCollection.Name)]
public sealed class LaptopScreenTests(WebFixture web) : BrowserTest
{
    private const int Width = 1280, Height = 900;

    [Fact]
    public async Task Models_table_fits_its_box_on_a_laptop_with_rows_a_few_lines_tall()
    {
        var admin = await SignedInPageAsync(web.BaseAddress, (await web.NewAccountAsync("admin")).Login, WebFixture.Password, Width, Height);
        await admin.ArrivedAsync("/admin$");

        await admin.GotoAsync("/admin/models");

        var wrap = admin.Locator(".table-wrap:has(#models)");
        var widths = await wrap.EvaluateAsync<int[]>("e => [e.scrollWidth, e.clientWidth]");
        var (scrollWidth, clientWidth) = (widths[0], widths[1]);
        Assert.True(scrollWidth <= clientWidth, $"the models table is {scrollWidth} pixels wide in a box of {clientWidth}: it scrolls sideways on a laptop");
        Assert.True(await admin.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the models page scrolls sideways on a laptop");
        // Readable rows: the longest cell wraps to a few lines, not a word a line.
        var lineHeight = await admin.Locator("#models tbody td").First.EvaluateAsync<double>("e => parseFloat(getComputedStyle(e).lineHeight)");
        foreach (var row in await admin.Locator("#models tbody tr").AllAsync())
        {
            var box = (await row.BoundingBoxAsync())!;
            Assert.True(box.Height <= 5 * lineHeight, $"a models row is {box.Height} pixels tall, more than four lines of {lineHeight}");
        }
    }
}
