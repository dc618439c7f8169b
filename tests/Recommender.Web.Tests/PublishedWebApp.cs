using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Recommender.Data;
using Recommender.Testing;

namespace Recommender.Web.Tests;

/// <summary>
/// The web app as people get it: the published build under <c>artifacts/app/web</c> (what <c>./recommender up</c> runs
/// and the Docker image contains), started as its own process in Production with the settings <c>up</c> gives it, on a
/// test database seeded with the small world. <c>./recommender test</c> publishes it before the tests run.
/// </summary>
public class PublishedWebApp : IAsyncLifetime
{
    public const string Password = WebFixture.Password;
    private readonly TestDatabase _db = new();
    private Process? _process;
    private readonly List<string> _output = [];

    public Npgsql.NpgsqlDataSource DataSource => _db.DataSource;
    public string ConnectionString => _db.ConnectionString;
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>What the process printed, for a failure message.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return string.Join('\n', _output.TakeLast(40));
        }
    }

    public async Task InitializeAsync()
    {
        var dll = Path.Combine(RepositoryPaths.Root, "artifacts", "app", "web", "Recommender.Web.dll");
        if (!File.Exists(dll))
            throw new InvalidOperationException($"{dll} is not published: run the tests with ./recommender test, which publishes the apps first");
        await _db.InitializeAsync();
        await SeedAsync();
        BaseAddress = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(dll)!, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        start.Environment["ASPNETCORE_URLS"] = BaseAddress.ToString().TrimEnd('/');
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ConnectionStrings__Recommender"] = _db.ConnectionString;
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start the published web app");
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline && !_process.HasExited;)
        {
            try
            {
                if ((await http.GetAsync(new Uri(BaseAddress, "/health"))).StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        throw new InvalidOperationException($"the published web app did not become healthy:\n{Output}");
    }

    /// <summary>The catalog and history the app starts with: the small world.</summary>
    protected virtual Task SeedAsync() => SmallWorld.SeedAsync(DataSource);

    /// <summary>A fresh account with a unique login.</summary>
    public Task<Account> NewAccountAsync(string role = "user", string? displayName = null) =>
        new AccountStore(DataSource).UpsertAsync($"{role}-{Guid.NewGuid():N}"[..20], displayName ?? $"Test {role}", role, Password);

    private void Keep(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.Add(line);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        await _db.DisposeAsync();
    }
}
