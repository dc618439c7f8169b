using Dapper;
using Npgsql;

namespace Recommender.Data;

/// <summary>Creates the one <see cref="NpgsqlDataSource"/> a process uses, and says where its connection string comes from.</summary>
public static class Database
{
    /// <summary>Environment variable holding the connection string; the configuration key is <c>ConnectionStrings:Recommender</c>.</summary>
    public const string EnvironmentVariable = "RECOMMENDER_DB";

    /// <summary>Connections one process pools at most unless the connection string says otherwise ("Maximum Pool Size").</summary>
    public const int DefaultMaxPoolSize = 30;

    /// <summary>Statements each connection prepares automatically once they repeat, unless the connection string says otherwise.</summary>
    public const int DefaultMaxAutoPrepare = 32;

    static Database()
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
    }

    /// <summary>
    /// Whether <paramref name="e"/> means PostgreSQL cannot be reached or is shutting down (connection refused or broken,
    /// SQLSTATE classes 08 and 57P, too many connections, a timeout), as opposed to a statement it refused.
    /// </summary>
    public static bool IsUnavailable(Exception e) => e switch
    {
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("57P", StringComparison.Ordinal) ||
            pg.SqlState == PostgresErrorCodes.TooManyConnections,
        NpgsqlException or TimeoutException => true,
        _ => false,
    };

    public static NpgsqlDataSource CreateDataSource(string connectionString, string applicationName = "recommender")
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.ApplicationName ??= applicationName;
        // PostgreSQL allows 100 connections by default; Npgsql's default pool of 100 would let one process take them
        // all. Unless the connection string sets it, a process keeps at most DefaultMaxPoolSize.
        if (!connectionString.Contains("pool size", StringComparison.OrdinalIgnoreCase))
            builder.ConnectionStringBuilder.MaxPoolSize = DefaultMaxPoolSize;
        // Feeds run the same few statements thousands of times a second; prepared, they skip parsing and planning.
        if (!connectionString.Contains("auto prepare", StringComparison.OrdinalIgnoreCase))
            builder.ConnectionStringBuilder.MaxAutoPrepare = DefaultMaxAutoPrepare;
        return builder.Build();
    }
}
