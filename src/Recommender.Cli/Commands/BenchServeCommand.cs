using System.Buffers;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Recommender.Cli.Commands;

/// <summary>
/// <c>recommender bench serve</c> and <c>bench ingest</c>: load against a running service through the platform API,
/// on loopback, bounded in time and requests, printing one JSON line of figures.
/// </summary>
internal static class BenchServeCommand
{
    public static IEnumerable<Command> Create()
    {
        // No default: a default would be the address `up` serves the demo on, and the load writes real users and events there.
        var url = new Option<string>("--url") { Description = "Service base address (loopback), e.g. http://127.0.0.1:5190. The load writes users and events there.", Required = true };
        var key = new Option<string>("--api-key") { Description = "Platform API key with the feeds (serve) or events (ingest) scope.", Required = true };
        var users = new Option<int>("--users") { Description = "Platform user ids 1..N to request feeds for.", DefaultValueFactory = _ => 1000 };
        var rate = new Option<int>("--rate") { Description = "Requests per second (open loop); 0 = as fast as --concurrency allows.", DefaultValueFactory = _ => 0 };
        var concurrency = new Option<int>("--concurrency") { Description = "Requests in flight at most.", DefaultValueFactory = _ => 32 };
        var duration = new Option<int>("--duration") { Description = "Seconds to run, 1 to 600.", DefaultValueFactory = _ => 20 }.Within(1, 600, "seconds");
        var k = new Option<int>("--k") { Description = "Items per feed.", DefaultValueFactory = _ => 20 };
        var serve = new Command("serve", "Feed requests at a fixed rate or at saturation; prints throughput and latency percentiles.") { url, key, users, rate, concurrency, duration, k };
        serve.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            using var http = Client(parse.GetValue(url)!, parse.GetValue(key)!);
            if (await KeyProblemAsync(http, Feeds, ct) is { } refused)
                return Failed(refused);
            var n = parse.GetValue(users);
            var size = parse.GetValue(k);
            var random = new Random(1);
            var result = await RunAsync(parse.GetValue(rate), parse.GetValue(concurrency), parse.GetValue(duration),
                async () => (HttpResponseMessage?)await http.GetAsync($"/api/platform/users/{random.Next(1, n + 1)}/feed?k={size}"), ct);
            Console.WriteLine(JsonSerializer.Serialize(new { bench = "serve", rate = parse.GetValue(rate), result.Requests, result.Errors, result.PerSecond, result.P50Ms, result.P90Ms, result.P99Ms, result.MaxMs, result.OkP99Ms, result.RefusedP99Ms, result.StatusCounts }));
            return Outcome(("feed requests", result));
        }));

        var events = new Option<int>("--events") { Description = "Events to send in all, 1 to 10,000,000.", DefaultValueFactory = _ => 200_000 }.Within(1, 10_000_000);
        var batch = new Option<int>("--batch") { Description = "Events per request, 1 to 1000.", DefaultValueFactory = _ => 1000 }.Within(1, 1000);
        var items = new Option<string>("--item-prefix") { Description = "Items are '<prefix><n>' for n in 1..--items (the synthetic data's ids).", DefaultValueFactory = _ => "" };
        var itemCount = new Option<int>("--items") { Description = "How many items to spread events over.", DefaultValueFactory = _ => 1000 };
        var ingest = new Command("ingest", "Send events in batches as fast as --concurrency allows; prints events per second and how many were acknowledged.")
        {
            url, key, users, concurrency, events, batch, items, itemCount,
        };
        ingest.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            using var http = Client(parse.GetValue(url)!, parse.GetValue(key)!);
            if (await KeyProblemAsync(http, Events, ct) is { } refused)
                return Failed(refused);
            var total = parse.GetValue(events);
            var perBatch = parse.GetValue(batch);
            var run = Guid.NewGuid().ToString("N")[..8];
            var next = -1;
            long acknowledged = 0;
            var batches = (total + perBatch - 1) / perBatch;
            var (n, prefix, count) = (parse.GetValue(users), parse.GetValue(items), parse.GetValue(itemCount));
            var clock = Stopwatch.StartNew();
            var result = await RunAsync(0, parse.GetValue(concurrency), 600, async () =>
            {
                var b = Interlocked.Increment(ref next);
                if (b >= batches)
                    return null;
                using var content = EventBatch(run, b * perBatch, Math.Min((b + 1) * perBatch, total), i => 1 + i % n, prefix, count);
                var response = await http.PostAsync("/api/platform/events", content);
                if (response.IsSuccessStatusCode)
                    Interlocked.Add(ref acknowledged, await RecordedAsync(response));
                return response;
            }, ct);
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                bench = "ingest",
                run,
                sent = total,
                acknowledged,
                eventsPerSecond = acknowledged / clock.Elapsed.TotalSeconds,
                result.Errors,
                result.P99Ms,
                result.StatusCounts,
                countBack = $"select count(*) from events where idempotency_key like 'bench-{run}-%'",
            }));
            return Outcome(("event batches", result));
        }));
        var feedRate = new Option<int>("--feed-rate") { Description = "Feed requests per second (open loop).", DefaultValueFactory = _ => 50 };
        var eventRate = new Option<int>("--event-rate") { Description = "Event batches per second (open loop).", DefaultValueFactory = _ => 20 };
        var timeline = new Option<string?>("--timeline") { Description = "Write every response as a CSV line 'unix_ms,kind,status,acknowledged' to this file." };
        var mixed = new Command("mixed", "Feeds and event batches together at fixed rates for --duration seconds; prints status counts each second, " +
            "then the tally of acknowledged events and how to count them back. Failed requests are not retried.")
        {
            url, key, users, duration, k, batch, items, itemCount, feedRate, eventRate, concurrency, timeline,
        };
        mixed.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            using var http = Client(parse.GetValue(url)!, parse.GetValue(key)!);
            if ((await KeyProblemAsync(http, Feeds, ct) ?? await KeyProblemAsync(http, Events, ct)) is { } refused)
                return Failed(refused);
            var (n, size, prefix, count) = (parse.GetValue(users), parse.GetValue(k), parse.GetValue(items), parse.GetValue(itemCount));
            var perBatch = parse.GetValue(batch);
            var seconds = parse.GetValue(duration);
            var run = Guid.NewGuid().ToString("N")[..8];
            var log = new MixedLog();
            var next = -1;
            var feedRandom = new Random(1);
            var feeds = RunAsync(Math.Max(1, parse.GetValue(feedRate)), parse.GetValue(concurrency), seconds, async () =>
            {
                int user;
                lock (feedRandom)
                    user = feedRandom.Next(1, n + 1);
                return await log.TrackAsync("feed", async () => (await http.GetAsync($"/api/platform/users/{user}/feed?k={size}"), 0));
            }, ct);
            var events = RunAsync(Math.Max(1, parse.GetValue(eventRate)), parse.GetValue(concurrency), seconds, async () =>
            {
                var b = Interlocked.Increment(ref next);
                using var content = EventBatch(run, b * perBatch, (b + 1) * perBatch, i => 1 + (int)(i * 31L % n), prefix, count);
                return await log.TrackAsync("events", async () =>
                {
                    var response = await http.PostAsync("/api/platform/events", content);
                    return (response, response.IsSuccessStatusCode ? await RecordedAsync(response) : 0);
                });
            }, ct);
            using (var ticker = new PeriodicTimer(TimeSpan.FromSeconds(1)))
            {
                var all = Task.WhenAll(feeds, events);
                for (var second = 1; !all.IsCompleted; second++)
                {
                    if (await Task.WhenAny(all, ticker.WaitForNextTickAsync(ct).AsTask()) == all)
                        break;
                    Console.WriteLine(JsonSerializer.Serialize(log.Second(second)));
                }
                await all;
            }
            if (parse.GetValue(timeline) is { } file)
                await File.WriteAllLinesAsync(file, log.Lines(), ct);
            var (f, e) = (await feeds, await events);
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                bench = "mixed",
                run,
                feeds = new { f.Requests, f.Errors, f.P50Ms, f.P99Ms, f.MaxMs, f.StatusCounts },
                events = new { e.Requests, e.Errors, e.P99Ms, e.StatusCounts, unavailable = log.Unavailable, unavailableWithRetryAfter = log.UnavailableWithRetryAfter, sent = (next + 1L) * perBatch, acknowledged = log.Acknowledged },
                countBack = $"select count(*) from events where idempotency_key like 'bench-{run}-%'",
            }));
            return Outcome(("feed requests", f), ("event batches", e));
        }));
        return [serve, ingest, mixed];
    }

    // The scopes a load needs, as `keys create --scope` names them.
    private const string Feeds = "feeds";
    private const string Events = "events";

    /// <summary>
    /// Why the service will not take the load from this key (not known, revoked, or without <paramref name="scope"/>), or
    /// that it does not answer; null when one request with the key was let through. Asked once before a run, so a
    /// refused key is one line and exit 1 rather than a run of 401s measured as if it were load. The requests asked
    /// store nothing: a settings read creates no user, and an empty batch holds no event.
    /// </summary>
    private static async Task<string?> KeyProblemAsync(HttpClient http, string scope, CancellationToken ct)
    {
        using var request = scope == Feeds
            ? new HttpRequestMessage(HttpMethod.Get, "/api/platform/users/1/settings")
            : new HttpRequestMessage(HttpMethod.Post, "/api/platform/events") { Content = JsonContent.Create(Array.Empty<object>()) };
        try
        {
            using var response = await http.SendAsync(request, ct);
            return response.StatusCode switch
            {
                HttpStatusCode.Unauthorized => $"--api-key: the service at {http.BaseAddress} refused the key: it is not known or has been revoked; an admin creates one with `recommender keys create --scope {scope}`",
                HttpStatusCode.Forbidden => $"--api-key: the service at {http.BaseAddress} refused the key for this load: it lacks the '{scope}' scope",
                _ => null,
            };
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !ct.IsCancellationRequested))
        {
            return $"--url: no answer from {http.BaseAddress} ({e.Message}); is the service running there?";
        }
    }

    private static int Failed(string problem)
    {
        CliContext.Error(problem);
        return 1;
    }

    /// <summary>
    /// Exit 1 when not one request of a kind succeeded, with one line saying how they failed: the figures of such a run
    /// measure refusals, not the service. Otherwise 0, whatever share failed (overload is measured by its 503s).
    /// </summary>
    private static int Outcome(params (string What, LoadResult Result)[] runs)
    {
        foreach (var (what, result) in runs)
        {
            if (result.Succeeded > 0 || result.Errors == 0)
                continue;
            var answered = result.StatusCounts.Values.Sum();
            var how = result.StatusCounts.OrderBy(c => c.Key).Select(c => $"{c.Value} × {c.Key}")
                .Concat(result.Errors > answered ? [$"{result.Errors - answered} without an answer"] : []);
            return Failed($"every one of the {result.Errors} {what} failed ({string.Join(", ", how)})");
        }
        return 0;
    }

    /// <summary>
    /// Events <paramref name="from"/> to <paramref name="to"/> (exclusive) of a run as one request body: views of
    /// '&lt;prefix&gt;1'..'&lt;prefix&gt;<paramref name="items"/>' by the users <paramref name="userOf"/> picks, keyed by run and
    /// number so they can be counted back. Written straight to UTF-8: the load generator shares the machine with the
    /// service, so its own cost counts.
    /// </summary>
    private static ReadOnlyMemoryContent EventBatch(string run, int from, int to, Func<int, int> userOf, string? prefix, int items)
    {
        var body = new ArrayBufferWriter<byte>((to - from) * 96);
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartArray();
            for (var i = from; i < to; i++)
            {
                json.WriteStartObject();
                json.WriteString("userId", userOf(i).ToString(CultureInfo.InvariantCulture));
                json.WriteString("itemId", prefix + (1 + (i * 7919L) % items).ToString(CultureInfo.InvariantCulture));
                json.WriteString("kind", "view");
                json.WriteString("idempotencyKey", $"bench-{run}-{i}");
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        var content = new ReadOnlyMemoryContent(body.WrittenMemory);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>How many events an accepted batch recorded (repeats of stored keys are not counted).</summary>
    private static async Task<int> RecordedAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("recorded").GetInt32();

    /// <summary>What <c>bench mixed</c> saw: every response with its time (status 0: no answer), counts since the last per-second line, and the acknowledged tally.</summary>
    private sealed class MixedLog
    {
        private readonly List<(long UnixMs, string Kind, int Status, int Acknowledged)> _lines = [];
        private readonly Dictionary<string, Dictionary<int, long>> _second = new() { ["feed"] = [], ["events"] = [] };
        private long _acknowledged;
        private long _unavailable;
        private long _unavailableWithRetryAfter;

        /// <summary>Events the service said it recorded.</summary>
        public long Acknowledged => Interlocked.Read(ref _acknowledged);

        /// <summary>503 answers to event batches, and how many of them said when to retry.</summary>
        public long Unavailable => Interlocked.Read(ref _unavailable);

        public long UnavailableWithRetryAfter => Interlocked.Read(ref _unavailableWithRetryAfter);

        public async Task<HttpResponseMessage> TrackAsync(string kind, Func<Task<(HttpResponseMessage Response, int Recorded)>> call)
        {
            try
            {
                var (response, recorded) = await call();
                Interlocked.Add(ref _acknowledged, recorded);
                if (kind == "events" && response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable)
                {
                    Interlocked.Increment(ref _unavailable);
                    if (response.Headers.RetryAfter is not null)
                        Interlocked.Increment(ref _unavailableWithRetryAfter);
                }
                Add(kind, (int)response.StatusCode, recorded);
                return response;
            }
            catch (Exception e) when (e is HttpRequestException || e is TaskCanceledException)
            {
                Add(kind, 0, 0);
                throw;
            }
        }

        private void Add(string kind, int status, int recorded)
        {
            lock (_lines)
            {
                _lines.Add((DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), kind, status, recorded));
                _second[kind][status] = _second[kind].GetValueOrDefault(status) + 1;
            }
        }

        public object Second(int second)
        {
            lock (_lines)
            {
                var line = new
                {
                    second,
                    unixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                    feeds = new Dictionary<int, long>(_second["feed"]),
                    events = new Dictionary<int, long>(_second["events"]),
                    acknowledged = Acknowledged,
                };
                _second["feed"].Clear();
                _second["events"].Clear();
                return line;
            }
        }

        public IEnumerable<string> Lines()
        {
            lock (_lines)
                return [.. _lines.Select(l => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{l.UnixMs},{l.Kind},{l.Status},{l.Acknowledged}"))];
        }
    }

    /// <summary>Figures of one run; latencies over all answers, and the 99th percentile of successes and of refusals (429/503) apart.</summary>
    private sealed record LoadResult(long Requests, long Errors, long Succeeded, double PerSecond, double? P50Ms, double? P90Ms, double? P99Ms, double? MaxMs,
        double? OkP99Ms, double? RefusedP99Ms, Dictionary<int, long> StatusCounts);

    private static HttpClient Client(string url, string key)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new CliException($"--url: '{url}' is not an http address; give the service's, e.g. http://127.0.0.1:5080");
        if (!uri.IsLoopback)
            throw new CliException("--url: load is only ever sent to a loopback address");
        // A header holds ASCII only: a key pasted with a line break or an ellipsis would otherwise fail every request
        // with a transport error that reads like a service that does not answer.
        if (key.Length == 0 || !key.All(c => char.IsAscii(c) && !char.IsWhiteSpace(c) && !char.IsControl(c)))
            throw new CliException("--api-key: not a key; a key is one word of ASCII letters, digits and punctuation, as `recommender keys create` prints it");
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("X-Api-Key", key);
        return http;
    }

    /// <summary>Runs <paramref name="call"/> at <paramref name="rate"/> per second (0: back to back) with at most <paramref name="concurrency"/> in flight; a null response ends the run.</summary>
    private static async Task<LoadResult> RunAsync(int rate, int concurrency, int seconds, Func<Task<HttpResponseMessage?>> call, CancellationToken ct)
    {
        var latencies = new List<double>();
        var ok = new List<double>();
        var refused = new List<double>();
        var statuses = new Dictionary<int, long>();
        long errors = 0;
        var gate = new SemaphoreSlim(Math.Max(1, concurrency));
        var clock = Stopwatch.StartNew();
        var end = TimeSpan.FromSeconds(seconds);
        var inFlight = new List<Task>();
        var done = false;
        for (long i = 0; !done && clock.Elapsed < end && !ct.IsCancellationRequested; i++)
        {
            if (rate > 0)
            {
                // Open loop: requests start on schedule whether or not earlier ones finished (no coordinated omission).
                var due = TimeSpan.FromSeconds((double)i / rate);
                if (due > clock.Elapsed)
                    await Task.Delay(due - clock.Elapsed, ct);
            }
            await gate.WaitAsync(ct);
            var started = clock.Elapsed;
            inFlight.Add(Task.Run(async () =>
            {
                try
                {
                    using var response = await call();
                    if (response is null)
                    {
                        done = true;
                        return;
                    }
                    var ms = (clock.Elapsed - started).TotalMilliseconds;
                    lock (latencies)
                    {
                        latencies.Add(ms);
                        if (response.IsSuccessStatusCode)
                            ok.Add(ms);
                        else if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
                            refused.Add(ms);
                        statuses[(int)response.StatusCode] = statuses.GetValueOrDefault((int)response.StatusCode) + 1;
                        if (!response.IsSuccessStatusCode)
                            errors++;
                    }
                }
                // No answer: refused, reset, or past the client's timeout (a cancellation that is not the user's).
                catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !ct.IsCancellationRequested))
                {
                    Interlocked.Increment(ref errors);
                }
                finally
                {
                    gate.Release();
                }
            }, ct));
            if (inFlight.Count > 10_000)
                inFlight.RemoveAll(t => t.IsCompleted);
        }
        await Task.WhenAll(inFlight);
        var elapsed = clock.Elapsed.TotalSeconds;
        // Null where there was nothing to measure (JSON has no NaN).
        static double? P(List<double> values, double q)
        {
            values.Sort();
            return values.Count == 0 ? null : values[Math.Min(values.Count - 1, (int)(q * values.Count))];
        }
        return new LoadResult(latencies.Count, errors, ok.Count, latencies.Count / elapsed, P(latencies, 0.5), P(latencies, 0.9), P(latencies, 0.99),
            P(latencies, 1), P(ok, 0.99), P(refused, 0.99), statuses);
    }
}
