using System.Globalization;
using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Recommender.Core;
using Recommender.Serving;
using Recommender.Web.Components.Pages;
using Recommender.Web.Components.Shared;

namespace Recommender.Web.Tests;

/// <summary>
/// The reader's components on their own, rendered by bunit with the app's real services (objectives, stores on the test
/// database): a card and its reasons, the goal switch, the topic picker, and the live goals page.
/// </summary>
[Collection(WebCollection.Name)]
public sealed class ComponentTests : IDisposable
{
    private readonly WebFixture _web;
    private readonly BunitContext _context = new();
    private readonly BunitAuthorizationContext _authorization;

    public ComponentTests(WebFixture web)
    {
        _web = web;
        // Every service is registered before the first is resolved (setting the renderer's mode resolves some).
        _context.Services.AddFallbackServiceProvider(web.Services);
        _authorization = _context.AddAuthorization();
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        // The goals page renders as it does live: interactive, over the server's connection.
        _context.Renderer.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    public void Dispose() => _context.Dispose();

    [Fact]
    public void Settings_in_words_name_a_blend_weight_by_its_goal_and_a_sub_topic_as_its_card_does()
    {
        var objectives = _web.Services.GetRequiredService<ObjectiveRegistry>();
        var catalog = new Recommender.Core.Catalog([new ItemInfo(1, "a", "A", ["site/qubit"], null, null, null, null, null)],
            topicParents: new Dictionary<string, string> { ["site/qubit"] = "site" });

        var words = Explanations.Settings("""{"engagement_weight": 0.5, "topics": ["site/qubit"]}""", objectives, catalog);

        Assert.Contains("\u201cMore of what I enjoy\u201d: 0.5", words, StringComparison.Ordinal);
        Assert.Contains("topics: qubit", words, StringComparison.Ordinal);
        Assert.DoesNotContain("weight", words, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Served_list_reads_in_words_for_its_reader_and_as_stored_for_an_auditor()
    {
        var reader = await _web.NewAccountAsync();
        using (var client = await _web.OnboardedAsync(reader, "learning"))
            await client.PageAsync("/");
        await _web.FlushAuditAsync();
        var served = (await new Recommender.Data.ServedListStore(_web.DataSource).QueryAsync(new Recommender.Data.ServedListFilter(UserId: reader.Id, Limit: 1)))[0];
        var row = served with { ModelVersion = "popularity-8b21ca2803d3", ParametersJson = """{"floor_counts_verification":false,"target_success":0.6,"mastered_success":0.92,"topics":["Oceans"]}""" };
        var learning = _web.Services.GetRequiredService<ObjectiveRegistry>()["learning"];
        learning.Schema.TryGet("target_success", out var targetSuccess);
        learning.Schema.TryGet("mastered_success", out var masteredSuccess);

        var own = _context.Render<ServedListTable>(p => p.Add(c => c.Row, row));
        var audited = _context.Render<ServedListTable>(p => p.Add(c => c.Row, row).Add(c => c.ForAuditor, true));

        // The reader: each score part and setting in words, none of the names the audit log keeps.
        var ownText = own.Find("dl.facts").TextContent + own.Find("table.served").TextContent;
        foreach (var jargon in new[] { "topic_match", "zone_fit", "floor counts verification", "target success", "popularity-" })
            Assert.DoesNotContain(jargon, ownText, StringComparison.Ordinal);
        Assert.Contains("topic you chose", ownText, StringComparison.Ordinal);
        Assert.Contains("fits your level", ownText, StringComparison.Ordinal);
        Assert.Contains(own.FindAll("ul.settings-words li"), li => li.TextContent.StartsWith(Explanations.FirstSentence(targetSuccess!.Description), StringComparison.Ordinal) && li.TextContent.EndsWith("0.6", StringComparison.Ordinal));
        // A setting is named by its description's first sentence; what the form says about choosing none is not repeated.
        var topicsSetting = Assert.Single(own.FindAll("ul.settings-words li"), li => li.TextContent.StartsWith("Topics you want to learn about.", StringComparison.Ordinal));
        Assert.DoesNotContain("With none chosen", topicsSetting.TextContent, StringComparison.Ordinal);
        // Of the settings, only those the reader moved from the goal's defaults; of the machinery, only what it chose from.
        Assert.Equal(2, own.FindAll("ul.settings-words li").Count);
        Assert.DoesNotContain(masteredSuccess!.Description, ownText, StringComparison.Ordinal);
        Assert.DoesNotContain("Model", own.Find("dl.facts").TextContent, StringComparison.Ordinal);
        Assert.Contains($"{row.CandidatesConsidered.ToString("N0", CultureInfo.InvariantCulture)} items that could be shown", ownText, StringComparison.Ordinal);
        Assert.Empty(own.FindAll("code.params"));

        // The auditor: the goal with its id and version, apart; the settings in words, then labelled as stored.
        Assert.Equal($"Help me learn (learning, version {learning.Version})", System.Text.RegularExpressions.Regex.Replace(audited.FindAll("dl.facts dd")[0].TextContent, @"\s+", " ").Trim());
        Assert.StartsWith("As stored:", audited.Find(".settings-stored").TextContent.Trim(), StringComparison.Ordinal);
        Assert.Equal(row.ParametersJson, audited.Find(".settings-stored code.params").TextContent);
        Assert.Contains("topic_match", audited.Find("table.served").TextContent, StringComparison.Ordinal);
        // Both words: the reader's, to answer their complaint, and the log's name, to find it.
        Assert.All(audited.FindAll("li[data-component=zone_fit]"), li => Assert.StartsWith("fits your level (zone_fit)\u00A0", li.TextContent, StringComparison.Ordinal));
        Assert.NotEmpty(audited.FindAll("li[data-component=zone_fit]"));
        // The seed and each item's ids, which the title alone cannot tell apart; and that the parts add up to the score.
        Assert.Equal(served.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture), audited.Find("dd.seed").TextContent);
        Assert.Equal(served.ReadItems().Select(i => i.ItemId.ToString(System.Globalization.CultureInfo.InvariantCulture)), audited.FindAll("td.item-id code:first-child").Select(c => c.TextContent));
        Assert.Equal("Each item's score is the sum of the components shown beside it.", audited.Find("#score-sum").TextContent);
        Assert.Empty(own.FindAll("td.item-id, dd.seed, #score-sum"));

        // Scores in a column are written to one precision: "3.600" above "3.552", not "3.6".
        var items = System.Text.Json.Nodes.JsonNode.Parse(row.ItemsJson)!.AsArray();
        var scoreName = items[0]!.AsObject().Select(p => p.Key).Single(k => k.Equals("score", StringComparison.OrdinalIgnoreCase));
        items[0]![scoreName] = 3.6;
        var rounded = _context.Render<ServedListTable>(p => p.Add(c => c.Row, row with { ItemsJson = items.ToJsonString() }).Add(c => c.ForAuditor, true));
        var scores = rounded.FindAll("td.score").Select(td => td.TextContent).ToList();
        Assert.Equal("3.600", scores[0]);
        Assert.All(scores, text => Assert.Matches(@"^-?\d+\.\d{3}$", text));
    }

    [Fact]
    public async Task Served_list_writes_each_component_to_three_decimals_as_its_score()
    {
        // The audit record read "liked by many (popularity) 0.308" above "rounds out your mix of topics (calibration) 0.2",
        // beside a score of "0.675": three precisions in one cell and the next.
        var reader = await _web.NewAccountAsync();
        using (var client = await _web.OnboardedAsync(reader, "learning"))
            await client.PageAsync("/");
        await _web.FlushAuditAsync();
        var served = (await new Recommender.Data.ServedListStore(_web.DataSource).QueryAsync(new Recommender.Data.ServedListFilter(UserId: reader.Id, Limit: 1)))[0];
        var items = served.ReadItems();
        var first = items[0] with
        {
            Components = new Dictionary<string, double> { ["popularity"] = 0.3077258, ["calibration"] = 0.2, ["redundancy"] = -0.0, ["recency"] = 4.6487628E-33, ["topic_balance"] = -0.00004 },
        };
        var row = served with { ItemsJson = AuditRecordJson.WriteItems([first, .. items.Skip(1)]) };

        foreach (var forAuditor in new[] { true, false })
        {
            var table = _context.Render<ServedListTable>(p => p.Add(c => c.Row, row).Add(c => c.ForAuditor, forAuditor));
            string Figure(string component) => table.Find($"tr:first-child li[data-component={component}] span.num").TextContent;

            Assert.Equal(("0.308", "0.200", "0.000", "0.000", "0.000"), (Figure("popularity"), Figure("calibration"), Figure("redundancy"), Figure("recency"), Figure("topic_balance")));
            Assert.All(table.FindAll("li[data-component] span.num"), figure => Assert.Matches(@"^-?\d+\.\d{3}$", figure.TextContent));
        }
    }

    [Fact]
    public void Card_badge_level_and_reasons_follow_the_items_own_values_for_many_generated_items()
    {
        var objectives = _web.Services.GetRequiredService<ObjectiveRegistry>();
        var random = new Random(20261205);
        var components = new[] { "relevance", "zone_fit", "topic_match", "credibility", "recency", "novelty", "viewpoint", "calibration" };
        double?[] credibilities = [null, 0.1, 0.39, 0.4, 0.69, 0.7, 0.95];
        for (var n = 0; n < 200; n++)
        {
            var credibility = credibilities[random.Next(credibilities.Length)];
            int? level = random.Next(3) == 0 ? null : random.Next(1, 6);
            string[] topics = random.Next(4) == 0 ? [] : [.. new[] { "Oceans", "Physics", "Music" }.Where(_ => random.Next(2) == 0)];
            var info = new ItemInfo(n + 1, $"item-{n}", $"Item <b>{n}</b>", topics, level, "A source", credibility, Stance: null,
                PublishedAt: random.Next(2) == 0 ? null : DateTimeOffset.UnixEpoch);
            var scores = components.ToDictionary(c => c, _ => random.NextDouble() - 0.2);
            var chosen = topics.Length > 0 && random.Next(2) == 0 ? new[] { topics[0] } : [];
            var now = DateTimeOffset.UnixEpoch.AddDays(random.Next(0, 60));
            var reasons = WhyThis.MainFactors(scores, info, new Recommender.Core.Catalog([info]), chosen, (Taste)random.Next(4), objectives, now) is { } r ? new[] { r } : [];
            var item = new FeedItem(1, info.Id, info.ExternalId, info.Title, info.Topics, info.Source, credibility, level, null, info.PublishedAt, 1, scores, reasons);

            var card = _context.Render<FeedCard>(p => p.Add(c => c.Item, item).Add(c => c.ObjectiveName, "Help me learn"));

            var badge = card.Find(".badge").TextContent;
            Assert.Equal(WhyThis.CredibilityLabel(credibility), badge);
            // A place on the scale, not a judgement of the reader ("beginner") that nobody made.
            Assert.Equal(level is { } l ? $"level {l} of 5" : "level not known", card.Find(".level").TextContent);
            Assert.Equal(info.Title, card.Find("h2").TextContent);
            Assert.Equal(reasons, card.FindAll(".reason").Select(e => e.TextContent));
            var why = card.Find(".why").TextContent;
            Assert.True(!why.Contains("credible source", StringComparison.Ordinal) || badge == "credible source", why);
            Assert.True(!why.Contains("right level", StringComparison.Ordinal) || level is not null, why);
            Assert.True(!why.Contains("a topic you chose", StringComparison.Ordinal) || chosen.Any(t => why.Contains(t, StringComparison.Ordinal)), why);
            Assert.True(!why.Contains("it is recent", StringComparison.Ordinal) || now - info.PublishedAt <= WhyThis.RecentWithin, why);
        }
    }

    [Fact]
    public void Card_of_an_item_added_without_a_source_says_it_names_none_rather_than_an_unknown_one()
    {
        // A platform's PUT /api/platform/items/{id} needs only a title: the card read "Unknown source", with a badge whose
        // hover said "Source credibility unknown on a 0–1 scale".
        FeedItem Item(string? source, double? credibility) => new(1, 1, "new-1", "Writing your first Plutus validator", ["Oceans"], source, credibility, 2, null, null, 1,
            new Dictionary<string, double>(), ["New: no one has read it yet, so it is scored like other items on Oceans."]);
        string Source(FeedItem item) => _context.Render<FeedCard>(p => p.Add(c => c.Item, item).Add(c => c.ObjectiveName, "Help me learn")).Find(".meta .source").TextContent;
        string Badge(FeedItem item) => _context.Render<FeedCard>(p => p.Add(c => c.Item, item).Add(c => c.ObjectiveName, "Help me learn")).Find(".meta .badge").GetAttribute("title")!;

        Assert.Equal(("No source given", "It names no source, so there is no source's credibility to go by"), (Source(Item(null, null)), Badge(Item(null, null))));
        Assert.Equal(("A source", "Its source has no credibility rating yet"), (Source(Item("A source", null)), Badge(Item("A source", null))));
        Assert.Equal("Source credibility 0.58 on a 0–1 scale", Badge(Item("A source", 0.58)));
    }

    [Fact]
    public void Card_reasons_stand_apart_in_the_text_itself_as_copied_or_read_aloud()
    {
        var item = new FeedItem(1, 1, "item-1", "Item 1", [], "A source", 0.8, 2, null, null, 1, new Dictionary<string, double>(),
            ["On oceans.", "Mostly because it is new to you."]);

        var card = _context.Render<FeedCard>(p => p.Add(c => c.Item, item).Add(c => c.ObjectiveName, "Help me learn"));

        Assert.Contains("On oceans. Mostly because", card.Find(".why").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_topics_says_when_items_outside_the_chosen_topics_fill_the_page()
    {
        FeedItem Shown(long id, params string[] topics) =>
            new(1, id, $"item-{id}", $"Item {id}", topics, "A source", 0.8, 2, null, null, 1, new Dictionary<string, double>(), ["On it."]);
        IReadOnlyList<string> chosen = ["Oceans"];

        var onTopic = _context.Render<MissingTopics>(p => p.Add(c => c.Chosen, chosen).Add(c => c.Shown, [Shown(1, "Oceans"), Shown(2, "Oceans", "Music")]));
        var filled = _context.Render<MissingTopics>(p => p.Add(c => c.Chosen, chosen).Add(c => c.Shown, [Shown(1, "Oceans"), Shown(2, "Music")]));

        Assert.Empty(onTopic.FindAll(".missing-topics"));
        Assert.Contains("outside the topics you chose", filled.Find(".missing-topics").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_topics_says_once_which_chosen_topic_a_balancing_goal_shows_fewer_of_than_its_share()
    {
        FeedItem Shown(long id, params string[] topics) =>
            new(1, id, $"item-{id}", $"Item {id}", topics, "A source", 0.8, 2, null, null, 1, new Dictionary<string, double>(), ["On it."]);
        IReadOnlyList<string> chosen = ["Oceans", "Music"];
        // Two of ten on oceans where each topic is owed five; one card on both counts for both.
        List<FeedItem> page = [Shown(1, "Oceans"), Shown(2, "Oceans", "Music"), .. Enumerable.Range(3, 8).Select(id => Shown(id, "Music"))];
        List<FeedItem> even = [.. Enumerable.Range(1, 10).Select(id => Shown(id, id % 2 == 0 ? "Oceans" : "Music"))];

        var balanced = _context.Render<MissingTopics>(p => p.Add(c => c.Chosen, chosen).Add(c => c.Shown, page).Add(c => c.Balanced, true));
        var unbalanced = _context.Render<MissingTopics>(p => p.Add(c => c.Chosen, chosen).Add(c => c.Shown, page));
        var evenPage = _context.Render<MissingTopics>(p => p.Add(c => c.Chosen, chosen).Add(c => c.Shown, even).Add(c => c.Balanced, true));

        Assert.Equal(["Only 2 of these 10 items are on “Oceans”: there is little more on it at your level just now."],
            balanced.FindAll(".missing-topics li").Select(li => li.TextContent));
        // A goal that does not promise a share says nothing about one; an even page needs no note.
        Assert.Empty(unbalanced.FindAll(".missing-topics"));
        Assert.Empty(evenPage.FindAll(".missing-topics"));
    }

    [Fact]
    public void Missing_topics_says_what_the_readers_items_on_a_short_or_missing_topic_are()
    {
        FeedItem Shown(long id, params string[] topics) =>
            new(1, id, $"item-{id}", $"Item {id}", topics, "A source", 0.8, 2, null, null, 1, new Dictionary<string, double>(), ["On it."]);
        IReadOnlyList<string> chosen = ["Oceans", "Music", "Physics"];
        List<FeedItem> page = [Shown(1, "Oceans"), .. Enumerable.Range(2, 9).Select(id => Shown(id, "Music"))];
        var supply = new Dictionary<string, TopicSupply>
        {
            ["Oceans"] = new("Oceans", 14, 9, 0, 1, 2),
            ["Music"] = new("Music", 40, 0, 0, 0, 0),
            ["Physics"] = new("Physics", 3, 2, 1, 0, 0),
        };
        // Nothing rules the short topic's items out: the general reason stands.
        var unexplained = new Dictionary<string, TopicSupply>(supply) { ["Oceans"] = new("Oceans", 14, 0, 0, 0, 0) };

        var notes = _context.Render<MissingTopics>(p => p.Add(c => c.Chosen, chosen).Add(c => c.Shown, page).Add(c => c.Balanced, true)
            .Add(c => c.CredibilityFloor, 0.4).Add(c => c.Supply, supply));
        var general = _context.Render<MissingTopics>(p => p.Add(c => c.Chosen, chosen).Add(c => c.Shown, page).Add(c => c.Balanced, true)
            .Add(c => c.CredibilityFloor, 0.4).Add(c => c.Supply, unexplained));

        Assert.Equal(
        [
            "Nothing here on “Physics”: of its 3 items, 2 you have read or dismissed and 1 comes from sources below your credibility floor.",
            "Only 1 of these 10 items is on “Oceans”: of its 14 items, 9 you have read or dismissed, 1 you know well already and 2 are well above your level for now.",
        ], notes.FindAll(".missing-topics li").Select(li => li.TextContent));
        Assert.Contains("Only 1 of these 10 items is on “Oceans”: there is little more on it at your level just now.",
            general.FindAll(".missing-topics li").Select(li => li.TextContent));
        var allAbove = _context.Render<MissingTopics>(p => p.Add(c => c.Chosen, chosen).Add(c => c.Shown, page).Add(c => c.Balanced, true)
            .Add(c => c.Supply, new Dictionary<string, TopicSupply>(supply) { ["Oceans"] = new("Oceans", 3, 0, 0, 0, 3) }));
        Assert.Contains("Only 1 of these 10 items is on “Oceans”: of its 3 items, all are well above your level for now.",
            allAbove.FindAll(".missing-topics li").Select(li => li.TextContent));
        Assert.True(MissingTopics.NotesATopic(chosen, page, balanced: true));
        Assert.False(MissingTopics.NotesATopic(["Music"], page, balanced: true));
    }

    [Fact]
    public void Goal_switch_names_the_active_goal_and_offers_each_other_goal_as_a_plain_form_post()
    {
        var objectives = _web.Services.GetRequiredService<ObjectiveRegistry>();
        var bar = _context.Render<GoalSwitch>(p => p.Add(c => c.ActiveId, "diversity").Add(c => c.ReturnUrl, "/?cursor=abc"));

        Assert.Equal(objectives["diversity"].DisplayName, bar.Find(".active-goal").TextContent);
        // A plain sentence: the goal's name, then what it does.
        Assert.StartsWith($"Your goal: {objectives["diversity"].DisplayName}. {objectives["diversity"].Description}",
            string.Join(' ', bar.Find(".goalbar p").TextContent.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        var forms = bar.FindAll("form");
        var offered = forms.Select(f => f.QuerySelector("input[name=objectiveId]")!.GetAttribute("value")).ToList();
        Assert.Equal(objectives.All.Select(o => o.Id).Where(id => id != "diversity").Order(StringComparer.Ordinal), offered.Order(StringComparer.Ordinal));
        Assert.All(forms, f =>
        {
            Assert.Equal("post", f.GetAttribute("method"));
            Assert.Equal("/me/goal", f.GetAttribute("action"));
            Assert.Equal("/?cursor=abc", f.QuerySelector("input[name=returnUrl]")!.GetAttribute("value"));
        });
    }

    [Fact]
    public void Topic_picker_folds_a_large_subject_but_keeps_every_chosen_topic_in_view_with_one_box_each()
    {
        var tags = Enumerable.Range(0, 40).Select(i => $"site/tag{i:00}").ToList();
        var items = tags.SelectMany((tag, i) => Enumerable.Range(0, i + 1).Select(k => (tag, k)))
            .Select((x, id) => new ItemInfo(id + 1, $"i{id}", $"Item {id}", ["site", x.tag], null, null, null, null, null)).ToList();
        var catalog = new Core.Catalog(items, topicParents: tags.ToDictionary(t => t, _ => "site"));
        var chosen = new HashSet<string> { "site/tag00" };

        var picker = _context.Render<TopicPicker>(p => p.Add(c => c.Catalog, catalog).Add(c => c.Chosen, chosen));

        var boxes = picker.FindAll("input[name=topics]").Select(i => i.GetAttribute("value")!).ToList();
        Assert.Equal(boxes.Count, boxes.Distinct().Count());
        Assert.Equal(["site", .. tags], boxes.Order(StringComparer.Ordinal));
        var inView = picker.FindAll("fieldset > .topics-grid input").Select(i => i.GetAttribute("value")!).ToList();
        // The most common topics (the highest numbers carry the most items) and the chosen one, even though it is the rarest.
        Assert.Contains("site/tag39", inView);
        Assert.Contains("site/tag00", inView);
        Assert.Equal(TopicPicker.Shown + 1, inView.Count);
        Assert.True(picker.Find("input[value='site/tag00']").HasAttribute("checked"));
        Assert.Contains($"{tags.Count - TopicPicker.Shown - 1} more topics in site", picker.Find("details summary").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Topic_picker_counts_a_subject_as_the_catalog_page_does()
    {
        // A subject of 1,200 items (the demo's Cardano has 1,042) and one of a single item.
        var items = Enumerable.Range(1, 1200).Select(id => new ItemInfo(id, $"i{id}", $"Item {id}", ["big", "big/tag"], null, null, null, null, null))
            .Append(new ItemInfo(1201, "i1201", "Item 1201", ["small", "small/tag"], null, null, null, null, null)).ToList();
        var catalog = new Core.Catalog(items, topicParents: new Dictionary<string, string> { ["big/tag"] = "big", ["small/tag"] = "small" });

        var picker = _context.Render<TopicPicker>(p => p.Add(c => c.Catalog, catalog).Add(c => c.Chosen, new HashSet<string>()));

        Assert.Equal(["All of big · 1,200 items", "All of small · 1 item"],
            picker.FindAll("fieldset.topic-group > legend").Select(l => System.Text.RegularExpressions.Regex.Replace(l.TextContent, @"\s+", " ").Trim()));
    }

    [Fact]
    public async Task Goals_page_previews_follow_a_topic_change_and_a_mix_of_nothing_disables_saving()
    {
        var reader = await _web.NewAccountAsync();
        (await _web.OnboardedAsync(reader, "learning")).Dispose();
        _authorization.SetAuthorized(reader.Login).SetClaims(new Claim(ClaimTypes.NameIdentifier, reader.Id.ToString(CultureInfo.InvariantCulture)));

        var page = _context.Render<Settings>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("#goal-learning ol.preview li")), TimeSpan.FromSeconds(30));
        var before = page.Find("#goal-learning ol.preview").TextContent;
        Assert.True(page.Find("section[aria-labelledby=tune] input[value='Oceans']").HasAttribute("checked"));

        // Each change is awaited until the page has handled it, then the page is read once it has rendered again.
        await page.Find("section[aria-labelledby=tune] input[value='Music']").ChangeAsync(new ChangeEventArgs { Value = true });
        await page.Find("section[aria-labelledby=tune] input[value='Oceans']").ChangeAsync(new ChangeEventArgs { Value = false });
        page.WaitForAssertion(() =>
        {
            var after = page.Find("#goal-learning ol.preview").TextContent;
            Assert.NotEqual(before, after);
            Assert.Contains("Music", after, StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(30));

        // A weight out of range is named by its goal beside its box, and the preview says why it shows nothing.
        await page.Find("#blend input[name='engagement_weight']").InputAsync(new ChangeEventArgs { Value = "7" });
        page.WaitForAssertion(() =>
        {
            Assert.Equal("The weight of \u201cMore of what I enjoy\u201d must be at most 1.", page.Find("#engagement_weight-error").TextContent.Replace("Error: ", "", StringComparison.Ordinal));
            Assert.Equal("true", page.Find("#engagement_weight").GetAttribute("aria-invalid"));
            Assert.Contains("Fix the weights marked below", page.Find("#blend-preview-empty").TextContent, StringComparison.Ordinal);
            Assert.Empty(page.FindAll("#blend ol.preview li"));
            Assert.DoesNotContain("engagement_weight", page.Find("#blend").TextContent, StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(30));
        await page.Find("#blend input[name='engagement_weight']").InputAsync(new ChangeEventArgs { Value = "0.5" });
        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("#blend ol.preview li").Count), TimeSpan.FromSeconds(30));

        foreach (var name in page.FindAll("#blend input[type=number]").Select(i => i.GetAttribute("name")).ToList())
            await page.Find($"#blend input[name='{name}']").InputAsync(new ChangeEventArgs { Value = "0" });
        page.WaitForAssertion(() =>
        {
            Assert.Contains("at least one goal a weight above 0", page.Find("#blend .field-error").TextContent, StringComparison.Ordinal);
            Assert.Contains("at least one goal a weight above 0", page.Find("#blend-preview-empty").TextContent, StringComparison.Ordinal);
            Assert.True(page.Find("#blend button[type=submit]").HasAttribute("disabled"));
        }, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Goals_page_drops_the_done_message_once_the_reader_edits_again()
    {
        var reader = await _web.NewAccountAsync();
        (await _web.OnboardedAsync(reader, "learning")).Dispose();
        _authorization.SetAuthorized(reader.Login).SetClaims(new Claim(ClaimTypes.NameIdentifier, reader.Id.ToString(CultureInfo.InvariantCulture)));
        _context.Services.GetRequiredService<NavigationManager>().NavigateTo("/settings?changed=learning");

        var page = _context.Render<Settings>();
        page.WaitForAssertion(() => Assert.Contains("Done", page.Find(".flash.ok").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(30));

        await page.Find("section[aria-labelledby=tune] input[value='Music']").ChangeAsync(new ChangeEventArgs { Value = true });
        page.WaitForAssertion(() =>
        {
            Assert.Contains("Save to make them your feed's", page.Find("section[aria-labelledby=tune] [role=status]").TextContent, StringComparison.Ordinal);
            Assert.Empty(page.FindAll(".flash.ok"));
        }, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Status_page_for_a_code_without_words_of_its_own_says_only_the_code()
    {
        var http = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        http.Response.StatusCode = 418;
        http.Features.Set<Microsoft.AspNetCore.Diagnostics.IStatusCodeReExecuteFeature>(new Microsoft.AspNetCore.Diagnostics.StatusCodeReExecuteFeature());

        var page = _context.Render<StatusPage>(p => p.Add(c => c.Code, 418).AddCascadingValue(http));

        Assert.Equal("This page could not be shown", page.Find("h1").TextContent);
        Assert.Contains("code 418", page.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain("Nothing you saved was lost", page.Markup, StringComparison.Ordinal);
        Assert.Equal(418, http.Response.StatusCode);
    }

    [Fact]
    public void Error_page_promises_nothing_it_cannot_know_and_gives_a_reference_to_quote()
    {
        System.Diagnostics.Activity.Current = null;
        var http = new Microsoft.AspNetCore.Http.DefaultHttpContext { TraceIdentifier = "0HNREFERENCE:00000001" };
        http.Features.Set<Microsoft.AspNetCore.Diagnostics.IExceptionHandlerPathFeature>(new Microsoft.AspNetCore.Diagnostics.ExceptionHandlerFeature
        {
            Error = new InvalidOperationException("boom at /secret/stack"),
            Path = "/settings",
        });

        var page = _context.Render<Error>(p => p.AddCascadingValue(http));

        Assert.DoesNotContain("Nothing you saved was lost", page.Markup, StringComparison.Ordinal);
        Assert.Contains("it may or may not have been done", page.Markup, StringComparison.Ordinal);
        Assert.Equal("0HNREFERENCE:00000001", page.Find("code.reference").TextContent);
        Assert.DoesNotContain("boom", page.Markup, StringComparison.Ordinal);
    }
}
