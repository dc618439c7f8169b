using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Recommender.Core;
using Recommender.Data;
using Xunit.Abstractions;

namespace Recommender.Service.Tests;

/// <summary>
/// Malformed requests generated from the service's own OpenAPI document, sent over real HTTP to a real Kestrel server
/// (so its request-size and parsing limits are the ones in production) as several callers, so that handlers behind
/// authorization are reached too.
/// </summary>
public sealed class HostileInputTests(ServiceFixture service, ITestOutputHelper output) : IClassFixture<ServiceFixture>
{
    private const int Seed = 20261203;
    private const int GeneratedRequests = 10_000;
    private const int RawRequestsPerOperation = 6;

    // How long any one request may go unanswered before it counts as a failure (status 0) rather than hanging the run.
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    private sealed record Identity(string Name, string? Cookie, string? ApiKey);

    [Fact]
    public async Task OpenApi_generated_malformed_requests_get_no_5xx_and_lose_nothing()
    {
        // Port 0 on loopback: the system picks a free port.
        using var host = service.WithWebHostBuilder(b => b.UseUrls("http://127.0.0.1:0"));
        host.UseKestrel();
        host.StartServer();
        var address = new Uri(host.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First()
            .Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false, MaxConnectionsPerServer = 8 })
        {
            BaseAddress = address,
            Timeout = AnswerTimeout,
        };

        var mallory = await new AccountStore(service.DataSource).UpsertAsync("mallory", "Mallory", "user", ServiceFixture.Password);
        var (_, key) = await new ApiKeyStore(service.DataSource).CreateAsync("hostile platform", [.. ApiKeyStore.Scopes]);
        Identity[] identities =
        [
            new("anonymous", null, null),
            new("person", await ServiceFixture.SessionCookieAsync(http, service.Alice.Login), null),
            new("admin", await ServiceFixture.SessionCookieAsync(http, service.Admin.Login), null),
            new("api key (every scope)", null, key),
            new("forged credentials", ApiServiceExtensions.CookieName + "=CfDJ8forged" + new string('A', 300), "rk_" + new string('z', 40)),
        ];
        var deleter = new Identity("person", await ServiceFixture.SessionCookieAsync(http, mallory.Login), null);

        var document = JsonNode.Parse(await http.GetStringAsync("/openapi/v1.json"))!;
        var operations = ApiOperation.ReadAll(document);
        var generator = new HostileRequests(document, await VocabularyAsync(), Seed, ApiServiceExtensions.MaxRequestBodyBytes);
        var horizon = await HorizonAsync();
        var before = await SnapshotAsync(mallory.Id, horizon);

        // Which callers get past authorization for each operation, so that most requests are sent as one of them.
        var admitted = new Dictionary<string, Identity[]>();
        foreach (var op in operations)
        {
            var plain = generator.Next(op, "extra query parameters");
            var passing = new List<Identity>();
            foreach (var identity in identities.Where(i => !(op.Path == "/api/me" && i.Cookie is not null)))
            {
                if ((await SendAsync(http, plain, identity, CancellationToken.None)).Status is not (401 or 403))
                    passing.Add(identity);
            }
            admitted[op.Name] = [.. passing];
        }

        var plan = new List<(HostileRequest Request, Identity Identity)>();
        var trainings = 0;
        for (var i = 0; i < GeneratedRequests; i++)
        {
            var op = operations[i % operations.Count];
            var identity = generator.Pick(admitted[op.Name] is { Length: > 0 } a && generator.Pick([true, true, true, false]) ? a : identities);
            // Deleting "my account" is a valid request whatever else is wrong with it; only Mallory's account may go.
            if (op.Path == "/api/me" && identity.Cookie is not null && identity.Name != "forged credentials")
                identity = deleter;
            // Training is real work whatever the request looks like; a few admin calls prove it is reached.
            if (op.Path.EndsWith("/train", StringComparison.Ordinal) && identity.Name == "admin" && ++trainings > 2)
                identity = identities[1];
            plan.Add((generator.Next(op, generator.Pick(generator.KindsFor(op))), identity));
        }

        var byStatus = new ConcurrentDictionary<int, int>();
        var byKind = new ConcurrentDictionary<string, int>();
        var operationsReached = new ConcurrentDictionary<string, byte>();
        var failures = new ConcurrentQueue<string>();
        var unnamed = new ConcurrentQueue<string>();
        var refusedByKestrel = 0;
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(plan, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (p, ct) =>
        {
            var (status, detail) = p.Request.Kind == "oversized body" ? await SendOversizedAsync(address, p.Request, p.Identity) : await SendAsync(http, p.Request, p.Identity, ct);
            byStatus.AddOrUpdate(status, 1, (_, n) => n + 1);
            byKind.AddOrUpdate(p.Request.Kind, 1, (_, n) => n + 1);
            if (status is not (401 or 403 or 404 or 405))
                operationsReached.TryAdd(p.Request.Operation.Name, 0);
            // An empty 400 comes from Kestrel itself (a NUL in the path is refused before any middleware runs); the app
            // answers every error with ProblemDetails, since status code pages fill in any empty one.
            if (status == 400 && detail.Length == 0)
                Interlocked.Increment(ref refusedByKestrel);
            else if (status == 400 && p.Request.Kind != "oversized body" && !NamesAField(detail))
                unnamed.Enqueue($"{p.Request.Operation.Name}, {p.Request.Kind}: {Abbreviate(p.Request.Target)} {Abbreviate(p.Request.Body)} → {Abbreviate(detail)}");
            if (status is >= 500 or 0)
                failures.Enqueue($"{status} {p.Request.Operation.Name} as {p.Identity.Name}, {p.Request.Kind}: {Abbreviate(p.Request.Target)} {Abbreviate(p.Request.Body)} → {Abbreviate(detail)}");
        });
        // Bytes no HTTP client library would send: invalid UTF-8 straight in the request line and in header values.
        var raw = 0;
        foreach (var op in operations)
        {
            for (var i = 0; i < RawRequestsPerOperation; i++, raw++)
            {
                var status = await SendRawAsync(address, op, i);
                byStatus.AddOrUpdate(status, 1, (_, n) => n + 1);
                byKind.AddOrUpdate("raw invalid bytes in request line or headers", 1, (_, n) => n + 1);
                if (status is >= 500 or 0)
                    failures.Enqueue($"{status} raw request #{i} for {op.Name}");
            }
        }
        clock.Stop();

        output.WriteLine($"{plan.Count + raw:N0} malformed requests over {operations.Count} operations in {clock.Elapsed.TotalSeconds:F1} s (seed {Seed})");
        output.WriteLine("by status: " + string.Join(", ", byStatus.OrderBy(p => p.Key).Select(p => $"{(p.Key == 0 ? "no response" : p.Key)}: {p.Value:N0}")));
        output.WriteLine("by kind: " + string.Join(", ", byKind.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}: {p.Value:N0}")));
        output.WriteLine($"400s without a body, from Kestrel before the app: {refusedByKestrel}");
        output.WriteLine($"operations whose handler answered (not 401/403/404/405): {operationsReached.Count} of {operations.Count}");
        foreach (var failure in failures.Take(30).Concat(unnamed.Take(30)))
            output.WriteLine(failure);

        Assert.True(plan.Count + raw >= 10_000);
        Assert.Empty(failures);
        Assert.Empty(unnamed);
        Assert.Equal(operations.Select(o => o.Name).Order(), operationsReached.Keys.Order());
        Assert.True(byStatus.ContainsKey(413), "oversized bodies are refused with 413");
        using (var health = await http.GetAsync("/health"))
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        await host.Services.GetRequiredService<Serving.AuditLog>().FlushAsync();
        Assert.Equal(before, await SnapshotAsync(mallory.Id, horizon));
    }

    /// <summary>A 400 must be ProblemDetails with at least one named field in <c>errors</c>.</summary>
    private static bool NamesAField(string body)
    {
        try
        {
            return JsonNode.Parse(body)?["errors"] is JsonObject { Count: > 0 };
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private static async Task<(int Status, string Detail)> SendAsync(HttpClient http, HostileRequest r, Identity identity, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(r.Operation.Method, new Uri(r.Target, UriKind.Relative));
        if (r.Body is not null)
        {
            var content = new ByteArrayContent(r.Body);
            if (r.ContentType is { Length: > 0 } type)
                content.Headers.TryAddWithoutValidation("Content-Type", type);
            if (r.Chunked)
                request.Headers.TransferEncodingChunked = true;
            request.Content = content;
        }
        if (identity.Cookie is not null)
            request.Headers.Add("Cookie", identity.Cookie);
        if (identity.ApiKey is not null)
            request.Headers.Add("X-Api-Key", identity.ApiKey);
        try
        {
            using var response = await http.SendAsync(request, ct);
            var text = (int)response.StatusCode is >= 500 or 400 ? await response.Content.ReadAsStringAsync(ct) : "";
            return ((int)response.StatusCode, text);
        }
        catch (HttpRequestException e)
        {
            return (0, string.Join(" ← ", new[] { e, e.InnerException, e.InnerException?.InnerException }.OfType<Exception>().Select(x => x.Message)));
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            // The client's timeout, not the run being stopped: counted with the failures instead of ending the run unexplained.
            return (0, "no answer: " + e.Message);
        }
    }

    /// <summary>
    /// An oversized body on a connection of its own: the server may answer 413 and close before the body is all sent,
    /// which an HTTP client library reports as a broken pipe, so the status line is read while the body is written.
    /// </summary>
    private static async Task<(int Status, string Detail)> SendOversizedAsync(Uri address, HostileRequest r, Identity identity)
    {
        var head = new StringBuilder($"{r.Operation.Method} {r.Target} HTTP/1.1\r\nHost: {address.Authority}\r\nConnection: close\r\nContent-Type: {r.ContentType}\r\n");
        head.Append(r.Chunked ? "Transfer-Encoding: chunked\r\n" : $"Content-Length: {r.Body!.Length}\r\n");
        if (identity.Cookie is not null)
            head.Append($"Cookie: {identity.Cookie}\r\n");
        if (identity.ApiKey is not null)
            head.Append($"X-Api-Key: {identity.ApiKey}\r\n");
        head.Append("\r\n");
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        var writing = Task.Run(async () =>
        {
            try
            {
                for (var at = 0; at < r.Body!.Length; at += 64 * 1024)
                {
                    var chunk = r.Body.AsMemory(at, Math.Min(64 * 1024, r.Body.Length - at));
                    if (r.Chunked)
                        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{chunk.Length:X}\r\n"));
                    await stream.WriteAsync(chunk);
                    if (r.Chunked)
                        await stream.WriteAsync("\r\n"u8.ToArray());
                }
                if (r.Chunked)
                    await stream.WriteAsync("0\r\n\r\n"u8.ToArray());
            }
            catch (IOException)
            {
                // The server stopped reading: it has answered already.
            }
        });
        using var reader = new StreamReader(stream, Encoding.Latin1, leaveOpen: true);
        using var answer = new CancellationTokenSource(AnswerTimeout);
        string? status;
        try
        {
            status = await reader.ReadLineAsync(answer.Token);
        }
        catch (IOException e)
        {
            status = "connection reset before an answer: " + e.Message;
        }
        catch (OperationCanceledException) when (answer.IsCancellationRequested)
        {
            status = $"no status line within {AnswerTimeout.TotalSeconds:N0} s";
        }
        client.Client.Shutdown(SocketShutdown.Both);
        await writing;
        return (status is { Length: >= 12 } && int.TryParse(status.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : 0, status ?? "no status line");
    }

    /// <summary>One HTTP/1.1 request written byte for byte; returns the status of the answer.</summary>
    private static async Task<int> SendRawAsync(Uri address, ApiOperation op, int variant)
    {
        var path = op.Path.Replace("{", "x", StringComparison.Ordinal).Replace("}", "x", StringComparison.Ordinal);
        byte[] bad = [0xFF, 0xC3, 0x28, 0xED, 0xA0, 0x80];
        var ascii = Encoding.ASCII;
        byte[] head = variant switch
        {
            0 => [.. ascii.GetBytes($"{op.Method} {path}/"), .. bad, .. ascii.GetBytes(" HTTP/1.1\r\n")],
            1 => [.. ascii.GetBytes($"{op.Method} {path}?q="), .. bad, .. ascii.GetBytes(" HTTP/1.1\r\n")],
            2 => [.. ascii.GetBytes($"{op.Method} {path} HTTP/1.1\r\nX-Api-Key: "), .. bad, .. ascii.GetBytes("\r\n")],
            3 => [.. ascii.GetBytes($"{op.Method} {path} HTTP/1.1\r\nCookie: {ApiServiceExtensions.CookieName}="), .. bad, .. ascii.GetBytes("\r\n")],
            4 => ascii.GetBytes($"{op.Method} {path}%00 HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 0\r\n"),
            _ => ascii.GetBytes($"{op.Method} {path} HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n"),
        };
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port);
        var stream = client.GetStream();
        // One write: Kestrel refuses at the first bad byte and closes; bytes arriving after that would reset the
        // connection and could discard its answer before it is read.
        byte[] request = [.. head, .. ascii.GetBytes($"Host: {address.Authority}\r\nConnection: close\r\n\r\n")];
        await stream.WriteAsync(request);
        using var reader = new StreamReader(stream, Encoding.Latin1);
        using var answer = new CancellationTokenSource(AnswerTimeout);
        string? status;
        try
        {
            status = await reader.ReadLineAsync(answer.Token);
        }
        catch (IOException)
        {
            return 0; // reported as a failure: no answer at all
        }
        catch (OperationCanceledException) when (answer.IsCancellationRequested)
        {
            return 0; // reported as a failure: no answer in time
        }
        return status is { Length: >= 12 } && int.TryParse(status.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : 0;
    }

    private async Task<Vocabulary> VocabularyAsync()
    {
        await using var conn = await service.DataSource.OpenConnectionAsync();
        var users = (await conn.QueryAsync<long>("select id from users order by id limit 20")).ToArray();
        return new Vocabulary([.. service.Items.Values], [.. service.Items.Keys], [.. Testing.SmallWorld.Topics],
            ["engagement", "learning", "diversity", "no_profiling", "blend", "fresh"], [.. EventKinds.All], users);
    }

    private sealed record Horizon(long Event, long Model, long Key);

    private async Task<Horizon> HorizonAsync()
    {
        await using var conn = await service.DataSource.OpenConnectionAsync();
        return await conn.QuerySingleAsync<Horizon>("""
            select coalesce((select max(id) from events), 0) as event, coalesce((select max(version)::bigint from models), 0) as model,
                   coalesce((select max(id) from api_keys), 0) as key
            """);
    }

    /// <summary>Every row stored before the run, as a fingerprint per table (Mallory's own rows aside: deleting them is allowed).</summary>
    private async Task<string> SnapshotAsync(long mallory, Horizon horizon)
    {
        await using var conn = await service.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<string>("""
            select concat_ws(' / ',
                (select count(*) || ' events ' || md5(coalesce(string_agg(concat_ws('|', user_id, id, item_id, kind, value, occurred_at, idempotency_key), ',' order by id), ''))
                   from events where user_id <> @mallory and id <= @Event),
                (select count(*) || ' items ' || md5(coalesce(string_agg(concat_ws('|', id, external_id, title, url, summary, published_at, level, source_id, stance), ',' order by id), ''))
                   from items where external_id like 'item-%'),
                (select count(*) || ' sources ' || md5(coalesce(string_agg(concat_ws('|', id, external_id, name, credibility), ',' order by id), '')) from sources where external_id in ('good', 'dubious')),
                (select count(*) || ' people ' || md5(coalesce(string_agg(concat_ws('|', id, login, role, password_hash), ',' order by id), '')) from users where login in ('alice', 'bob', 'root')),
                (select count(*) || ' models' from models where version <= @Model),
                (select count(*) || ' live keys' from api_keys where id <= @Key and revoked_at is null))
            """, new { mallory, horizon.Event, horizon.Model, horizon.Key }) ?? "";
    }

    private static string Abbreviate(string? text) => text is null ? "" : text.Length <= 300 ? text : text[..300] + $"… ({text.Length:N0} chars)";

    private static string Abbreviate(byte[]? body) => body is null ? "" : Abbreviate(Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 400))));
}
