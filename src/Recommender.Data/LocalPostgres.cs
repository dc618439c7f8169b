using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace Recommender.Data;

/// <summary>
/// A project-local PostgreSQL cluster for the embedded default: data in <c>.data/pg</c> under the repository
/// (git-ignored), listening on 127.0.0.1 only, on a free port chosen at first start and kept afterwards, with a
/// generated password kept in <c>.data/pg.secret</c>. It uses the server binaries installed from Debian's packages.
/// </summary>
public sealed class LocalPostgres
{
    public const string SuperUser = "recommender";
    public const string DatabaseName = "recommender";

    private readonly string _root;
    private readonly string _binDir;

    public LocalPostgres(string dataRoot)
    {
        _root = Path.GetFullPath(dataRoot);
        _binDir = FindBinDir() ?? throw new LocalPostgresException(
            "PostgreSQL server binaries were not found (looked in /usr/lib/postgresql/*/bin and on PATH). " +
            "Install them with: apt-get install -y postgresql");
    }

    public string DataDirectory => Path.Combine(_root, "pg");
    private string SecretFile => Path.Combine(_root, "pg.secret");
    private string PortFile => Path.Combine(_root, "pg.port");
    // Inside the data directory, which belongs to the account the server runs as.
    private string LogFile => Path.Combine(DataDirectory, "server.log");

    /// <summary>Initialises the cluster if needed, starts it unless it already runs, and makes sure the database exists.</summary>
    /// <returns>Whether this call started the server (so the caller knows whether to stop it).</returns>
    public async Task<bool> EnsureStartedAsync(CancellationToken ct = default)
    {
        Directory.CreateDirectory(_root);
        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
            await InitAsync(ct);

        var started = false;
        if (!await IsRunningAsync(ct))
        {
            var port = ReadPort();
            if (port is null || !IsPortFree(port.Value))
            {
                port = FreePort();
                await File.WriteAllTextAsync(PortFile, port.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), ct);
            }
            var options = $"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' {MemorySettings()}";
            await RunAsync("pg_ctl", ["-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "-o", options, "start"], ct);
            started = true;
        }
        await EnsureDatabaseAsync(ct);
        await EnsureRolesAsync(ct);
        return started;
    }

    /// <summary>
    /// PostgreSQL's default 128 MB of shared buffers is outgrown by events and their indexes within a few million rows,
    /// after which every buffer miss is a system call: measured on event ingestion, most of the database's time. An
    /// eighth of the machine's memory (128 MB to 2 GB) and fewer forced checkpoints under bulk writes fix that.
    /// </summary>
    private static string MemorySettings()
    {
        var megabytes = Math.Clamp(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 8 / (1024 * 1024), 128, 2048);
        return $"-c shared_buffers={megabytes}MB -c max_wal_size=4GB";
    }

    public async Task StopAsync(CancellationToken ct = default)
    {
        if (await IsRunningAsync(ct))
            await RunAsync("pg_ctl", ["-D", DataDirectory, "-w", "-m", "fast", "stop"], ct);
    }

    /// <summary>
    /// Connection string to the application database as <see cref="OwnerRole"/>, which owns the schema: for migrations,
    /// imports and training from the CLI. The login is the cluster's superuser, but every statement runs as the owner.
    /// </summary>
    public string ConnectionString => DatabaseRoles.AsOwner(Build(DatabaseName));

    /// <summary>
    /// Connection string for the running services, as <see cref="RuntimeRole"/>: it reads and writes rows and nothing
    /// else (no schema changes, no other databases, no superuser powers).
    /// </summary>
    public string RuntimeConnectionString => new NpgsqlConnectionStringBuilder(Build(DatabaseName))
    {
        Username = RuntimeRole,
        Password = File.ReadAllText(RuntimeSecretFile).Trim(),
    }.ConnectionString;

    /// <summary>Owns the application database's schema and runs its migrations (<see cref="DatabaseRoles"/>).</summary>
    public const string OwnerRole = DatabaseRoles.Owner;

    /// <summary>What the services connect as (<see cref="DatabaseRoles"/>).</summary>
    public const string RuntimeRole = DatabaseRoles.Runtime;

    private string RuntimeSecretFile => Path.Combine(_root, "pg.app.secret");

    /// <summary>Connection string to the maintenance database, for creating and dropping databases (tests do).</summary>
    public string AdminConnectionString => Build("postgres");

    private string Build(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = ReadPort() ?? throw new LocalPostgresException("The local cluster has not been started yet."),
        Username = SuperUser,
        Password = File.ReadAllText(SecretFile).Trim(),
        Database = database,
    }.ConnectionString;

    private async Task InitAsync(CancellationToken ct)
    {
        if (Directory.Exists(DataDirectory))
            Directory.Delete(DataDirectory, recursive: true);
        Directory.CreateDirectory(DataDirectory);
        if (!File.Exists(SecretFile))
            await File.WriteAllTextAsync(SecretFile, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)), ct);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(SecretFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (RunsAsRoot)
        {
            // PostgreSQL refuses to run as root, so the cluster belongs to the postgres account Debian creates.
            await RunProcessAsync("chown", ["-R", "postgres:postgres", DataDirectory, SecretFile], ct);
        }
        await RunAsync("initdb", ["-D", DataDirectory, "-U", SuperUser, "--pwfile", SecretFile, "--auth", "scram-sha-256",
            "-E", "UTF8", "--locale", "C.UTF-8"], ct);
    }

    private async Task EnsureDatabaseAsync(CancellationToken ct)
    {
        // Unpooled: after a restart a pooled connection would still point at the old server process.
        await using var conn = new NpgsqlConnection(AdminConnectionString + ";Pooling=false");
        await conn.OpenAsync(ct);
        await using var exists = new NpgsqlCommand("select 1 from pg_database where datname = $1", conn) { Parameters = { new() { Value = DatabaseName } } };
        if (await exists.ExecuteScalarAsync(ct) is null)
        {
            await using var create = new NpgsqlCommand($"create database {DatabaseName}", conn);
            await create.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>The owner and runtime roles (<see cref="DatabaseRoles"/>), with the runtime role's password kept in <c>.data/pg.app.secret</c>.</summary>
    private async Task EnsureRolesAsync(CancellationToken ct)
    {
        if (!File.Exists(RuntimeSecretFile))
            await File.WriteAllTextAsync(RuntimeSecretFile, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)), ct);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(RuntimeSecretFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using var conn = new NpgsqlConnection(Build(DatabaseName) + ";Pooling=false");
        await conn.OpenAsync(ct);
        await DatabaseRoles.EnsureAsync(conn, File.ReadAllText(RuntimeSecretFile).Trim(), ct);
    }

    private async Task<bool> IsRunningAsync(CancellationToken ct) =>
        File.Exists(Path.Combine(DataDirectory, "postmaster.pid")) &&
        await RunAsync("pg_ctl", ["-D", DataDirectory, "status"], ct, throwOnError: false) == 0;

    private int? ReadPort() => File.Exists(PortFile) && int.TryParse(File.ReadAllText(PortFile).Trim(), out var p) ? p : null;

    /// <summary>Whether nothing listens on this loopback port (the CLI checks its own ports with it too).</summary>
    public static bool IsPortFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool RunsAsRoot => Environment.UserName == "root";

    private Task<int> RunAsync(string tool, string[] args, CancellationToken ct, bool throwOnError = true)
    {
        var path = Path.Combine(_binDir, tool);
        return RunsAsRoot
            ? RunProcessAsync("runuser", ["-u", "postgres", "--", path, .. args], ct, throwOnError)
            : RunProcessAsync(path, args, ct, throwOnError);
    }

    private async Task<int> RunProcessAsync(string file, string[] args, CancellationToken ct, bool throwOnError = true)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _root,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new LocalPostgresException($"Could not start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (throwOnError && process.ExitCode != 0)
        {
            throw new LocalPostgresException(
                $"{Path.GetFileName(file)} {string.Join(' ', args)} failed ({process.ExitCode}): {(await stderr).Trim()} {(await stdout).Trim()}".Trim() +
                (File.Exists(LogFile) ? $" (server log: {LogFile})" : ""));
        }
        return process.ExitCode;
    }

    private static string? FindBinDir()
    {
        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var best = Directory.GetDirectories(debianRoot)
                .Select(d => (dir: Path.Combine(d, "bin"), version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .Where(d => File.Exists(Path.Combine(d.dir, "pg_ctl")))
                .OrderByDescending(d => d.version)
                .FirstOrDefault();
            if (best.dir is not null)
                return best.dir;
        }
        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .FirstOrDefault(d => d.Length > 0 && File.Exists(Path.Combine(d, "pg_ctl")));
    }
}

/// <summary>The local cluster could not be set up or started; the message says what to do.</summary>
public sealed class LocalPostgresException(string message) : InvalidOperationException(message);
