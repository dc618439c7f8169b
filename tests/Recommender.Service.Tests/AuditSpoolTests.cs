using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Hashing;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Recommender.Core;
using Recommender.Data;
using Recommender.Data.Import;
using Recommender.Serving;
using Recommender.Testing;

namespace Recommender.Service.Tests;

/// <summary>
/// Every served list is recorded or not served: on a cluster of the test's own that it stops and starts, feeds served
/// while PostgreSQL is down reach the audit log even through a SIGKILL of the service, the spool's bound refuses feeds
/// with 503 rather than serve them unrecorded, and a replay of records already stored adds no duplicate.
/// </summary>
public sealed class AuditSpoolTests : IAsyncLifetime
{
    private OwnCluster _cluster = null!;
    private string _spool = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _cluster = await OwnCluster.StartAsync("spool");
        _spool = Directory.CreateTempSubdirectory("recommender-spool-").FullName;
        await using var dataSource = _cluster.CreateDataSource();
        var batch = new ImportBatch();
        for (var i = 0; i < 30; i++)
            batch.Items.Add(new ItemRow(i + 2, $"i{i}", $"Item {i}", null, null, null, null, null, null, ["Topic"]));
        await new CatalogImporter(dataSource).ImportAsync(batch);
        (_, _key) = await new ApiKeyStore(dataSource).CreateAsync("platform", ["feeds"]);
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_spool, recursive: true);
    }

    [Fact]
    public async Task Feeds_served_during_an_outage_are_all_recorded_after_a_SIGKILL_and_a_restart()
    {
        var dll = Path.Combine(RepositoryPaths.Root, "artifacts", "app", "service", "Recommender.Service.dll");
        Assert.True(File.Exists(dll), $"{dll} is not published: run the tests with ./recommender test, which publishes the apps first");
        var first = await ServiceProcess.StartAsync(dll, _cluster.RuntimeConnectionString, _spool);
        var served = new List<Guid>();
        try
        {
            using var client = first.Client(_key);
            served.Add(await FeedAsync(client, "before"));

            await _cluster.StopAsync();
            // Platform users the service has never seen, so the replay must also create them, several at a time.
            var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(async lane =>
            {
                var ids = new List<Guid>();
                for (var i = 0; i < 25; i++)
                    ids.Add(await FeedAsync(client, $"outage-{lane}-{i}"));
                return ids;
            }));
            served.AddRange(answers.SelectMany(a => a));
        }
        finally
        {
            first.Kill();
        }
        Assert.Equal(201, served.Count);

        await _cluster.StartAgainAsync();
        await using var conn = new NpgsqlConnection(_cluster.ConnectionString);
        // Nothing of the outage reached the database before the kill: it is the restart that must bring it all.
        var beforeRestart = await conn.ExecuteScalarAsync<long>("select count(*) from served_lists");
        Assert.True(beforeRestart <= 1, $"{beforeRestart} rows before the restart");

        await using var second = await ServiceProcess.StartAsync(dll, _cluster.RuntimeConnectionString, _spool);
        var stored = 0L;
        for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline; await Task.Delay(250))
        {
            stored = await conn.ExecuteScalarAsync<long>("select count(*) from served_lists where request_id = any(@served)", new { served = served.ToArray() });
            if (stored == served.Count)
                break;
        }
        Assert.True(stored == served.Count, $"{stored} of {served.Count} served lists recorded after the restart; its output:\n{second.Output}");
        Assert.Equal(served.Count, await conn.ExecuteScalarAsync<long>("select count(*) from served_lists"));
        Assert.Equal(200, await conn.ExecuteScalarAsync<long>("select count(*) from users where external_id like 'outage-%'"));
        Assert.Empty(Directory.EnumerateFiles(_spool, "*.spool", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Spool_at_its_bound_refuses_feeds_with_503_and_every_feed_it_served_is_recorded()
    {
        await using var factory = Factory(spoolLimit: 40_000);
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", _key);
        (await client.GetAsync("/api/platform/users/warm/feed?k=20")).EnsureSuccessStatusCode();
        await factory.Services.GetRequiredService<AuditLog>().FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));

        await _cluster.StopAsync();
        var served = new List<Guid>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 200 && refused is null; i++)
        {
            var response = await client.GetAsync($"/api/platform/users/u{i}/feed?k=20");
            if (response.StatusCode == HttpStatusCode.OK)
                served.Add((await response.Content.ReadFromJsonAsync<Feed>())!.RequestId);
            else
                refused = response;
        }

        Assert.NotNull(refused);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, "a 503 says when to retry");
        Assert.InRange(served.Count, 3, 100);

        await _cluster.StartAgainAsync();
        await factory.Services.GetRequiredService<AuditLog>().FlushAsync().WaitAsync(TimeSpan.FromSeconds(60));
        (await client.GetAsync("/api/platform/users/after/feed?k=20")).EnsureSuccessStatusCode();
        await using var conn = new NpgsqlConnection(_cluster.ConnectionString);
        Assert.Equal(served.Count, await conn.ExecuteScalarAsync<long>(
            "select count(*) from served_lists where request_id = any(@served)", new { served = served.ToArray() }));
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("select count(*) from users where external_id = @refused", new { refused = $"u{served.Count}" }));
    }

    [Fact]
    public async Task Replay_of_records_the_database_already_has_adds_no_duplicates()
    {
        string folder;
        var copies = Directory.CreateTempSubdirectory("recommender-spool-copy-").FullName;
        await using (var factory = Factory())
        {
            using var client = factory.CreateClient();
            client.DefaultRequestHeaders.Add("X-Api-Key", _key);
            for (var i = 0; i < 5; i++)
                await FeedAsync(client, $"p{i}");
            var audit = factory.Services.GetRequiredService<AuditLog>();
            await audit.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
            folder = audit.SpoolFolder;
            // As if killed after the database took the records and before their segment was deleted.
            foreach (var file in Directory.EnumerateFiles(folder, "*.spool"))
                File.Copy(file, Path.Combine(copies, Path.GetFileName(file)));
        }
        Assert.Empty(Directory.EnumerateFiles(folder, "*.spool"));
        foreach (var file in Directory.EnumerateFiles(copies))
            File.Move(file, Path.Combine(folder, Path.GetFileName(file)));
        Directory.Delete(copies);

        await using (var restarted = Factory())
        {
            var audit = restarted.Services.GetRequiredService<AuditLog>();
            await audit.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
            // This process served nothing: the five it wrote are the replayed ones.
            Assert.Equal(5, audit.Written);
        }

        await using var conn = new NpgsqlConnection(_cluster.ConnectionString);
        Assert.Equal(5, await conn.ExecuteScalarAsync<long>("select count(*) from served_lists"));
        Assert.Empty(Directory.EnumerateFiles(folder, "*.spool"));
    }

    private WebApplicationFactory<Program> Factory(long? spoolLimit = null) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Recommender", _cluster.RuntimeConnectionString);
            b.UseSetting("Recommender:MigrateOnStart", "false");
            b.UseSetting("Recommender:TrainingInterval", "00:00:00");
            b.UseSetting("Recommender:AuditSpoolPath", _spool);
            if (spoolLimit is { } limit)
                b.UseSetting("Recommender:AuditSpoolLimit", limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });

    private static async Task<Guid> FeedAsync(HttpClient client, string user)
    {
        var response = await client.GetAsync($"/api/platform/users/{user}/feed?k=20");
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"feed for {user}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<Feed>())!.RequestId;
    }

    /// <summary>The published service as its own process, so that it can be killed with SIGKILL.</summary>
    private sealed class ServiceProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly List<string> _output = [];

        private ServiceProcess(Process process, Uri address)
        {
            _process = process;
            Address = address;
        }

        public Uri Address { get; }

        public string Output
        {
            get
            {
                lock (_output)
                    return string.Join('\n', _output.TakeLast(40));
            }
        }

        public static async Task<ServiceProcess> StartAsync(string dll, string connectionString, string spool)
        {
            int port;
            using (var listener = new TcpListener(IPAddress.Loopback, 0))
            {
                listener.Start();
                port = ((IPEndPoint)listener.LocalEndpoint).Port;
            }
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(dll)!, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(dll);
            start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            start.Environment["ConnectionStrings__Recommender"] = connectionString;
            start.Environment["Recommender__MigrateOnStart"] = "false";
            start.Environment["Recommender__TrainingInterval"] = "00:00:00";
            start.Environment["Recommender__AuditSpoolPath"] = spool;
            var service = new ServiceProcess(Process.Start(start) ?? throw new InvalidOperationException("could not start the service"), new Uri($"http://127.0.0.1:{port}"));
            service._process.OutputDataReceived += (_, e) => service.Keep(e.Data);
            service._process.ErrorDataReceived += (_, e) => service.Keep(e.Data);
            service._process.BeginOutputReadLine();
            service._process.BeginErrorReadLine();
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline && !service._process.HasExited; await Task.Delay(200))
            {
                try
                {
                    if ((await http.GetAsync(new Uri(service.Address, "/health"))).StatusCode == HttpStatusCode.OK)
                        return service;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                }
            }
            var output = service.Output;
            await service.DisposeAsync();
            throw new InvalidOperationException($"the service did not become healthy:\n{output}");
        }

        public HttpClient Client(string key)
        {
            var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
            return client;
        }

        /// <summary>SIGKILL: no shutdown code runs.</summary>
        public void Kill()
        {
            if (!_process.HasExited)
                _process.Kill();
            _process.WaitForExit();
        }

        private void Keep(string? line)
        {
            if (line is null)
                return;
            lock (_output)
                _output.Add(line);
        }

        public ValueTask DisposeAsync()
        {
            Kill();
            _process.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>The spool file on its own: a torn last write is skipped, and what was acknowledged comes back exactly.</summary>
public sealed class AuditSpoolFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("recommender-spool-file-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Records_come_back_after_a_crash_and_a_torn_last_write_is_skipped()
    {
        var records = Enumerable.Range(0, 3).Select(i => new AuditRecord(Guid.CreateVersion7(), 0,
            new ServedList(null, "engagement", "1", "{}", "hash", "popularity", i, DateTimeOffset.UnixEpoch.AddDays(i), 10,
                [new ServedItem(1, 7, i == 1 ? double.NaN : 0.5, new Dictionary<string, double> { ["relevance"] = 0.25 }, ["because"])]),
            $"user-{i}")).ToList();
        var spool = new AuditSpool(_folder, 1 << 20, 1 << 16, NullLogger.Instance);
        foreach (var record in records)
            await spool.AppendAsync(record);
        // No Release: as if the process died before the database took them. Then a write cut short by the crash.
        await spool.DisposeAsync();
        var segment = Assert.Single(Directory.EnumerateFiles(_folder, "*.spool"));
        await File.AppendAllTextAsync(segment, "\u0040\0\0\0torn");

        var restarted = new AuditSpool(_folder, 1 << 20, 1 << 16, NullLogger.Instance);
        Assert.Equal(3, restarted.Pending);
        var read = new List<AuditRecord>();
        var end = restarted.Read(read, 100);
        Assert.Equal(records.Select(r => r.RequestId), read.Select(r => r.RequestId));
        Assert.Equal(records.Select(r => r.List.ItemsJson()), read.Select(r => r.List.ItemsJson()));
        Assert.Equal(records.Select(r => r.ExternalUserId), read.Select(r => r.ExternalUserId));
        restarted.Release(end, read.Count);
        Assert.Equal(0, restarted.Pending);
        Assert.Empty(Directory.EnumerateFiles(_folder, "*.spool"));
        await restarted.DisposeAsync();
    }

    [Fact]
    public async Task Disposing_twice_at_once_closes_once_and_releases_the_slot()
    {
        var record = new AuditRecord(Guid.CreateVersion7(), 1, new ServedList(1, "engagement", "1", "{}", "hash", "popularity", 0, DateTimeOffset.UnixEpoch, 1, []));
        var spool = new AuditSpool(_folder, 1 << 20, 1 << 16, NullLogger.Instance);
        await spool.AppendAsync(record);

        // As when a host stops twice: both calls finish without error, and a later one is a no-op.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () => await spool.DisposeAsync())));
        await spool.DisposeAsync();

        // The slot is free again: a new spool on the folder takes slot 0 and finds the record left pending.
        await using var next = new AuditSpool(_folder, 1 << 20, 1 << 16, NullLogger.Instance);
        Assert.Equal(1, next.Pending);
        Assert.Single(Directory.EnumerateFiles(_folder, "slot-0-*.spool"));
    }

    [Fact]
    public async Task Append_past_the_bound_is_refused_and_two_spools_on_one_folder_take_different_slots()
    {
        var record = new AuditRecord(Guid.CreateVersion7(), 1, new ServedList(1, "engagement", "1", "{}", "hash", "popularity", 0, DateTimeOffset.UnixEpoch, 1, []));
        await using var first = new AuditSpool(_folder, 600, 100, NullLogger.Instance);
        await using var second = new AuditSpool(_folder, 600, 100, NullLogger.Instance);
        var accepted = 0;
        await Assert.ThrowsAsync<AuditBacklogFullException>(async () =>
        {
            while (true)
            {
                await first.AppendAsync(record with { RequestId = Guid.CreateVersion7() });
                accepted++;
            }
        });
        Assert.InRange(first.Bytes, 1, 600);
        Assert.True(accepted >= 1);
        await second.AppendAsync(record);
        Assert.Equal(accepted, first.Pending);
        Assert.Equal(1, second.Pending);
        Assert.Equal(2, Directory.EnumerateFiles(_folder, "slot-*.lock").Count());
    }
    // A record as the spool has written it since the service first spooled, NaN and infinity included.
    private const string WrittenByEarlierReleases = """
        {"RequestId":"0193a0f2-7c1e-7a00-8000-000000000001","UserId":42,"List":{"UserId":42,"ObjectiveId":"learning","ObjectiveVersion":"3","ParametersJson":"{\u0022credibility_floor\u0022:0.5,\u0022topics\u0022:[\u0022caf\u00E9\u0022]}","ParameterHash":"abc123","ModelVersion":"mf-7","Seed":9,"ServedAt":"2026-12-06T07:30:00+00:00","CandidatesConsidered":250,"Items":[{"Rank":1,"ItemId":1001,"Score":0.123456789,"Components":{"relevance":0.5,"credibility":"NaN"},"Reasons":["Because you chose \u0022Physics\u0022"],"Provenance":"verified"},{"Rank":2,"ItemId":1002,"Score":"Infinity","Components":{},"Reasons":[],"Provenance":null}],"RerankerVersion":"reranker 4"},"ExternalUserId":"platform-user-\u00F8"}
        """;

    [Fact]
    public async Task A_spool_file_left_by_an_earlier_release_replays_and_records_are_still_written_byte_for_byte_the_same()
    {
        var payload = Encoding.UTF8.GetBytes(WrittenByEarlierReleases);
        var frame = new byte[8 + payload.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), Crc32.HashToUInt32(payload));
        payload.CopyTo(frame, 8);
        await File.WriteAllBytesAsync(Path.Combine(_folder, "slot-3-0000000001.spool"), frame);

        var spool = new AuditSpool(_folder, 1 << 20, 1 << 16, NullLogger.Instance);
        var read = new List<AuditRecord>();
        spool.Read(read, 10);
        var record = Assert.Single(read);
        Assert.Equal(Guid.Parse("0193a0f2-7c1e-7a00-8000-000000000001"), record.RequestId);
        Assert.Equal("platform-user-\u00f8", record.ExternalUserId);
        Assert.Equal("{\"credibility_floor\":0.5,\"topics\":[\"caf\u00e9\"]}", record.List.ParametersJson);
        Assert.Equal("reranker 4", record.List.RerankerVersion);
        Assert.Equal(new DateTimeOffset(2026, 12, 6, 7, 30, 0, TimeSpan.Zero), record.List.ServedAt);
        Assert.Equal([1001L, 1002L], record.List.Items.Select(i => i.ItemId));
        Assert.Equal(0.123456789, record.List.Items[0].Score);
        Assert.True(double.IsNaN(record.List.Items[0].Components["credibility"]));
        Assert.True(double.IsPositiveInfinity(record.List.Items[1].Score));
        Assert.Equal("verified", record.List.Items[0].Provenance);
        Assert.Null(record.List.Items[1].Provenance);
        await spool.DisposeAsync();

        var again = Directory.CreateDirectory(Path.Combine(_folder, "again")).FullName;
        var writer = new AuditSpool(again, 1 << 20, 1 << 16, NullLogger.Instance);
        await writer.AppendAsync(record);
        await writer.DisposeAsync();
        var written = await File.ReadAllBytesAsync(Assert.Single(Directory.EnumerateFiles(again, "*.spool")));
        Assert.Equal(WrittenByEarlierReleases, Encoding.UTF8.GetString(written.AsSpan(8)));
    }
}
