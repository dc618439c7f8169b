using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Recommender.Data;

namespace Recommender.Web.Tests;

/// <summary>The site from the keyboard, in a real Chromium: where Tab goes and what focus looks like.</summary>
[Collection(WebCollection.Name)]
public sealed partial class KeyboardTests(WebFixture web) : BrowserTest
{
    private Task<IPage> SignedInPageAsync(Account account) => SignedInPageAsync(web.BaseAddress, account.Login, WebFixture.Password);

    private static Task<string> FocusedAsync(IPage page) =>
        page.EvaluateAsync<string>("(() => { const e = document.activeElement; return e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''); })()");

    [Fact]
    public async Task Page_opened_afresh_reaches_the_skip_link_first_and_a_link_followed_focuses_the_heading_without_a_ring()
    {
        var reader = await web.NewAccountAsync();
        (await web.OnboardedAsync(reader)).Dispose();
        var page = await SignedInPageAsync(reader);
        await page.ArrivedAsync("/$");

        foreach (var path in new[] { "/", "/catalog", "/settings" })
        {
            await page.GotoAsync(path);
            await Assertions.Expect(page.Locator("h1")).ToBeVisibleAsync();
            Assert.Equal("body", await FocusedAsync(page));
            await page.Keyboard.PressAsync("Tab");
            Assert.True(await FocusedAsync(page) == "a.skip", $"{path}: the first Tab went to {await FocusedAsync(page)}");
            // Followed, it stays on this page: under the layout's <base href="/"> a bare "#content" led to the feed.
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex($"{Regex.Escape(path.TrimStart('/'))}#content$"));
            Assert.Equal(path, new Uri(page.Url).AbsolutePath);
        }

        // Within the site the page is swapped in place; the new page's heading takes focus, for a screen reader to announce.
        await page.GotoAsync("/");
        await page.Locator("nav.menu a[href='/catalog']").ClickAsync();
        await page.ArrivedAsync("/catalog$");
        await Assertions.Expect(page.Locator("h1")).ToBeFocusedAsync();
        Assert.Equal("none", await page.EvaluateAsync<string>("getComputedStyle(document.activeElement).outlineStyle"));
    }

    [Fact]
    public async Task Provenance_mark_opens_its_explanation_from_the_keyboard_and_the_focus_ring_stands_out_on_every_background()
    {
        var reader = await web.NewAccountAsync();
        (await web.OnboardedAsync(reader)).Dispose();
        var page = await SignedInPageAsync(reader);
        await page.ArrivedAsync("/$");
        await Assertions.Expect(page.Locator("article.card .prov").First).ToBeVisibleAsync();
        // Each mark stays within its card's line of details.
        Assert.Equal(await page.Locator("article.card").CountAsync(), await page.Locator("article.card p.meta .prov").CountAsync());

        var reached = false;
        for (var i = 0; i < 100 && !reached; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            reached = await page.EvaluateAsync<bool>("document.activeElement?.matches('.prov button') ?? false");
        }
        Assert.True(reached, "no provenance mark is reached with Tab");

        // WCAG 1.4.11: the ring at least 3:1 against the page, the goal bar and a card's reasons box.
        Assert.Equal("3px solid", await page.EvaluateAsync<string>("(() => { const s = getComputedStyle(document.activeElement); return s.outlineWidth + ' ' + s.outlineStyle; })()"));
        var ring = await page.EvaluateAsync<string>("getComputedStyle(document.activeElement).outlineColor");
        foreach (var background in new[] { "body", ".goalbar", "article.card .why" })
        {
            var colour = await page.EvaluateAsync<string>($"getComputedStyle(document.querySelector('{background}')).backgroundColor");
            var contrast = Contrast(ring, colour == "rgba(0, 0, 0, 0)" ? "rgb(255, 255, 255)" : colour);
            Assert.True(contrast >= 3, $"the focus ring {ring} is {contrast:0.00}:1 on {background} ({colour})");
        }

        // Enter opens the explanation where the mark is; it is not read out before.
        var mark = page.Locator(".prov:has(button:focus)");
        await Assertions.Expect(mark.Locator(".prov-text")).ToBeHiddenAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(mark.Locator(".prov-text")).ToBeVisibleAsync();
        Assert.Contains("sign", await mark.Locator(".prov-text").InnerTextAsync(), StringComparison.Ordinal);
        // Under its mark, not in the middle of the window.
        var button = (await mark.Locator("button").BoundingBoxAsync())!;
        var text = (await mark.Locator(".prov-text").BoundingBoxAsync())!;
        Assert.InRange(text.Y - (button.Y + button.Height), 0, 16);

        // The catalog's fifty marks: no focusable span, and no long explanation read out until one is opened.
        await page.GotoAsync("/catalog");
        Assert.True(await page.Locator("li.item .prov").CountAsync() > 0);
        Assert.Equal(0, await page.Locator("[tabindex='0']").CountAsync());
        Assert.Equal(0, await page.Locator("li.item .prov-text:visible").CountAsync());
    }

    [Fact]
    public async Task Changing_a_role_from_the_keyboard_puts_focus_on_the_question_so_the_next_tab_reaches_its_answer()
    {
        var person = await web.NewAccountAsync();
        var page = await SignedInPageAsync(await web.NewAccountAsync("admin"));
        await page.ArrivedAsync("/admin$");
        await page.GotoAsync($"/admin/users?q={person.Login}");

        // The role menu and its button, from the keyboard.
        var row = page.Locator($"#users tr:has(td.login:text-is('{person.Login}'))");
        await row.Locator("select").FocusAsync();
        await page.Keyboard.PressAsync("ArrowDown");
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("button", await FocusedAsync(page));
        await page.Keyboard.PressAsync("Enter");

        // The page that asks opened with nothing focused: Tab went to "Skip to content", and the answer was 16 stops away.
        var question = page.Locator("section.confirm");
        await Assertions.Expect(question.Locator("h2")).ToContainTextAsync("an admin?");
        await Assertions.Expect(question).ToBeFocusedAsync();
        Assert.Equal("3px solid", await question.EvaluateAsync<string>("e => { const s = getComputedStyle(e); return s.outlineWidth + ' ' + s.outlineStyle; }"));
        await page.Keyboard.PressAsync("Tab");
        await Assertions.Expect(question.Locator("button.primary")).ToBeFocusedAsync();
    }

    /// <summary>WCAG's contrast ratio of two CSS <c>rgb(…)</c> colours.</summary>
    private static double Contrast(string a, string b)
    {
        static double Luminance(string css)
        {
            var c = RgbPattern().Match(css).Groups.Values.Skip(1).Select(g => double.Parse(g.Value, CultureInfo.InvariantCulture) / 255)
                .Select(v => v <= 0.03928 ? v / 12.92 : Math.Pow((v + 0.055) / 1.055, 2.4)).ToArray();
            return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
        }
        var (la, lb) = (Luminance(a), Luminance(b));
        return (Math.Max(la, lb) + 0.05) / (Math.Min(la, lb) + 0.05);
    }

    [GeneratedRegex(@"rgba?\((\d+), (\d+), (\d+)")]
    private static partial Regex RgbPattern();
}
