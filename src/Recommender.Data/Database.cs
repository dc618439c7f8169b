using Dapper;
using Npgsql;

namespace Recommender.Data;

/// <summary>Creates the one <see cref="NpgsqlDataSource"/> a process uses, and says where its connection string comes from.</summary>
public static class Database
{
    /// <summary>Environment variable holding the connection string; the configuration key is <c>ConnectionStrings:Recommender</c>.</summary>
    public const string EnvironmentVariable = "RECOMMENDER_DB";

    static Database()
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
    }

    public static NpgsqlDataSource CreateDataSource(string connectionString, string applicationName = "recommender")
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.ApplicationName ??= applicationName;
        return builder.Build();
    }
}
