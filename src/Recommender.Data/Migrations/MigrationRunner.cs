using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;

namespace Recommender.Data.Migrations;

/// <summary>One forward-only migration: <c>db/migrations/NNNN_name.sql</c>.</summary>
public sealed record Migration(int Version, string Name, string Sql)
{
    public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));
}

/// <summary>What a run of <see cref="MigrationRunner.MigrateAsync"/> did.</summary>
public sealed record MigrationResult(IReadOnlyList<Migration> Applied, int AlreadyApplied);

/// <summary>
/// Applies the numbered SQL files in <c>db/migrations</c> in order, inside one transaction, under an advisory lock,
/// and records each in <c>schema_migrations</c>. Safe to run twice and from several processes at once: the second
/// waits for the lock, then finds nothing left to do.
/// </summary>
public static class MigrationRunner
{
    // Any constant works; it only has to be the same in every process that migrates this database.
    private const long AdvisoryLockKey = 0x5265636f6d6d656e; // "Recommen"

    /// <summary>The migrations embedded in this assembly, ordered by version.</summary>
    public static IReadOnlyList<Migration> Embedded { get; } = LoadEmbedded();

    public static async Task<MigrationResult> MigrateAsync(NpgsqlDataSource dataSource, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Take the lock before touching the journal: two processes creating it at once would otherwise collide.
        await conn.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(@AdvisoryLockKey)", new { AdvisoryLockKey }, tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition(CreateJournalSql, transaction: tx, cancellationToken: ct));

        var applied = (await conn.QueryAsync<(int Version, string Checksum)>(new CommandDefinition(
            "select version, checksum from schema_migrations", transaction: tx, cancellationToken: ct)))
            .ToDictionary(r => r.Version, r => r.Checksum);

        var newlyApplied = new List<Migration>();
        foreach (var migration in Embedded)
        {
            if (applied.TryGetValue(migration.Version, out var checksum))
            {
                if (checksum != migration.Checksum)
                    throw new InvalidOperationException(
                        $"Migration {migration.Version:D4}_{migration.Name} was changed after it was applied. Migrations are forward-only: add a new file instead.");
                continue;
            }
            await conn.ExecuteAsync(new CommandDefinition(migration.Sql, transaction: tx, cancellationToken: ct));
            await conn.ExecuteAsync(new CommandDefinition(
                "insert into schema_migrations (version, name, checksum) values (@Version, @Name, @Checksum)",
                new { migration.Version, migration.Name, migration.Checksum }, tx, cancellationToken: ct));
            newlyApplied.Add(migration);
        }
        // New tables, and any a migration changed, get the runtime role's rights (where there is such a role).
        await DatabaseRoles.GrantRuntimeRightsAsync(conn, ct, tx);
        await tx.CommitAsync(ct);
        return new MigrationResult(newlyApplied, applied.Count);
    }

    private const string CreateJournalSql = """
        create table if not exists schema_migrations (
            version    integer primary key,
            name       text not null,
            checksum   text not null,
            applied_at timestamptz not null default now()
        )
        """;

    private static List<Migration> LoadEmbedded()
    {
        var assembly = typeof(MigrationRunner).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("migrations/", StringComparison.Ordinal)))
        {
            var file = resource["migrations/".Length..^".sql".Length];
            var underscore = file.IndexOf('_', StringComparison.Ordinal);
            if (underscore <= 0 || !int.TryParse(file[..underscore], out var version))
                throw new InvalidOperationException($"Migration file '{file}.sql' must be named NNNN_name.sql.");
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            migrations.Add(new Migration(version, file[(underscore + 1)..], reader.ReadToEnd()));
        }
        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 1; i < migrations.Count; i++)
        {
            if (migrations[i].Version == migrations[i - 1].Version)
                throw new InvalidOperationException($"Two migrations share version {migrations[i].Version:D4}.");
        }
        return migrations;
    }
}
