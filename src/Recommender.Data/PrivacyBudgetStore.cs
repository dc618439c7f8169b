using Dapper;
using Npgsql;

namespace Recommender.Data;

/// <summary>One spend of a dataset's privacy budget: the ε an export used and the window it released.</summary>
public sealed record PrivacySpend(string Dataset, double Epsilon, DateTimeOffset From, DateTimeOffset To, int MaxCellsPerPerson);

/// <summary>The ε each dataset has released so far, spent under a lock so concurrent exports cannot overdraw it.</summary>
public sealed class PrivacyBudgetStore(NpgsqlDataSource dataSource)
{
    private const string SpentSql = "select coalesce(sum(epsilon), 0) from privacy_budget_spends where dataset = @Dataset";

    /// <summary>The ε spent on <paramref name="dataset"/> so far.</summary>
    public async Task<double> SpentAsync(string dataset, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<double>(new CommandDefinition(SpentSql, new { Dataset = dataset }, cancellationToken: ct));
    }

    /// <summary>
    /// Records <paramref name="spend"/> when what was spent before it plus its ε stays within <paramref name="total"/>
    /// (give or take <paramref name="slack"/> for the sum of doubles). Returns what had been spent before, and whether
    /// this spend was recorded; nothing is recorded when it was not.
    /// </summary>
    public async Task<(bool Spent, double SpentBefore)> TrySpendAsync(PrivacySpend spend, double total, double slack, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(spend);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtext('privacy_budget:' || @Dataset))", new { spend.Dataset }, tx, cancellationToken: ct));
        var spent = await conn.ExecuteScalarAsync<double>(new CommandDefinition(SpentSql, new { spend.Dataset }, tx, cancellationToken: ct));
        if (spent + spend.Epsilon > total + slack)
            return (false, spent);
        await conn.ExecuteAsync(new CommandDefinition("""
            insert into privacy_budget_spends (dataset, epsilon, window_from, window_to, max_cells_per_person)
            values (@Dataset, @Epsilon, @From, @To, @MaxCellsPerPerson)
            """, new { spend.Dataset, spend.Epsilon, From = spend.From.UtcDateTime, To = spend.To.UtcDateTime, spend.MaxCellsPerPerson }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return (true, spent);
    }
}
