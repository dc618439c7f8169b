using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Recommender.Data;
using Recommender.Serving;

namespace Recommender.Web.Tests;

/// <summary>
/// The reader's forms refuse a bad value the GOV.UK way, in a real Chromium: a summary at the top whose links go to the
/// fields and move focus to them, each message beside its field (the control pointing at it with
/// <c>aria-describedby</c>), the page's title starting "Error: ", what the reader sent still in the fields, and nothing
/// saved; then a good save still works.
/// The bad values are ones the page does not offer, so each is put into the page before it is sent, as a forged post would be.
/// </summary>
[Collection(WebCollection.Name)]
public sealed partial class FormErrorTests(WebFixture web) : BrowserTest
{
    /// <summary>A signed-in page; with <paramref name="script"/> off, the forms must work as plain posts.</summary>
    private Task<IPage> SignedInAsync(Account account, bool script = true) =>
        SignedInPageAsync(web.BaseAddress, account.Login, WebFixture.Password, script: script);

    private Task<UserSettings?> SavedAsync(Account account) => new SettingsStore(web.DataSource).GetAsync(account.Id);

    /// <summary>
    /// The message for field <paramref name="id"/> stands inside <paramref name="container"/> (its fieldset or form, beside
    /// the field), the control points at it, and the summary's link brings the control into view. A page that comes back
    /// from a refused post says "Error: " in its title (<paramref name="title"/>); the live page's title is not redrawn.
    /// </summary>
    private static async Task AssertBesideAsync(IPage page, string id, string container, string message, string summary, bool invalid = true, bool title = true)
    {
        if (title)
            await Assertions.Expect(page).ToHaveTitleAsync(new Regex("^Error: "));
        await Assertions.Expect(page.Locator($"{container} #{id}-error")).ToHaveTextAsync("Error: " + message);
        // The link names this page's own address (the layout's <base href="/"> would make a bare #field the feed's).
        var link = page.Locator($"#error-summary a[href$='#{id}']");
        Assert.StartsWith(new Uri(page.Url).PathAndQuery.TrimStart('/') + "#", await link.GetAttributeAsync("href"), StringComparison.Ordinal);
        await Assertions.Expect(link).ToHaveTextAsync(summary);
        await Assertions.Expect(page.Locator($"{container} #{id}")).ToHaveCountAsync(1);
        var address = page.Url;
        await page.EvaluateAsync("window.scrollTo(0, 0)");
        await link.ClickAsync();
        await page.ArrivedAsync(Regex.Escape(address.Split('#')[0]) + "#" + id + "$");
        await Assertions.Expect(page.Locator($"#{id}")).ToBeInViewportAsync();
        await Assertions.Expect(page.Locator($"{container} #{id}-error")).ToBeVisibleAsync();
        // Focus moves to the field too, so typing or Tab starts there: a browser does so following a fragment link itself,
        // but Blazor, which follows links within the page in script, only scrolled.
        await Assertions.Expect(page.Locator($"#{id}")).ToBeFocusedAsync();
        if (invalid)
            await Assertions.Expect(page.Locator($"#{id}")).ToHaveAttributeAsync("aria-invalid", "true");
    }

    [Fact]
    public async Task Welcome_refused_topic_and_goal_each_stand_beside_their_field_keep_the_choices_and_save_nothing()
    {
        var reader = await web.NewAccountAsync();
        var page = await SignedInAsync(reader);
        await page.ArrivedAsync("/welcome$");
        await page.GetByLabel("Physics").CheckAsync();
        await page.GetByLabel("Oceans").CheckAsync();
        await page.GetByRole(AriaRole.Radio, new() { Name = "Show me other perspectives" }).CheckAsync();
        // A topic the catalog lacks, sent in place of Oceans.
        await page.GetByLabel("Oceans").EvaluateAsync("box => box.value = 'Oceanz'");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show me my feed" }).ClickAsync();

        await page.ArrivedAsync("/welcome\\?refused=");
        const string unknown = "'Oceanz' is not a topic of the catalog; did you mean Oceans?";
        await AssertBesideAsync(page, "topics", "fieldset[aria-describedby='topics-error']", unknown, "Topics you care about: " + unknown, invalid: false);
        // What was sent stays chosen: the goal, and the topic the catalog has.
        await Assertions.Expect(page.GetByLabel("Physics")).ToBeCheckedAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Radio, new() { Name = "Show me other perspectives" })).ToBeCheckedAsync();
        Assert.Null(await SavedAsync(reader));

        // No goal at all (the radios require one, so the requirement is taken off first).
        await page.EvaluateAsync("document.querySelectorAll('input[name=objectiveId]').forEach(r => { r.required = false; r.checked = false; })");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show me my feed" }).ClickAsync();
        await page.ArrivedAsync("/welcome\\?refused=");
        await AssertBesideAsync(page, "objectiveId", "fieldset[aria-describedby='objectiveId-error']", "Please choose one of the goals.",
            "Your goal: Please choose one of the goals.", invalid: false);
        await Assertions.Expect(page.Locator("#topics-error")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByLabel("Physics")).ToBeCheckedAsync();
        Assert.Null(await SavedAsync(reader));

        // Corrected, it saves, and the page no longer says there is a problem.
        await page.GetByRole(AriaRole.Radio, new() { Name = "Show me other perspectives" }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Show me my feed" }).ClickAsync();
        await Assertions.Expect(page.Locator(".active-goal")).ToHaveTextAsync("Show me other perspectives");
        Assert.Equal("diversity", (await SavedAsync(reader))!.ObjectiveId);
        Assert.Equal(["Physics"], (await web.Services.GetRequiredService<SettingsService>().GetAsync(reader.Id)).Topics);
        await Assertions.Expect(page).Not.ToHaveTitleAsync(new Regex("^Error: "));
    }

    [Fact]
    public async Task Settings_refused_floor_and_topic_each_stand_beside_their_field_keep_what_was_sent_and_save_nothing()
    {
        var reader = await web.NewAccountAsync();
        (await web.OnboardedAsync(reader)).Dispose();
        var before = (await SavedAsync(reader))!.ParametersJson;
        var page = await SignedInAsync(reader);
        await page.GotoAsync("/settings");
        await Assertions.Expect(page.Locator("section[data-live=true]")).ToBeVisibleAsync();
        await Assertions.Expect(page).ToHaveTitleAsync("My goals · Recommender");
        await Assertions.Expect(page.Locator("#error-summary")).ToHaveCountAsync(0);

        // A floor the menu does not offer, and one more topic.
        await page.GetByLabel("Physics").CheckAsync();
        await page.Locator("#credibilityFloor").EvaluateAsync("menu => { menu.add(new Option('1.5', '1.5')); menu.value = '1.5'; }");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await page.ArrivedAsync("/settings\\?refused=");
        // The summary has focus once the page is live, as on a page that is not (the live render replaced the one loaded).
        await Assertions.Expect(page.Locator("section[data-live=true]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#error-summary")).ToBeFocusedAsync();
        await AssertBesideAsync(page, "credibilityFloor", "form[action='/me/settings']", "Credibility floor must be at most 1.", "Credibility floor must be at most 1.");
        await Assertions.Expect(page.Locator("#credibilityFloor")).ToHaveValueAsync("1.5");
        await Assertions.Expect(page.Locator("#credibilityFloor")).ToHaveAttributeAsync("aria-describedby", "credibilityFloor-error");
        await Assertions.Expect(page.GetByLabel("Physics")).ToBeCheckedAsync();
        await Assertions.Expect(page.GetByLabel("Oceans")).ToBeCheckedAsync();
        // The previews follow the topics sent, not a floor that would let nothing through.
        await Assertions.Expect(page.Locator("#goal-diversity ol.preview li")).ToHaveCountAsync(3);
        Assert.DoesNotContain("credibility_floor", await page.Locator("main").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(before, (await SavedAsync(reader))!.ParametersJson);

        // A topic the catalog lacks, in place of Physics.
        await Assertions.Expect(page.Locator("section[data-live=true]")).ToBeVisibleAsync();
        await page.Locator("#credibilityFloor").SelectOptionAsync("0.4");
        await page.GetByLabel("Physics").EvaluateAsync("box => box.value = 'Physiks'");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await page.ArrivedAsync("/settings\\?refused=");
        const string unknown = "'Physiks' is not a topic of the catalog; did you mean Physics?";
        await AssertBesideAsync(page, "topics", "fieldset[aria-describedby='topics-error']", unknown, "Topics: " + unknown, invalid: false);
        await Assertions.Expect(page.Locator("#credibilityFloor-error")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#credibilityFloor")).ToHaveValueAsync("0.4");
        await Assertions.Expect(page.GetByLabel("Oceans")).ToBeCheckedAsync();
        Assert.Equal(before, (await SavedAsync(reader))!.ParametersJson);

        // Corrected, it saves.
        await Assertions.Expect(page.Locator("section[data-live=true]")).ToBeVisibleAsync();
        await page.GetByLabel("Physics").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await page.ArrivedAsync("/settings\\?saved=1");
        await Assertions.Expect(page.Locator("#error-summary")).ToHaveCountAsync(0);
        var saved = Core.ObjectiveParameters.FromJson((await SavedAsync(reader))!.ParametersJson);
        Assert.Equal(0.4, saved.GetNumber("credibility_floor"));
        Assert.Equal(["Oceans", "Physics"], saved.GetTextList("topics"));
    }

    [Fact]
    public async Task Settings_refused_goal_card_says_so_beside_the_goal_cards_and_saves_nothing()
    {
        var reader = await web.NewAccountAsync();
        (await web.OnboardedAsync(reader)).Dispose();
        var page = await SignedInAsync(reader);
        await page.GotoAsync("/settings");
        await Assertions.Expect(page.Locator("section[data-live=true]")).ToBeVisibleAsync();
        await page.Locator("#goal-diversity input[name=objectiveId]").EvaluateAsync("goal => goal.value = 'no-such-goal'");
        await page.Locator("#goal-diversity button[type=submit]").ClickAsync();
        await page.ArrivedAsync("/settings\\?refused=");
        await AssertBesideAsync(page, "goal-choice", "section[aria-labelledby=goals]", "Please choose one of the goals.", "Your goal: Please choose one of the goals.", invalid: false);
        await Assertions.Expect(page.Locator("#goal-choice")).ToHaveAttributeAsync("aria-describedby", "goal-choice-error");
        Assert.Equal("learning", (await SavedAsync(reader))!.ObjectiveId);

        await page.Locator("#goal-diversity button[type=submit]").ClickAsync();
        await page.ArrivedAsync("changed=diversity");
        await Assertions.Expect(page.Locator("#error-summary")).ToHaveCountAsync(0);
        Assert.Equal("diversity", (await SavedAsync(reader))!.ObjectiveId);
    }

    [Fact]
    public async Task Settings_refused_mix_without_script_stands_beside_its_boxes_with_a_summary_and_keeps_what_was_typed()
    {
        var reader = await web.NewAccountAsync();
        (await web.OnboardedAsync(reader)).Dispose();
        var page = await SignedInAsync(reader, script: false);
        await page.GotoAsync("/settings");
        await page.Locator("#blend summary").ClickAsync();
        // A box out of range the browser itself refuses (min and max), so the bad mix is every weight 0: the mix's
        // problem, said above the first box, where the summary's link goes.
        foreach (var box in await page.Locator("#blend input[type=number]").AllAsync())
            await box.FillAsync("0");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save my mix" }).ClickAsync();
        await page.ArrivedAsync("/settings\\?mix=");
        const string nothing = "Give at least one goal a weight above 0: a mix of nothing would show you nothing.";
        await AssertBesideAsync(page, "learning_weight", "form[action='/me/blend']", nothing, nothing);
        await Assertions.Expect(page.Locator("#diversity_weight")).ToHaveValueAsync("0");
        Assert.Equal("learning", (await SavedAsync(reader))!.ObjectiveId);

        await page.Locator("#learning_weight").FillAsync("1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save my mix" }).ClickAsync();
        await page.ArrivedAsync("/settings\\?saved=1");
        await Assertions.Expect(page.Locator("#error-summary")).ToHaveCountAsync(0);
        Assert.Equal("blend", (await SavedAsync(reader))!.ObjectiveId);
    }

    [Fact]
    public async Task Settings_mix_typed_live_lists_its_problem_in_the_summary_until_fixed()
    {
        var reader = await web.NewAccountAsync();
        (await web.OnboardedAsync(reader)).Dispose();
        var page = await SignedInAsync(reader);
        await page.GotoAsync("/settings");
        await Assertions.Expect(page.Locator("section[data-live=true]")).ToBeVisibleAsync();
        await page.Locator("#blend summary").ClickAsync();
        await page.Locator("#diversity_weight").FillAsync("-1");
        const string below = "The weight of \u201cShow me other perspectives\u201d must be at least 0.";
        await AssertBesideAsync(page, "diversity_weight", "form[action='/me/blend']", below, below, title: false);
        await page.Locator("#diversity_weight").FillAsync("0.5");
        await Assertions.Expect(page.Locator("#error-summary")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#diversity_weight")).Not.ToHaveAttributeAsync("aria-invalid", "true");
    }

    [Fact]
    public async Task Audit_explorer_refused_filters_each_stand_beside_their_field_with_a_summary()
    {
        var page = await SignedInAsync(await web.NewAccountAsync("admin"));
        await page.ArrivedAsync("/admin$");

        // What a browser without a date picker lets someone type, and a goal only an edited address has.
        await page.GotoAsync("/admin/audit?who=&objective=bogus&from=7%2F12%2F2026&to=");

        await AssertBesideAsync(page, "objective", "form.filters", "“Goal” is not one of the goals; choose one from the menu, or any.",
            "“Goal” is not one of the goals; choose one from the menu, or any.");
        var from = await page.Locator("#from-error").TextContentAsync() ?? "";
        Assert.StartsWith("Error: Enter the from date as a date, for example ", from, StringComparison.Ordinal);
        await AssertBesideAsync(page, "from", "form.filters", from["Error: ".Length..], from["Error: ".Length..]);
        await Assertions.Expect(page.Locator("#to-error")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#no-lists")).ToHaveCountAsync(0);

        await page.GotoAsync("/admin/audit?record=030e3fa9");
        const string record = "“Record id” is not a record id: paste the id a page names, such as 01a24e0c-f461-7bc5-8e08-f08e030e3fa9.";
        await AssertBesideAsync(page, "record", "form[role=search]", record, record);
        await Assertions.Expect(page.Locator("#record")).ToHaveValueAsync("030e3fa9");

        // Corrected, the page lists and says nothing is wrong.
        await page.GotoAsync("/admin/audit?objective=diversity");
        await Assertions.Expect(page.Locator("#error-summary")).ToHaveCountAsync(0);
        await Assertions.Expect(page).Not.ToHaveTitleAsync(new Regex("^Error: "));
    }

    [Fact]
    public async Task Api_key_refused_name_and_scope_each_stand_beside_their_field_keep_what_was_sent_and_create_nothing()
    {
        var page = await SignedInAsync(await web.NewAccountAsync("admin"));
        await page.ArrivedAsync("/admin$");
        var keys = new ApiKeyStore(web.DataSource);
        var before = (await keys.ListAsync()).Count;
        await page.GotoAsync("/admin/api-keys");
        var create = page.GetByRole(AriaRole.Button, new() { Name = "Create the key" });

        var name = $"Typed {Guid.NewGuid():N}"[..20];
        await page.Locator("#name").FillAsync(name);
        await create.ClickAsync();
        await page.ArrivedAsync("/admin/api-keys\\?problem=scopes");
        const string scope = "Choose at least one thing the key may do.";
        await AssertBesideAsync(page, "scope", "fieldset[aria-describedby='scope-error']", scope, scope, invalid: false);
        await Assertions.Expect(page.Locator("#name")).ToHaveValueAsync(name);
        await Assertions.Expect(page.Locator("#name-error")).ToHaveCountAsync(0);
        Assert.Equal(before, (await keys.ListAsync()).Count);

        await page.Locator("#name").FillAsync("");
        await page.GetByLabel("feeds").CheckAsync();
        await create.ClickAsync();
        await page.ArrivedAsync("/admin/api-keys\\?problem=name");
        const string missing = "Say who the key is for, in 1 to 100 characters.";
        await AssertBesideAsync(page, "name", "form[action='/admin/do/create-api-key']", missing, missing);
        await Assertions.Expect(page.Locator("#scope-error")).ToHaveCountAsync(0);
        // The scope ticked is still ticked, so only the name needs doing again.
        await Assertions.Expect(page.GetByLabel("feeds")).ToBeCheckedAsync();
        await Assertions.Expect(page.GetByLabel("events")).Not.ToBeCheckedAsync();
        Assert.Equal(before, (await keys.ListAsync()).Count);

        await page.Locator("#name").FillAsync(name);
        await create.ClickAsync();
        await Assertions.Expect(page.Locator(".new-key input#new-key")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#error-summary")).ToHaveCountAsync(0);
        Assert.Equal(["feeds"], (await keys.ListAsync()).Single(k => k.Name == name).Scopes);
    }
}
