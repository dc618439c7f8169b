using System.Diagnostics;
using Dapper;
using Recommender.Data;
using Recommender.Data.Import;
using Recommender.Testing;
using Recommender.Training;

namespace Recommender.Cli.Tests;

/// <summary>
/// The <c>recommender</c> command as a person or a script runs it: a separate process with arguments, standard input,
/// output and an exit code, against a test database of its own.
/// </summary>
public sealed class CliTests : IAsyncLifetime
{
    private const string Password = "a long enough cli password";
    private readonly TestDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task Import_a_bad_row_exits_2_naming_file_and_line_and_stores_nothing()
    {
        var folder = Directory.CreateTempSubdirectory("recommender-cli-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "items.csv"),
                "item_id,title,level,topics\na1,Tides,2,Oceans\na2,Waves,3,Oceans\na3,Storms,9,Oceans\n");

            var bad = await RunAsync(null, "import", "generic", folder);
            var before = await CountAsync("items");
            await File.WriteAllTextAsync(Path.Combine(folder, "items.csv"),
                "item_id,title,level,topics\na1,Tides,2,Oceans\na2,Waves,3,Oceans\na3,Storms,4,Oceans\n");
            var good = await RunAsync(null, "import", "generic", folder);

            Assert.Equal(2, bad.Exit);
            Assert.Contains("items.csv:4", bad.Output, StringComparison.Ordinal);
            Assert.Equal(0, before);
            Assert.Equal(0, good.Exit);
            // Progress is for a terminal: redirected, no stale "reading files: 0%" line before the summary.
            Assert.StartsWith("read 3 rows", good.Output, StringComparison.Ordinal);
            Assert.Equal(3, await CountAsync("items"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Import_of_topics_and_sources_alone_stores_them_so_the_platform_api_can_name_them()
    {
        // The platform API's item PUT takes only topics the catalog has, and only an import adds topics.
        var folder = Directory.CreateTempSubdirectory("recommender-cli-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "topics.csv"), "topic,parent,title\nk8s,,Kubernetes\nk8s/networking,k8s,\n");
            await File.WriteAllTextAsync(Path.Combine(folder, "sources.csv"), "source_id,name,credibility\ndocs,Official Docs,0.95\n");

            var run = await RunAsync(null, "import", "generic", folder);

            Assert.True(run.Exit == 0, run.Output);
            Assert.Equal((2L, 1L, 0L), (await CountAsync("topics"), await CountAsync("sources"), await CountAsync("items")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Import_refuses_a_new_topic_that_is_a_near_miss_of_a_known_one_and_names_every_topic_items_created()
    {
        var folder = Directory.CreateTempSubdirectory("recommender-cli-").FullName;
        var alone = Directory.CreateTempSubdirectory("recommender-cli-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "topics.csv"), "topic,parent\nk8s,\nk8s/networking,k8s\n");
            await File.WriteAllTextAsync(Path.Combine(folder, "items.csv"),
                "item_id,title,topics\na1,Services,k8s/networking\na2,Volumes,k8s/storage\na3,Ingress,k8s/netwroking\na4,Python,python3\n");
            var misspelt = await RunAsync(null, "import", "generic", folder);
            var storedAfterRefusal = (await CountAsync("topics"), await CountAsync("items"));
            // Within one import: the topic more items name is taken as meant, the rarer near miss refused.
            await File.WriteAllTextAsync(Path.Combine(alone, "items.csv"), "item_id,title,topics\nb1,Pods,k8s/pods\nb2,Pod,k8s/pod\nb3,Pods again,k8s/pods\n");
            var withinImport = await RunAsync(null, "import", "generic", alone);
            await File.WriteAllTextAsync(Path.Combine(folder, "items.csv"),
                "item_id,title,topics\na1,Services,k8s/networking\na2,Volumes,k8s/storage\na3,Ingress,k8s/networking\na4,Python,python3|python2\n");
            var corrected = await RunAsync(null, "import", "generic", folder);

            Assert.Equal(2, misspelt.Exit);
            Assert.Contains("items.csv:4: topic 'k8s/netwroking' is not known; did you mean 'k8s/networking'? Add it to topics.csv to create it on purpose",
                misspelt.Output, StringComparison.Ordinal);
            Assert.Equal((0L, 0L), storedAfterRefusal);
            Assert.Equal(2, withinImport.Exit);
            Assert.Contains("items.csv:3: topic 'k8s/pod' is not known; did you mean 'k8s/pods'?", withinImport.Output, StringComparison.Ordinal);
            // Digits differ: python2 is another topic, not a misspelt python3.
            Assert.True(corrected.Exit == 0, corrected.Output);
            Assert.Contains("new topics named only by items: k8s/storage (items.csv:3), python3 (items.csv:5), python2 (items.csv:5)", corrected.Output, StringComparison.Ordinal);
            Assert.Equal(5L, await CountAsync("topics"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
            Directory.Delete(alone, recursive: true);
        }
    }

    [Fact]
    public async Task Audit_prints_and_writes_the_served_lists_of_a_person_objective_and_window_and_names_a_bad_option()
    {
        var folder = Directory.CreateTempSubdirectory("recommender-cli-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "items.csv"), "item_id,title\na1,Tides\na2,Waves\n");
            Assert.Equal(0, (await RunAsync(null, "import", "generic", folder)).Exit);
            var items = await new CatalogStore(_db.DataSource).ResolveItemsAsync(["a1", "a2"]);
            var accounts = new AccountStore(_db.DataSource);
            var kim = (await accounts.UpsertAsync("kim", "Kim", "user", Password)).Id;
            var shopper = await accounts.EnsureExternalAsync("shop-7");
            Core.ServedList Served(long user, string objective, string at) => new(user, objective, "1", "{}", "hash", "model v1", 1,
                DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture), 2,
                [new Core.ServedItem(1, items["a2"], 0.5, new Dictionary<string, double>(), ["A step beyond what you've read on “Tides”."]), new Core.ServedItem(2, items["a1"], 0.25, new Dictionary<string, double>(), [])]);
            await new ServedListStore(_db.DataSource).WriteAsync(
            [
                new AuditRecord(Guid.CreateVersion7(), kim, Served(kim, "learning", "2026-12-01T10:00:00Z")),
                new AuditRecord(Guid.CreateVersion7(), shopper, Served(shopper, "learning", "2026-12-02T10:00:00Z")),
                new AuditRecord(Guid.CreateVersion7(), kim, Served(kim, "engagement", "2026-12-03T10:00:00Z")),
                // A plug-in's objective: the CLI loads no plug-ins, but its lists are in the log to be audited.
                new AuditRecord(Guid.CreateVersion7(), shopper, Served(shopper, "fresh", "2026-12-04T10:00:00Z")),
            ]);
            var file = Path.Combine(folder, "served.jsonl");

            var ofKim = await RunAsync(null, "audit", "--login", "kim");
            var written = await RunAsync(null, "audit", "--objective", "learning", "--from", "2026-12-01", "--to", "2026-12-02T23:00:00Z", "--out", file);
            var ofShopper = await RunAsync(null, "audit", "--platform-user", "shop-7", "--objective", "engagement");
            var badDate = await RunAsync(null, "audit", "--from", "02/12/2026");
            var nobody = await RunAsync(null, "audit", "--login", "nobody");
            var badObjective = await RunAsync(null, "audit", "--objective", "learnin");
            var plugin = await RunAsync(null, "audit", "--objective", "fresh");
            var newestOfKim = await RunAsync(null, "audit", "--login", "kim", "--limit", "1");
            var allOfKim = await RunAsync(null, "audit", "--login", "kim", "--limit", "2");
            // A date as the end means through that day, as the audit page reads it: the list at 10:00 on the 3rd is in.
            var throughTheDay = await RunAsync(null, "audit", "--login", "kim", "--from", "2026-12-03", "--to", "2026-12-03");
            var farFuture = await RunAsync(null, "audit", "--to", "9999-12-31");
            var both = await RunAsync(null, "audit", "--login", "kim", "--platform-user", "shop-7");
            var backwards = await RunAsync(null, "audit", "--from", "2026-12-03", "--to", "2026-12-01");

            Assert.True(ofKim.Exit == 0, ofKim.Output);
            Assert.Contains("engagement", ofKim.Output, StringComparison.Ordinal);
            Assert.Contains("2026-12-01 10:00", ofKim.Output, StringComparison.Ordinal);
            Assert.Contains("2: a2, a1", ofKim.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("shop-7", ofKim.Output, StringComparison.Ordinal);
            Assert.True(written.Exit == 0, written.Output);
            Assert.Contains("wrote 2 served lists", written.Output, StringComparison.Ordinal);
            var lines = (await File.ReadAllLinesAsync(file)).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!).ToList();
            // Newest first, in the shape GET /api/admin/served gives.
            Assert.Equal([shopper, kim], lines.Select(l => l["userId"]!.GetValue<long>()));
            Assert.All(lines, l => Assert.Equal("learning", l["list"]!["objectiveId"]!.GetValue<string>()));
            Assert.Equal("a2", lines[0]["list"]!["items"]![0]!["externalId"]!.GetValue<string>());
            // Written as people read it and grep finds it, not as \u0027 and \u201C escapes.
            Assert.Contains("you've read on “Tides”", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
            Assert.Contains("a larger --limit shows more", newestOfKim.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("a larger --limit", allOfKim.Output, StringComparison.Ordinal);
            Assert.Contains("2026-12-01 10:00", allOfKim.Output, StringComparison.Ordinal);
            Assert.Contains("2026-12-03 10:00", throughTheDay.Output, StringComparison.Ordinal);
            Assert.Equal((0, "no served lists match"), (ofShopper.Exit, ofShopper.Output.Trim()));
            Assert.Equal((2, 2, 2), (badDate.Exit, nobody.Exit, badObjective.Exit));
            Assert.Contains("error: --from: '02/12/2026' is not an ISO 8601 date or time", badDate.Output, StringComparison.Ordinal);
            Assert.Contains("error: --login: no one signs in with 'nobody'", nobody.Output, StringComparison.Ordinal);
            Assert.Contains("error: --objective: no objective 'learnin'; the objectives are blend, diversity, engagement, learning, no_profiling", badObjective.Output, StringComparison.Ordinal);
            Assert.True(plugin.Exit == 0, plugin.Output);
            Assert.Contains("fresh", plugin.Output, StringComparison.Ordinal);
            // The same checks as GET /api/admin/served, each named by its flag.
            Assert.Equal((2, 2, 2), (farFuture.Exit, both.Exit, backwards.Exit));
            Assert.Contains("error: --to: must be between 1900-01-01 and 2200-01-01", farFuture.Output, StringComparison.Ordinal);
            Assert.Contains("error: --platform-user: give --login or --platform-user, not both", both.Output, StringComparison.Ordinal);
            Assert.Contains("error: --from: must not be after '--to'", backwards.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Import_of_items_with_only_id_and_title_updates_the_title_and_keeps_everything_else()
    {
        var folder = Directory.CreateTempSubdirectory("recommender-cli-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "sources.csv"), "source_id,name\ns1,Ocean Weekly\n");
            await File.WriteAllTextAsync(Path.Combine(folder, "items.csv"),
                "item_id,title,url,published_at,level,source_id,topics\na1,Tides,https://example.org/a1,2024-04-02,2,s1,Oceans\n");
            var full = await RunAsync(null, "import", "generic", folder);
            File.Delete(Path.Combine(folder, "sources.csv"));
            await File.WriteAllTextAsync(Path.Combine(folder, "items.csv"), "item_id,title\na1,Tides explained\n");

            var partial = await RunAsync(null, "import", "generic", folder);

            Assert.True(full.Exit == 0, full.Output);
            Assert.True(partial.Exit == 0, partial.Output);
            Assert.Contains("(1 updated)", partial.Output, StringComparison.Ordinal);
            await using var conn = await _db.DataSource.OpenConnectionAsync();
            var item = await conn.QuerySingleAsync<(string, string?, DateTime?, short?, string?, string?)>("""
                select i.title, i.url, i.published_at, i.level, s.external_id, (select string_agg(t.name, '|') from item_topics it join topics t on t.id = it.topic_id where it.item_id = i.id)
                from items i left join sources s on s.id = i.source_id where i.external_id = 'a1'
                """);
            Assert.Equal(("Tides explained", "https://example.org/a1", new DateTime(2024, 4, 2, 0, 0, 0, DateTimeKind.Utc), (short?)2, "s1", "Oceans"), item);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("items.csv", "items.jsonl", "{\"item_id\": \"a2\", \"title\": \"Waves\"}")]
    [InlineData("events.csv", "events.jsonl", "{\"user_id\": \"u1\", \"item_id\": \"a1\", \"kind\": \"click\", \"occurred_at\": \"2024-05-01\"}")]
    public async Task Import_with_a_csv_and_a_jsonl_file_for_one_thing_exits_2_naming_both_and_stores_nothing(string csv, string jsonl, string line)
    {
        var folder = Directory.CreateTempSubdirectory("recommender-cli-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "items.csv"), "item_id,title\na1,Tides\n");
            await File.WriteAllTextAsync(Path.Combine(folder, "events.csv"), "user_id,item_id,kind,value,occurred_at\nu1,a1,click,,2024-05-01T10:00:00Z\n");
            await File.WriteAllTextAsync(Path.Combine(folder, jsonl), line + "\n");

            var both = await RunAsync(null, "import", "generic", folder);

            Assert.Equal(2, both.Exit);
            Assert.Contains($"both {csv} and {jsonl}", both.Output, StringComparison.Ordinal);
            Assert.Equal((0L, 0L), (await CountAsync("items"), await CountAsync("events")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// The generic format's example in docs/cli.md, copied as a reader would: each file is a line naming it and the lines
    /// up to the next blank one, in the fenced blocks of the "Import your own catalog" section.
    /// </summary>
    private static Dictionary<string, string> ExampleFilesInTheDocs()
    {
        var doc = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "cli.md")).ReplaceLineEndings("\n");
        var section = doc[doc.IndexOf("# Import your own catalog", StringComparison.Ordinal)..];
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        var blocks = section.Split("```");
        for (var i = 1; i < blocks.Length; i += 2)
        {
            foreach (var chunk in blocks[i].Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var name = chunk.Split('\n')[0];
                if (name.EndsWith(".csv", StringComparison.Ordinal) || name.EndsWith(".jsonl", StringComparison.Ordinal))
                    files.Add(name, chunk[(name.Length + 1)..] + "\n");
            }
        }
        return files;
    }

    [Fact]
    public async Task Import_of_the_generic_example_in_the_docs_works_as_written_on_an_empty_database()
    {
        var files = ExampleFilesInTheDocs();
        var folder = Directory.CreateTempSubdirectory("recommender-cli-").FullName;
        try
        {
            foreach (var (name, content) in files)
                await File.WriteAllTextAsync(Path.Combine(folder, name), content);

            var import = await RunAsync(null, "import", "generic", folder);

            Assert.Equal(["events.csv", "items.csv", "sources.csv"], files.Keys.Order(StringComparer.Ordinal));
            Assert.True(import.Exit == 0, import.Output);
            Assert.Equal((1L, 1L, 2L), (await CountAsync("sources"), await CountAsync("items"), await CountAsync("events")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Evaluate_skill_measures_answers_against_baselines_and_refuses_data_without_answers()
    {
        var folder = Directory.CreateTempSubdirectory("recommender-cli-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "items.csv"), "item_id,title,topics,level\n"
                + string.Concat(Enumerable.Range(0, 20).Select(i => $"q{i},Question {i},{(i % 2 == 0 ? "Oceans" : "Stars")},{i % 5 + 1}\n")));
            await File.WriteAllTextAsync(Path.Combine(folder, "events.csv"), "user_id,item_id,kind,occurred_at\nu1,q1,view,1700000000\n");
            var none = await RunAsync(null, "evaluate", "skill", "--data", folder, "--out", Path.Combine(folder, "none.json"));

            // Forty learners of rising strength; harder items (higher level) are answered wrong more often.
            var rows = from u in Enumerable.Range(0, 40)
                       from k in Enumerable.Range(0, 30)
                       let item = (u * 7 + k * 3) % 20
                       let right = (u * 13 + k * 29 + item * 31) % 100 < 20 + u + 10 * (4 - item % 5) + k
                       select $"u{u},q{item},{(right ? "quiz_correct" : "quiz_wrong")},{1700000000 + u * 100000 + k * 60}\n";
            await File.WriteAllTextAsync(Path.Combine(folder, "events.csv"), "user_id,item_id,kind,occurred_at\n" + string.Concat(rows));
            var report = Path.Combine(folder, "skill.json");
            var measured = await RunAsync(null, "evaluate", "skill", "--data", folder, "--out", report);

            Assert.Equal(2, none.Exit);
            Assert.Contains("events.csv: no quiz answers", none.Output, StringComparison.Ordinal);
            Assert.Equal(0, measured.Exit);
            using var json = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(report));
            var root = json.RootElement;
            Assert.Equal(40 * 6, root.GetProperty("heldOut").GetInt32());
            Assert.InRange(root.GetProperty("auc").GetDouble(), 0.55, 1);
            Assert.InRange(root.GetProperty("ece").GetDouble(), 0, 0.5);
            var baselines = root.GetProperty("baselines").EnumerateArray().ToDictionary(b => b.GetProperty("name").GetString()!, b => b.GetProperty("logLoss").GetDouble());
            Assert.Equal(["global_rate", "user_rate", "item_rate"], baselines.Keys);
            Assert.True(root.GetProperty("logLoss").GetDouble() < baselines["global_rate"], measured.Output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [SharedDataFact(SharedDataSet.StackExchange)]
    public async Task Evaluate_skill_on_a_stack_exchange_dump_predicts_which_real_answers_were_accepted()
    {
        var report = Path.Combine(Path.GetTempPath(), $"skill-se-{Guid.NewGuid():N}.json");
        try
        {
            var measured = await RunAsync(null, "evaluate", "skill", "--data", RepositoryPaths.StackExchange, "--out", report);

            Assert.Equal(0, measured.Exit);
            using var json = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(report));
            var root = json.RootElement;
            // Every answer of the two sites by a known person is an attempt; about a third were accepted.
            Assert.InRange(root.GetProperty("answers").GetInt32(), 2_400, 2_700);
            Assert.InRange(root.GetProperty("heldOut").GetInt32(), 300, 400);
            Assert.InRange(root.GetProperty("correctShare").GetDouble(), 0.2, 0.5);
            var baselines = root.GetProperty("baselines").EnumerateArray().ToDictionary(
                b => b.GetProperty("name").GetString()!, b => (Auc: b.GetProperty("auc").GetDouble(), LogLoss: b.GetProperty("logLoss").GetDouble()));
            var (auc, logLoss) = (root.GetProperty("auc").GetDouble(), root.GetProperty("logLoss").GetDouble());
            // Who answered and on which question tells something: better than the overall and the per-question rate.
            Assert.True(auc > baselines["global_rate"].Auc + 0.05 && auc > baselines["item_rate"].Auc + 0.05, measured.Output);
            Assert.True(logLoss < baselines["global_rate"].LogLoss && logLoss < baselines["item_rate"].LogLoss, measured.Output);
        }
        finally
        {
            File.Delete(report);
        }
    }

    [SharedDataFact(SharedDataSet.StackExchange)]
    public async Task Bench_train_on_a_stack_exchange_dump_trains_one_class_on_its_activity_and_a_missing_path_is_one_line()
    {
        var bench = await RunAsync(null, "bench", "train", "--data", RepositoryPaths.StackExchange, "--rank", "16", "--iterations", "5");
        var missing = await RunAsync(null, "bench", "train", "--data", Path.Combine(RepositoryPaths.StackExchange, "no-such-site"));

        Assert.Equal(0, bench.Exit);
        using var json = System.Text.Json.JsonDocument.Parse(bench.Output.Trim());
        var root = json.RootElement;
        Assert.Equal(("activity", "oneclass", "temporal"), (root.GetProperty("feedback").GetString(), root.GetProperty("loss").GetString(), root.GetProperty("split").GetString()));
        // Every asking, answering, commenting, favouriting or editing pair of the two sites, 90% of them before the cut.
        Assert.InRange(root.GetProperty("train_rows").GetInt32(), 5_000, 8_000);
        Assert.True(root.GetProperty("test_users").GetInt32() > 0, bench.Output);
        Assert.InRange(root.GetProperty("ndcg_at_10").GetDouble(), 0, 1);
        Assert.Equal(2, missing.Exit);
        Assert.Single(missing.Output.Trim().Split('\n'));
        Assert.Contains("no-such-site", missing.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_with_iterations_past_the_cap_exits_2_naming_the_flag_before_training()
    {
        var run = await RunAsync(null, "train", "--iterations", "100000000");

        Assert.Equal(2, run.Exit);
        Assert.Contains("--iterations must be between 0 and 1000; got 100000000", run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("ingest")]
    [InlineData("mixed")]
    public async Task Bench_load_without_a_url_is_refused_before_anything_is_sent(string command)
    {
        // A key no service knows: should the refusal ever regress, whatever answers on the old default address writes nothing.
        var run = await RunAsync(null, "bench", command, "--api-key", "not-a-key", "--users", "1");

        Assert.Equal(2, run.Exit);
        Assert.Contains("--url", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_train_that_diverges_or_has_nothing_to_test_on_says_so_in_one_line_instead_of_crashing()
    {
        var folder = Directory.CreateTempSubdirectory("recommender-bench-").FullName;
        try
        {
            // Everyone rates through the whole period, so the latest ratings are of people and items seen before.
            var rows = from i in Enumerable.Range(0, 12)
                       from u in Enumerable.Range(0, 50)
                       select $"{u},{(u * 5 + i * 7) % 40},{1 + (u + i) % 5},{1_600_000_000 + i * 1000 + u}\n";
            await File.WriteAllTextAsync(Path.Combine(folder, "ratings.csv"), string.Concat(rows));
            // Here the latest ratings are all of people who rated nothing before.
            var late = Directory.CreateDirectory(Path.Combine(folder, "late")).FullName;
            await File.WriteAllTextAsync(Path.Combine(late, "ratings.csv"), string.Concat(Enumerable.Range(0, 20).Select(u => $"{u},{u % 3},4,{1_600_000_000 + u}\n")));

            var sane = await RunAsync(null, "bench", "train", "--data", folder, "--rank", "4", "--iterations", "5", "--threads", "1");
            var wild = await RunAsync(null, "bench", "train", "--data", folder, "--rank", "4", "--iterations", "5", "--threads", "1", "--learning-rate", "1e6");
            var nothingToTest = await RunAsync(null, "bench", "train", "--data", late, "--rank", "4", "--iterations", "5", "--threads", "1");

            Assert.Equal(0, sane.Exit);
            Assert.InRange(System.Text.Json.JsonDocument.Parse(sane.Output.Trim()).RootElement.GetProperty("test_rmse").GetDouble(), 0, 5);
            Assert.Equal(1, wild.Exit);
            Assert.Contains("training diverged", wild.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", wild.Output, StringComparison.Ordinal);
            using var json = System.Text.Json.JsonDocument.Parse(wild.Output.Split('\n')[0]);
            Assert.Equal(System.Text.Json.JsonValueKind.Null, json.RootElement.GetProperty("test_rmse").ValueKind);
            Assert.Equal(2, nothingToTest.Exit);
            Assert.Contains("too small to measure on", nothingToTest.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", nothingToTest.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Users_create_reads_the_password_from_standard_input_and_refuses_a_bad_role_or_no_password()
    {
        var created = await RunAsync(Password + "\n", "users", "create", "--login", "ops", "--role", "admin", "--quiet");
        var badRole = await RunAsync(Password + "\n", "users", "create", "--login", "eve", "--role", "root");
        var noPassword = await RunAsync("", "users", "create", "--login", "eve");

        Assert.Equal(0, created.Exit);
        var account = await new AccountStore(_db.DataSource).VerifyAsync("ops", Password);
        Assert.Equal(("admin", created.Output.Trim()), (account?.Role, account?.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal((2, 2), (badRole.Exit, noPassword.Exit));
        Assert.Contains("--role", badRole.Output, StringComparison.Ordinal);
        Assert.Contains("no password", noPassword.Output, StringComparison.Ordinal);
        Assert.Equal(1, await CountAsync("users"));
    }

    [Fact]
    public async Task Users_create_refuses_a_short_password_and_keeps_the_one_it_had()
    {
        var created = await RunAsync(Password + "\n", "users", "create", "--login", "kim");
        var shortReset = await RunAsync("short\n", "users", "create", "--login", "kim");
        var shortNew = await RunAsync("fourteen chars\n", "users", "create", "--login", "lou");

        Assert.Equal((0, 2, 2), (created.Exit, shortReset.Exit, shortNew.Exit));
        Assert.Contains($"error: password: a password needs at least {AccountStore.MinPasswordLength} characters (this one has 5)", shortReset.Output, StringComparison.Ordinal);
        Assert.Contains("(this one has 14)", shortNew.Output, StringComparison.Ordinal);
        Assert.NotNull(await new AccountStore(_db.DataSource).VerifyAsync("kim", Password));
        Assert.Null(await new AccountStore(_db.DataSource).VerifyAsync("kim", "short"));
        Assert.Equal(1, await CountAsync("users"));
    }

    [Fact]
    public async Task Train_activates_a_model_as_good_and_models_activate_rolls_back_and_refuses_an_unknown_version()
    {
        // The small world comes with model 1, trained with these options; the same again on one thread is just as good.
        await SmallWorld.SeedAsync(_db.DataSource);
        var train = await RunAsync(null, "train", "--rank", "8", "--threads", "1");
        var activeAfterTraining = await ActiveVersionAsync();

        var rollBack = await RunAsync(null, "models", "activate", "1");
        var activeAfterRollBack = await ActiveVersionAsync();
        var unknown = await RunAsync(null, "models", "activate", "99");
        var list = await RunAsync(null, "models", "list");

        Assert.True((train.Exit, activeAfterTraining) == (0, 2), train.Output);
        Assert.Equal((0, 1), (rollBack.Exit, activeAfterRollBack));
        Assert.Equal(2, unknown.Exit);
        Assert.Contains("model 99 is not a ready model", unknown.Output, StringComparison.Ordinal);
        Assert.Equal(1, await ActiveVersionAsync());
        Assert.Equal(0, list.Exit);
        Assert.Contains("ready", list.Output, StringComparison.Ordinal);
        // What the holdout measured, in words, not the stored JSON.
        Assert.Contains("NDCG@10", list.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("\"testNdcg\"", list.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_whose_model_fails_the_gate_keeps_it_rejected_and_exits_1()
    {
        // The small world comes with model 1, here said to have measured far better, on the same kind of holdout, than any
        // model of this data can.
        await SmallWorld.SeedAsync(_db.DataSource);
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            await conn.ExecuteAsync("update models set metrics = jsonb_set(jsonb_set(metrics, '{testNdcg}', '0.99'), '{holdoutSplit}', to_jsonb(@split::text)) where is_active",
                new { split = ModelMetrics.TimeWithNewcomers });
        }

        var train = await RunAsync(null, "train", "--rank", "8", "--threads", "1");

        Assert.True(train.Exit == 1, train.Output);
        Assert.Contains("error: model 2 was stored but not activated: rejected", train.Output, StringComparison.Ordinal);
        Assert.Equal(1, await ActiveVersionAsync());
        await using var read = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal("rejected", await read.ExecuteScalarAsync<string>("select status from models where version = 2"));
    }

    [Fact]
    public async Task Train_ranks_on_ratings_by_default_and_predicts_them_with_loss_regression()
    {
        await SmallWorld.SeedAsync(_db.DataSource);

        var ranking = await RunAsync(null, "train", "--rank", "8", "--threads", "1");
        var rating = await RunAsync(null, "train", "--loss", "regression", "--rank", "8", "--lambda", "0.05", "--iterations", "20", "--threads", "1");
        var unknown = await RunAsync(null, "train", "--loss", "hinge");

        Assert.True(ranking.Exit == 0, ranking.Output);
        Assert.Contains("trained on ratings of 7 or more", ranking.Output, StringComparison.Ordinal);
        Assert.Contains("holdout NDCG@10", ranking.Output, StringComparison.Ordinal);
        Assert.True(rating.Exit == 0, rating.Output);
        Assert.Contains("holdout RMSE", rating.Output, StringComparison.Ordinal);
        Assert.Equal(2, unknown.Exit);
        Assert.Contains("hinge", unknown.Output, StringComparison.Ordinal);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        // The small world comes with model 1; the two runs are 2 and 3.
        var algorithms = (await conn.QueryAsync<string>("select algorithm from models where version > 1 order by version")).ToList();
        Assert.Equal([Training.ModelTraining.RatingsAlgorithm, "mf-sgd"], algorithms);
    }

    [Fact]
    public async Task Train_says_which_settings_stood_given_or_default_when_validation_is_too_small_to_choose_on()
    {
        // The small world's validation split is far below the 1,000 pairs a choice needs.
        await SmallWorld.SeedAsync(_db.DataSource);

        var none = await RunAsync(null, "train", "--threads", "1");
        var some = await RunAsync(null, "train", "--rank", "8", "--threads", "1");
        var all = await RunAsync(null, "train", "--rank", "8", "--lambda", "0.05", "--alpha", "5", "--threads", "1");

        Assert.True(none.Output.Contains("fewer than the 1,000 a choice needs, so the defaults stand: rank 32, λ 0.05, α 5", StringComparison.Ordinal), none.Output);
        Assert.DoesNotContain("given", none.Output, StringComparison.Ordinal);
        // Progress is for a terminal: redirected, no last progress line ("training (final model): iteration 20/20…") is left behind.
        Assert.DoesNotContain("iteration", none.Output, StringComparison.Ordinal);
        Assert.True(some.Output.Contains("so the given rank 8 stands, with the default λ 0.05, α 5", StringComparison.Ordinal), some.Output);
        Assert.True(all.Output.Contains("settings as given, nothing chosen: rank 8, λ 0.05, α 5", StringComparison.Ordinal), all.Output);
    }

    [SharedDataFact(SharedDataSet.StackExchange)]
    public async Task Train_on_activity_keeps_the_defaults_when_validation_is_too_small_and_a_given_alpha_fixes_its_search()
    {
        await new CatalogImporter(_db.DataSource).ImportAsync(StackExchangeReader.Read(RepositoryPaths.StackExchange));

        // The demo's 158 validation pairs are too few to choose from; α 3 given (not in the grid) is used as given.
        var defaults = await RunAsync(null, "train", "--threads", "1");
        var given = await RunAsync(null, "train", "--alpha", "3", "--rank", "12", "--threads", "1");

        Assert.True(defaults.Exit == 0, defaults.Output);
        Assert.DoesNotContain("settings chosen on", defaults.Output, StringComparison.Ordinal);
        // The second model is stored with the settings it used whether or not it passes the gate against the first (exit 1 if not).
        Assert.True(given.Exit == (given.Output.Contains(" rejected: ", StringComparison.Ordinal) ? 1 : 0), given.Output);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var options = (await conn.QueryAsync<string>("select options::text from models order by version")).ToList();
        Assert.Equal(2, options.Count);
        using var first = System.Text.Json.JsonDocument.Parse(options[0]);
        Assert.Equal((32, 5.0), (first.RootElement.GetProperty("approximationRank").GetInt32(), first.RootElement.GetProperty("alpha").GetDouble()));
        using var second = System.Text.Json.JsonDocument.Parse(options[1]);
        Assert.Equal((12, 3.0), (second.RootElement.GetProperty("approximationRank").GetInt32(), second.RootElement.GetProperty("alpha").GetDouble()));
    }

    [Fact]
    public async Task Train_reranker_without_served_lists_exits_2_says_why_and_trains_nothing()
    {
        await SmallWorld.SeedAsync(_db.DataSource);

        var train = await RunAsync(null, "train", "--reranker");

        Assert.Equal(2, train.Exit);
        Assert.Contains("error: re-ranker not trained: only 0 served lists with an outcome", train.Output, StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync("rerankers"));
    }

    [Theory]
    [InlineData("--lambda", "-1")]
    [InlineData("--lambda", "NaN")]
    [InlineData("--rank", "100000")]
    public async Task Evaluate_with_an_out_of_range_model_setting_exits_2_in_one_line_naming_the_flag(string flag, string value)
    {
        var bad = await RunAsync(null, "evaluate", "--data", Path.GetTempPath(), flag, value);

        Assert.Equal(2, bad.Exit);
        Assert.StartsWith($"error: {flag} must ", bad.Output, StringComparison.Ordinal);
        Assert.Single(bad.Output.Trim().Split('\n'));
        Assert.DoesNotContain("Unhandled exception", bad.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"diversity":{"nope":1}}""", "--params: diversity.nope")]
    [InlineData("""{"diversity":{"lambda":7}}""", "--params: diversity.lambda")]
    [InlineData("""{"bogus":{"x":1}}""", "--params: 'bogus'")]
    public async Task Evaluate_refuses_settings_an_objective_does_not_have_naming_the_field(string parameters, string named)
    {
        var bad = await RunAsync(null, "evaluate", "--data", Path.GetTempPath(), "--params", parameters);

        Assert.Equal(2, bad.Exit);
        Assert.Contains(named, bad.Output, StringComparison.Ordinal);
        Assert.Single(bad.Output.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("evaluate --data . --split bogus", "--split must be one of: temporal, random, newcomers (got 'bogus')")]
    [InlineData("train --loss hinge", "--loss must be one of: oneclass, regression (got 'hinge')")]
    [InlineData("up --demo nope", "--demo must be one of: generated, movietweetings, stackexchange (got 'nope')")]
    [InlineData("keys create --scope feeds", "--name is required")]
    public async Task An_option_of_fixed_values_refuses_another_and_a_required_one_left_out_is_named_in_one_line(string command, string message)
    {
        var bad = await RunAsync(null, command.Split(' '));

        Assert.Equal(2, bad.Exit);
        Assert.Equal($"error: {message}", bad.Output.Trim());
    }

    [Fact]
    public async Task Evaluate_reads_a_generic_import_directory_and_names_a_directory_in_no_format_it_reads()
    {
        var folder = Directory.CreateTempSubdirectory("recommender-generic-eval-").FullName;
        var empty = Directory.CreateTempSubdirectory("recommender-no-format-").FullName;
        try
        {
            await WriteGenericEvaluationDataAsync(folder);
            var report = Path.Combine(folder, "report.json");

            var run = await RunAsync(null, "evaluate", "--data", folder, "--objectives", "popularity,engagement", "--seeds", "1", "--learners", "0",
                "--threads", "1", "--rank", "4", "--lambda", "0.1", "--alpha", "5", "--out", report);
            var neither = await RunAsync(null, "evaluate", "--data", empty, "--seeds", "1", "--learners", "0");

            Assert.True(run.Exit is 0 or 1, run.Output);
            Assert.Contains("engagement", run.Output, StringComparison.Ordinal);
            using (var json = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(report)))
                Assert.Equal(Path.GetFileName(folder), json.RootElement.GetProperty("data").GetString());
            Assert.Equal(2, neither.Exit);
            Assert.StartsWith($"error: --data {empty}: not a data set evaluate reads: a generic import", neither.Output, StringComparison.Ordinal);
            Assert.Single(neither.Output.Trim().Split('\n'));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public async Task Evaluate_says_which_settings_stood_given_or_default_in_train_s_words_when_validation_is_too_small_to_choose_on()
    {
        var folder = Directory.CreateTempSubdirectory("recommender-generic-eval-").FullName;
        try
        {
            await WriteGenericEvaluationDataAsync(folder);
            string[] run = ["evaluate", "--data", folder, "--objectives", "popularity,engagement", "--seeds", "1", "--learners", "0", "--threads", "1", "--out", Path.Combine(folder, "report.json")];

            var none = await RunAsync(null, run);
            var some = await RunAsync(null, [.. run, "--alpha", "2"]);

            Assert.True(none.Output.Contains("engagement settings not chosen: the validation split holds too few positives to choose on, so the defaults stand: rank 8, λ 0.05, α 5 (seed", StringComparison.Ordinal), none.Output);
            Assert.DoesNotContain("given", none.Output, StringComparison.Ordinal);
            Assert.True(some.Output.Contains("so the given α 2 stands, with the default rank 8, λ 0.05 (seed", StringComparison.Ordinal), some.Output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Evaluate_with_no_learner_simulated_marks_the_mastery_checks_not_applicable_rather_than_passed()
    {
        // Ten items a topic: fewer than a simulated learner's goal topic needs, so no learner is simulated and 0 items
        // against 0 measures nothing.
        var folder = Directory.CreateTempSubdirectory("recommender-generic-eval-").FullName;
        try
        {
            await WriteGenericEvaluationDataAsync(folder);

            var run = await RunAsync(null, "evaluate", "--data", folder, "--objectives", "popularity,engagement,learning,no_profiling", "--seeds", "1",
                "--learners", "5", "--simulation-seeds", "1", "--threads", "1", "--rank", "4", "--lambda", "0.1", "--alpha", "5",
                "--out", Path.Combine(folder, "report.json"));

            Assert.True(run.Exit is 0 or 1, run.Output);
            Assert.DoesNotContain("PASS learning items to mastery", run.Output, StringComparison.Ordinal);
            Assert.Contains("n/a learning items to mastery ≤ 0.7× engagement: no learner simulated", run.Output, StringComparison.Ordinal);
            Assert.Contains("n/a learning items to mastery ≤ 0.7× no_profiling: no learner simulated", run.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Evaluate_on_activity_with_too_few_people_says_so_in_words_without_an_internal_threshold()
    {
        // Ten people, activity only: too few of them have a pair in the test share.
        var folder = Directory.CreateTempSubdirectory("recommender-generic-eval-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "items.csv"), "item_id,title\n" + string.Concat(Enumerable.Range(0, 30).Select(i => $"i{i},Item {i}\n")));
            var rows = from u in Enumerable.Range(0, 10)
                       from k in Enumerable.Range(0, 12)
                       select $"u{u},i{(u * 7 + k) % 30},click,,{1700000000 + u * 86400 + k * 60}\n";
            await File.WriteAllTextAsync(Path.Combine(folder, "events.csv"), "user_id,item_id,kind,value,occurred_at\n" + string.Concat(rows));

            var run = await RunAsync(null, "evaluate", "--data", folder, "--seeds", "1", "--learners", "0", "--out", Path.Combine(folder, "report.json"));

            Assert.Equal(2, run.Exit);
            Assert.Contains("people have an item they were active on in the test share", run.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("0.693", run.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Sixty readers, each rating fifteen of forty items on four topics: high on their own topic's items, low on the others.</summary>
    private static async Task WriteGenericEvaluationDataAsync(string folder)
    {
        string[] topics = ["Oceans", "Stars", "Music", "History"];
        await File.WriteAllTextAsync(Path.Combine(folder, "topics.csv"), "topic,parent\n" + string.Concat(topics.Select(t => t + ",\n")));
        await File.WriteAllTextAsync(Path.Combine(folder, "items.csv"), "item_id,title,topics,level\n"
            + string.Concat(Enumerable.Range(0, 40).Select(i => $"docs/{i},Item {i},{topics[i % 4]},{i % 5 + 1}\n")));
        var rows = from u in Enumerable.Range(0, 60)
                   from k in Enumerable.Range(0, 15)
                   let item = (u * 11 + k * 7) % 40
                   let value = item % 4 == u % 4 ? 8 + (u + k) % 3 : 2 + (u + k) % 3
                   select $"u{u},docs/{item},rating,{value},{1700000000 + k * 86400 + u * 60}\n";
        await File.WriteAllTextAsync(Path.Combine(folder, "events.csv"), "user_id,item_id,kind,value,occurred_at\n" + string.Concat(rows.Distinct()));
    }

    [SharedDataFact(SharedDataSet.MovieTweetings)]
    public async Task Evaluate_on_data_too_small_to_choose_settings_keeps_the_defaults_and_still_writes_its_report()
    {
        // The 200 movies ranked 801st to 1000th by ratings: enough to split and test on, too few validation positives to choose on.
        var folder = Directory.CreateTempSubdirectory("recommender-small-mt-").FullName;
        try
        {
            var ratings = await File.ReadAllLinesAsync(Path.Combine(RepositoryPaths.MovieTweetings, "ratings.dat"));
            var movies = ratings.GroupBy(r => r.Split("::")[1]).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .Skip(800).Take(200).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
            await File.WriteAllLinesAsync(Path.Combine(folder, "movies.dat"),
                (await File.ReadAllLinesAsync(Path.Combine(RepositoryPaths.MovieTweetings, "movies.dat"))).Where(m => movies.Contains(m.Split("::")[0])));
            await File.WriteAllLinesAsync(Path.Combine(folder, "ratings.dat"), ratings.Where(r => movies.Contains(r.Split("::")[1])));
            var report = Path.Combine(folder, "report.json");

            var run = await RunAsync(null, "evaluate", "--data", folder, "--objectives", "popularity,engagement", "--seeds", "1", "--learners", "0",
                "--threads", "1", "--out", report);

            Assert.True(run.Exit is 0 or 1, run.Output);
            Assert.Contains("engagement settings not chosen", run.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("NaN", run.Output, StringComparison.Ordinal);
            using var json = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(report));
            var engagement = json.RootElement.GetProperty("baselines").EnumerateArray().Single(b => b.GetProperty("id").GetString() == "engagement");
            Assert.Equal(System.Text.Json.JsonValueKind.Null, engagement.GetProperty("validation_ndcg").ValueKind);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Provenance_keygen_onto_an_existing_file_refuses_in_one_line_and_leaves_the_file()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "keep me");

            var refused = await RunAsync(null, "provenance", "keygen", "--out", file);

            Assert.Equal(2, refused.Exit);
            Assert.Single(refused.Output.Trim().Split('\n'));
            Assert.Contains($"--out: {file} is a file", refused.Output, StringComparison.Ordinal);
            Assert.Equal("keep me", await File.ReadAllTextAsync(file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n")]
    public async Task Provenance_sign_and_verify_refuse_a_file_without_items_alike_in_one_line_exit_2(string content)
    {
        var folder = Directory.CreateTempSubdirectory("recommender-provenance-").FullName;
        try
        {
            var keys = Path.Combine(folder, "keys");
            var items = Path.Combine(folder, "items.jsonl");
            var signed = Path.Combine(folder, "signed.jsonl");
            Assert.Equal(0, (await RunAsync(null, "provenance", "keygen", "--out", keys)).Exit);
            await File.WriteAllTextAsync(items, content);

            var sign = await RunAsync(null, "provenance", "sign", "--key", Path.Combine(keys, "publisher.key"), "--in", items, "--out", signed);
            var verify = await RunAsync(null, "provenance", "verify", "--in", items, "--public-key", Path.Combine(keys, "publisher.pub"));

            Assert.Equal((2, 2), (sign.Exit, verify.Exit));
            Assert.Equal($"error: --in: {items}: no items to sign; an items.jsonl has one JSON object a line", sign.Output.Trim());
            Assert.Equal($"error: --in: {items}: no items to verify; an items.jsonl has one JSON object a line", verify.Output.Trim());
            Assert.False(File.Exists(signed));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("{\"item_id\": \"a2\", \"title\": ", "not a JSON object")]
    [InlineData("{\"item_id\": \"a2\", \"title\": \"Waves\", \"level\": 9}", "level")]
    [InlineData("{\"item_id\": \"a2\", \"title\": \"Waves\", \"signature\": \"not base64\"}", "signature")]
    public async Task Provenance_sign_and_verify_refuse_a_line_they_cannot_read_alike_exit_2_naming_file_and_line(string line, string reason)
    {
        // Exit 1 from verify means "read fine, but a signature does not verify"; a line that cannot be read is bad input, as for sign.
        var folder = Directory.CreateTempSubdirectory("recommender-provenance-").FullName;
        try
        {
            var keys = Path.Combine(folder, "keys");
            var items = Path.Combine(folder, "items.jsonl");
            var signed = Path.Combine(folder, "signed.jsonl");
            Assert.Equal(0, (await RunAsync(null, "provenance", "keygen", "--out", keys)).Exit);
            await File.WriteAllTextAsync(items, "{\"item_id\": \"a1\", \"title\": \"Tides\"}\n" + line + "\n");

            var sign = await RunAsync(null, "provenance", "sign", "--key", Path.Combine(keys, "publisher.key"), "--in", items, "--out", signed);
            var verify = await RunAsync(null, "provenance", "verify", "--in", items, "--public-key", Path.Combine(keys, "publisher.pub"));

            Assert.Equal((2, 2), (sign.Exit, verify.Exit));
            foreach (var run in new[] { sign, verify })
            {
                Assert.Single(run.Output.Trim().Split('\n'));
                Assert.StartsWith($"error: {items}:2: ", run.Output, StringComparison.Ordinal);
                Assert.Contains(reason, run.Output, StringComparison.Ordinal);
            }
            Assert.False(File.Exists(signed));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Provenance_verify_of_a_file_that_reads_but_does_not_verify_exits_1_naming_each_line()
    {
        var folder = Directory.CreateTempSubdirectory("recommender-provenance-").FullName;
        try
        {
            var keys = Path.Combine(folder, "keys");
            var items = Path.Combine(folder, "items.jsonl");
            var signed = Path.Combine(folder, "signed.jsonl");
            Assert.Equal(0, (await RunAsync(null, "provenance", "keygen", "--out", keys)).Exit);
            await File.WriteAllTextAsync(items, "{\"item_id\": \"a1\", \"title\": \"Tides\"}\n{\"item_id\": \"a2\", \"title\": \"Waves\"}\n");
            Assert.Equal(0, (await RunAsync(null, "provenance", "sign", "--key", Path.Combine(keys, "publisher.key"), "--in", items, "--out", signed)).Exit);
            var lines = await File.ReadAllLinesAsync(signed);
            await File.WriteAllLinesAsync(signed, [lines[0], lines[1].Replace("Waves", "Storms", StringComparison.Ordinal)]);

            var verify = await RunAsync(null, "provenance", "verify", "--in", signed, "--public-key", Path.Combine(keys, "publisher.pub"));
            var unsigned = await RunAsync(null, "provenance", "verify", "--in", items, "--public-key", Path.Combine(keys, "publisher.pub"));

            Assert.Equal(1, verify.Exit);
            Assert.Equal($"{signed}:2: signature does not match", verify.Output.Trim().Split(": item ")[0]);
            Assert.Equal(1, unsigned.Exit);
            Assert.Equal([$"{items}:1: not signed", $"{items}:2: not signed"], unsigned.Output.Trim().Split('\n'));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("serve --duration 900", "--duration must be from 1 to 600 seconds (got 900)")]
    [InlineData("mixed --duration 0", "--duration must be from 1 to 600 seconds (got 0)")]
    [InlineData("ingest --batch 5000", "--batch must be from 1 to 1,000 (got 5000)")]
    [InlineData("ingest --events 0", "--events must be from 1 to 10,000,000 (got 0)")]
    public async Task Bench_value_out_of_range_exits_2_in_one_line_rather_than_running_with_another(string command, string message)
    {
        // Nothing listens on the discard port: a run that started anyway would not exit 2.
        var bad = await RunAsync(null, ["bench", .. command.Split(' '), "--url", "http://127.0.0.1:9", "--api-key", "unused"]);

        Assert.Equal(2, bad.Exit);
        Assert.Equal($"error: {message}", bad.Output.Trim());
    }

    [Theory]
    [InlineData("synthetic", "items.csv sources.csv", "ratings.csv: no such file (synthetic data is items.csv, sources.csv, ratings.csv)")]
    [InlineData("synthetic", "", "items.csv: no such file (synthetic data is items.csv, sources.csv, ratings.csv)")]
    [InlineData("generic", "", ": found none of topics.csv, sources.csv, items.csv, items.jsonl or events.csv")]
    [InlineData("movietweetings", "movies.dat", "ratings.dat: no such file")]
    [InlineData("stackexchange", "", ": neither it nor any folder in it holds a Stack Exchange Posts.xml")]
    public async Task Import_of_a_folder_without_a_file_its_kind_needs_exits_2_naming_it_and_stores_nothing(string kind, string files, string missing)
    {
        var folder = Directory.CreateTempSubdirectory("recommender-cli-").FullName;
        try
        {
            var contents = new Dictionary<string, string>
            {
                ["items.csv"] = "item_id,title,source_id\n1,Tides,1\n",
                ["sources.csv"] = "source_id,name\n1,Ocean Weekly\n",
                ["movies.dat"] = "0000008::Edison Kinetoscopic Record of a Sneeze (1894)::Documentary|Short\n",
            };
            foreach (var file in files.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                await File.WriteAllTextAsync(Path.Combine(folder, file), contents[file]);
            var notFolder = Path.Combine(folder, "not-a-folder.csv");
            await File.WriteAllTextAsync(notFolder, "item_id,title\n");

            var incomplete = await RunAsync(null, "import", kind, folder);
            var absent = await RunAsync(null, "import", kind, Path.Combine(folder, "absent"));
            var notAFolder = await RunAsync(null, "import", kind, notFolder);

            Assert.Equal((2, 2, 2), (incomplete.Exit, absent.Exit, notAFolder.Exit));
            Assert.Equal($"error: {(missing.StartsWith(':') ? folder : folder + Path.DirectorySeparatorChar)}{missing}", incomplete.Output.Trim());
            Assert.Equal($"error: {Path.Combine(folder, "absent")}: no such directory", absent.Output.Trim());
            Assert.Equal($"error: {notFolder}: is a file, not a folder; give the folder that holds the files", notAFolder.Output.Trim());
            Assert.Equal((0L, 0L, 0L), (await CountAsync("items"), await CountAsync("sources"), await CountAsync("events")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Import_of_a_missing_folder_names_the_folder_even_when_the_database_cannot_be_reached()
    {
        var absent = Path.Combine(Path.GetTempPath(), $"recommender-absent-{Guid.NewGuid():N}");

        // Nothing listens on the discard port.
        var run = await RunCliAsync(null, "Host=127.0.0.1;Port=9;Username=nobody;Password=none;Database=none;Timeout=2", new Dictionary<string, string>(), "import", "generic", absent);

        Assert.Equal((2, $"error: {absent}: no such directory"), (run.Exit, run.Output.Trim()));
    }

    [Fact]
    public async Task Evaluate_with_data_that_is_not_a_folder_exits_2_naming_what_was_given()
    {
        var file = Path.GetTempFileName();
        try
        {
            var missing = await RunAsync(null, "evaluate", "--data", "ex", "--seeds", "1", "--learners", "0");
            var notAFolder = await RunAsync(null, "evaluate", "--data", file, "--seeds", "1", "--learners", "0");

            Assert.Equal((2, 2), (missing.Exit, notAFolder.Exit));
            Assert.Equal("error: --data ex: no such directory", missing.Output.Trim());
            Assert.Equal($"error: --data {file}: is a file, not a folder; give the folder that holds the files", notAFolder.Output.Trim());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:9", "rk_abc…", "--api-key: not a key; a key is one word of ASCII letters, digits and punctuation, as `recommender keys create` prints it")]
    [InlineData("localhost:5080", "rk_abc", "--url: 'localhost:5080' is not an http address; give the service's, e.g. http://127.0.0.1:5080")]
    public async Task Bench_with_a_url_or_a_key_that_cannot_be_one_exits_2_in_one_line(string url, string key, string message)
    {
        // A key pasted with an ellipsis failed every request as if the service did not answer; a bare host:port was a stack trace.
        var bad = await RunAsync(null, "bench", "serve", "--url", url, "--api-key", key, "--duration", "1");

        Assert.Equal(2, bad.Exit);
        Assert.Equal($"error: {message}", bad.Output.Trim());
    }

    [Fact]
    public async Task Keys_create_with_an_empty_name_is_refused_and_stores_no_key()
    {
        var refused = await RunAsync(null, "keys", "create", "--name", " ", "--scope", "catalog");

        Assert.Equal(2, refused.Exit);
        Assert.Contains("--name", refused.Output, StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync("api_keys"));
    }

    [Fact]
    public async Task Output_to_a_pipe_has_no_escape_codes_and_keeps_a_long_line_whole_even_on_a_colour_terminal()
    {
        // As a script on a colour terminal runs it: TERM says colour, nothing says NO_COLOR, but the output is a pipe.
        var colourTerminal = new Dictionary<string, string> { ["NO_COLOR"] = "", ["TERM"] = "xterm-256color", ["COLORTERM"] = "truecolor" };
        var created = await RunCliAsync(null, _db.ConnectionString, colourTerminal, "keys", "create", "--name", "a platform with a long name", "--scope", "catalog");

        Assert.Equal(0, created.Exit);
        Assert.DoesNotContain('\u001b', created.Output);
        // One line from "key" to "X-Api-Key": the bold key is not wrapped onto a line of its own.
        Assert.Matches(@"(?m)^key \d+ \(catalog\): \S+ — shown once; send it as X-Api-Key$", created.Output);
    }

    [Fact]
    public async Task Train_on_too_little_data_exits_2_and_names_a_bad_rank_by_its_flag()
    {
        var badRank = await RunAsync(null, "train", "--rank", "-1");
        var empty = await RunAsync(null, "train", "--threads", "1");

        Assert.Equal(2, badRank.Exit);
        Assert.StartsWith("error: --rank must be between 1 and 4096; got -1", badRank.Output, StringComparison.Ordinal);
        Assert.True(empty.Exit == 2, empty.Output);
        // One error line, as every CLI failure gives.
        Assert.Contains("error: model", empty.Output, StringComparison.Ordinal);
        Assert.Contains("not trained", empty.Output, StringComparison.Ordinal);
    }

    private async Task<long> CountAsync(string table)
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>($"select count(*) from {table}");
    }

    private async Task<int?> ActiveVersionAsync()
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<int?>("select version from models where is_active");
    }

    /// <summary>Runs the CLI with this class's database; <paramref name="input"/> null leaves standard input a terminal-less empty stream.</summary>
    private Task<(int Exit, string Output)> RunAsync(string? input, params string[] args) =>
        RunCliAsync(input, _db.ConnectionString, new Dictionary<string, string>(), args);

    /// <summary>The CLI on <paramref name="db"/> with extra environment, as a script runs it.</summary>
    internal static async Task<(int Exit, string Output)> RunCliAsync(string? input, string db, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(CliPath);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.ArgumentList.Add("--db");
        start.ArgumentList.Add(db);
        start.Environment["NO_COLOR"] = "1";
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(input ?? "");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            // A hung command must not outlive the test run, holding its database connections open.
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await output + await error);
    }

    /// <summary>The CLI as the project reference copies it beside the tests, with its runtime configuration and dependencies.</summary>
    private static string CliPath { get; } = Path.Combine(AppContext.BaseDirectory, "recommender.dll");
}
