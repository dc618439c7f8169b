using System.Net;
using System.Text;
using Dapper;
using Xunit.Abstractions;

namespace Recommender.Web.Tests;

/// <summary>
/// Generated malformed form posts to every form endpoint, each carrying a valid antiforgery token so that the handler
/// itself is reached: wrong types, huge and negative numbers, missing, repeated and extra fields, very long values,
/// NUL and invalid UTF-8, hostile return addresses, wrong content types, oversized values.
/// </summary>
[Collection(WebCollection.Name)]
public sealed class HostileFormTests(WebFixture web, ITestOutputHelper output)
{
    private const int Seed = 20261203;
    private const int PostsPerForm = 150;

    private static readonly string[] HostileValues =
    [
        "", " ", "abc", "-1", "0", "1.5", "-2147483649", "2147483648", "9223372036854775808", "1e308", "NaN", "Infinity", "-0",
        "%00", "a%00b", "%FF%FE", "%C3%28", "%ED%A0%80", "%E2%80%AE", "%0D%0ALocation:%20https://evil.example", "%27%20or%201%3D1%20--",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "00000000-0000-0000-0000-000000000000", "not-a-guid", "like", "learned", "engagement", "blend", "admin", "user",
    ];

    private static readonly string[] HostileReturnUrls =
    [
        "//evil.example", "/\\evil.example", "https://evil.example", "javascript:alert(1)", "/%0D%0ASet-Cookie:%20x=y", "/caf%C3%A9",
        "/%FF", "/%00", "/" + new string('a', 9000), "/settings?error=%0A", "/?noted=1#x", "%2F%2Fevil.example", "/%E2%80%AEevil",
    ];

    [Fact]
    public async Task Form_posts_generated_malformed_fields_with_valid_tokens_get_no_5xx()
    {
        var person = await web.NewAccountAsync();
        var admin = await web.NewAccountAsync("admin");
        using var anonymous = web.NewClient();
        using var personClient = web.NewClient();
        using var adminClient = web.NewClient();
        await personClient.SignInAsync(person);
        await adminClient.SignInAsync(admin);
        var (_, signInPage, _) = await anonymous.PageAsync("/sign-in");
        var (_, settingsPage, _) = await personClient.PageAsync("/settings");
        var (_, modelsPage, _) = await adminClient.PageAsync("/admin/models");
        var blendFields = settingsPage.QuerySelectorAll("form[action='/me/blend'] input").Select(i => i.GetAttribute("name")).OfType<string>()
            .Where(n => n.EndsWith("_weight", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(blendFields);

        (string Action, WebClient Client, string Token, string[] Fields)[] forms =
        [
            ("/sign-in", anonymous, WebClient.Token(signInPage), ["login", "password", "returnUrl"]),
            ("/me/feedback", personClient, WebClient.Token(settingsPage), ["itemId", "kind", "requestId", "returnUrl"]),
            ("/me/feedback/undo", personClient, WebClient.Token(settingsPage), ["itemId", "kind", "requestId", "returnUrl", "after"]),
            ("/me/goal", personClient, WebClient.Token(settingsPage), ["objectiveId", "topics", "returnUrl"]),
            ("/me/settings", personClient, WebClient.Token(settingsPage), ["credibilityFloor", "topics"]),
            ("/me/blend", personClient, WebClient.Token(settingsPage), blendFields),
            ("/admin/do/activate", adminClient, WebClient.Token(modelsPage), ["version"]),
            ("/admin/do/role", adminClient, WebClient.Token(modelsPage), ["userId", "role"]),
            ("/admin/do/create-api-key", adminClient, WebClient.Token(modelsPage), ["name", "scope"]),
            ("/admin/do/revoke-api-key", adminClient, WebClient.Token(modelsPage), ["id"]),
            // No hostile value names a registered publisher key, so none of these revokes one.
            ("/admin/do/revoke-key", adminClient, WebClient.Token(modelsPage), ["keyId", "reason", "confirmed"]),
            // No hostile value is a window of 1 to 366 days, so none of these spends privacy budget.
            ("/admin/do/export", adminClient, WebClient.Token(modelsPage), ["epsilon", "days", "confirmed"]),
        ];
        var random = new Random(Seed);
        var byStatus = new SortedDictionary<int, int>();
        var failures = new List<string>();
        var posts = 0;
        // A NUL where each form stores text: PostgreSQL cannot hold it, so it must be refused before it gets there.
        (string Action, WebClient Client, string Token, string Body)[] nul =
        [
            ("/sign-in", anonymous, WebClient.Token(signInPage), "login=a%00b&password=x%00"),
            ("/me/goal", personClient, WebClient.Token(settingsPage), "objectiveId=learning&topics=Oce%00ans"),
            ("/me/goal", personClient, WebClient.Token(settingsPage), "objectiveId=engagement&topics=%00"),
            ("/me/settings", personClient, WebClient.Token(settingsPage), "topics=Phys%00ics&credibilityFloor=0.5"),
            ("/admin/do/create-api-key", adminClient, WebClient.Token(modelsPage), "name=Sh%00op&scope=feeds"),
            ("/me/feedback", personClient, WebClient.Token(settingsPage), $"itemId=1&kind=like&requestId={Guid.NewGuid()}&returnUrl=%2F%00"),
        ];
        foreach (var (action, client, token, fields) in nul)
        {
            using var response = await client.PostRawAsync(action, Encoding.ASCII.GetBytes($"__RequestVerificationToken={Uri.EscapeDataString(token)}&{fields}"), "application/x-www-form-urlencoded");
            byStatus[(int)response.StatusCode] = byStatus.GetValueOrDefault((int)response.StatusCode) + 1;
            posts++;
            if ((int)response.StatusCode >= 500)
                failures.Add($"{(int)response.StatusCode} {action}: {fields}");
        }
        foreach (var (action, client, token, fields) in forms)
        {
            for (var i = 0; i < PostsPerForm; i++, posts++)
            {
                var (body, contentType) = Malformed(random, token, fields, action);
                using var response = await client.PostRawAsync(action, body, contentType);
                var status = (int)response.StatusCode;
                byStatus[status] = byStatus.GetValueOrDefault(status) + 1;
                if (status >= 500)
                    failures.Add($"{status} {action}: {Abbreviate(Encoding.UTF8.GetString(body))}");
                if (response.Headers.Location is { } location && (location.IsAbsoluteUri || location.OriginalString is not ['/', not ('/' or '\\'), ..] and not "/"))
                    failures.Add($"{action} redirected off the site to {location}");
            }
        }

        output.WriteLine($"{posts:N0} malformed form posts to {forms.Length} forms (seed {Seed}); by status: {string.Join(", ", byStatus.Select(p => $"{p.Key}: {p.Value:N0}"))}");
        foreach (var failure in failures.Take(20))
            output.WriteLine(failure);
        Assert.Empty(failures);
        // Every handler answers with a redirect, so redirects mean the tokens were good and the handlers were reached.
        Assert.True(byStatus.GetValueOrDefault(302) > posts / 4, "a good share of posts reached their handler");
        // Still serving, and the person and admin are who they were.
        Assert.Equal(HttpStatusCode.OK, (await personClient.PageAsync("/")).Status);
        await using var conn = await web.DataSource.OpenConnectionAsync();
        Assert.Equal(["admin", "user"], await conn.QueryAsync<string>("select role from users where id in (@a, @p) order by role", new { a = admin.Id, p = person.Id }));
    }

    private static (byte[] Body, string ContentType) Malformed(Random random, string token, string[] fields, string action)
    {
        var pairs = new List<string> { "__RequestVerificationToken=" + Uri.EscapeDataString(token) };
        foreach (var field in fields)
        {
            switch (random.Next(6))
            {
                case 0:
                    break; // missing
                case 1:
                    pairs.Add($"{field}={Pick(random, HostileValues)}");
                    pairs.Add($"{field}={Pick(random, HostileValues)}"); // repeated
                    break;
                case 2:
                    pairs.Add($"{field}={new string(Pick(random, ['a', '9', '-']), Pick(random, [1_001, 70_000, 300_000]))}");
                    break;
                default:
                    pairs.Add($"{field}={(field == "returnUrl" ? Uri.EscapeDataString(Pick(random, HostileReturnUrls)).Replace("%25", "%", StringComparison.Ordinal) : Pick(random, HostileValues))}");
                    break;
            }
        }
        if (random.Next(4) == 0)
            pairs.Add($"{Pick(random, ["extra", "role", "userId", "%00", "%FF", "a[b]"])}={Pick(random, HostileValues)}");
        // The admin's training button is real work whatever else is in the form; it is reached in the page tests.
        var text = string.Join('&', pairs.OrderBy(_ => random.Next()));
        return random.Next(12) switch
        {
            0 => (Encoding.UTF8.GetBytes(text), Pick(random, ["text/plain", "application/json", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded; charset=utf-16"])),
            1 => ([.. Encoding.UTF8.GetBytes(text + "&x="), 0xFF, 0xC3, 0x28], "application/x-www-form-urlencoded"),
            2 => (Encoding.UTF8.GetBytes(text + "&big=" + new string('b', 5_000_000)), "application/x-www-form-urlencoded"),
            _ => (Encoding.UTF8.GetBytes(text), "application/x-www-form-urlencoded"),
        };
    }

    private static T Pick<T>(Random random, IReadOnlyList<T> values) => values[random.Next(values.Count)];

    private static string Abbreviate(string text) => text.Length <= 300 ? text : text[..300] + $"… ({text.Length:N0} chars)";
}
