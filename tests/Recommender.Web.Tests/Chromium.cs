using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Recommender.Web.Tests;

/// <summary>Debian's Chromium, headless, never a downloaded browser; the flags keep it off this machine's closed network.</summary>
public static class Chromium
{
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        ArgumentNullException.ThrowIfNull(playwright);
        // Expectations wait as long as actions do (30 s), not 5 s: on a loaded CI machine a save and its answer took longer.
        Assertions.SetDefaultExpectTimeout(30_000);
        return playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }
}

/// <summary>A test class with its own Chromium, started before its first test and closed after its last.</summary>
public abstract class BrowserTest : IAsyncLifetime
{
    private IPlaywright _playwright = null!;

    protected IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync();
        Browser = await Chromium.LaunchAsync(_playwright);
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }

    /// <summary>A new page of the site at <paramref name="site"/>, <paramref name="width"/> pixels wide, signed in through the sign-in form.</summary>
    protected async Task<IPage> SignedInPageAsync(Uri site, string login, string password, int width = 1100, int height = 900, bool script = true)
    {
        ArgumentNullException.ThrowIfNull(site);
        // Without script the forms must still work as plain posts.
        var context = await Browser.NewContextAsync(new() { BaseURL = site.ToString(), ViewportSize = new() { Width = width, Height = height }, JavaScriptEnabled = script });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/sign-in");
        await page.GetByLabel("Login").FillAsync(login);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        return page;
    }
}

/// <summary>Waiting for a page to arrive at an address.</summary>
public static class Navigation
{
    /// <summary>
    /// Waits until the page's address matches <paramref name="pattern"/>. Blazor's enhanced navigation changes the address
    /// within the document, and Playwright's <c>WaitForURLAsync</c>, finding the address already there, then waits for a
    /// load event whatever <c>WaitUntil</c> says; under load that event sometimes never came within 30 s. The steps after
    /// an arrival wait for the elements they use.
    /// </summary>
    public static Task ArrivedAsync(this IPage page, string pattern) =>
        Assertions.Expect(page).ToHaveURLAsync(new Regex(pattern));
}
