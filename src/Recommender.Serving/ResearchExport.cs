using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;

namespace Recommender.Serving;

/// <summary>One released count: how many people were shown items on <see cref="Topic"/> under <see cref="ObjectiveId"/>, with Laplace noise.</summary>
public sealed record NoisyCount(string ObjectiveId, string Topic, long People);

/// <summary>One served list with the person replaced by a pseudonym that is only valid inside this export.</summary>
public sealed record PseudonymousList(string Person, string ObjectiveId, DateOnly Day, int Items);

/// <summary>The export and how it was made, so a researcher can account for the noise.</summary>
public sealed record ResearchExportResult(
    double Epsilon, int MaxCellsPerPerson, double NoiseScale, DateTimeOffset From, DateTimeOffset To, DateTimeOffset GeneratedAt,
    IReadOnlyList<NoisyCount> Counts, IReadOnlyList<PseudonymousList> Lists);

/// <summary>
/// Researcher export. Counts are released with ε-differential privacy: each person contributes at most
/// <c>maxCellsPerPerson</c> (objective, topic) cells, each by at most one, so one person changes the counts by at most
/// that much in L1 and Laplace noise of scale <c>maxCellsPerPerson / ε</c> hides them. The list rows carry a
/// pseudonym (HMAC with a key made for this export and then discarded), so two exports cannot be joined on it;
/// they are pseudonymous, not differentially private, and say only objective, day and length.
/// </summary>
public sealed class ResearchExport(NpgsqlDataSource dataSource, ServingState state)
{
    /// <summary>
    /// The smallest ε one export may spend (0.01): below it the noise (scale <c>maxCellsPerPerson / ε</c>) drowns every
    /// count, so the release says nothing while its arithmetic heads for infinity.
    /// </summary>
    public const double MinEpsilon = 0.01;

    /// <summary>The largest ε one export may spend (10); beyond it the guarantee is too weak to call private.</summary>
    public const double MaxEpsilon = 10;

    /// <summary>Why <paramref name="epsilon"/> cannot be spent on one export, or null when it can.</summary>
    public static string? EpsilonProblem(double epsilon) =>
        double.IsFinite(epsilon) && epsilon is >= MinEpsilon and <= MaxEpsilon ? null : $"must be between {MinEpsilon} and {MaxEpsilon}";

    public async Task<ResearchExportResult> CreateAsync(double epsilon, DateTimeOffset from, DateTimeOffset to, int maxCellsPerPerson = 10, int? seed = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epsilon);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCellsPerPerson);
        var catalog = state.Current.Pipeline.Catalog;
        var key = RandomNumberGenerator.GetBytes(32);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(long UserId, string ObjectiveId, DateTime CreatedAt, string Items)>(new CommandDefinition("""
            select user_id, objective_id, created_at, items::text from served_lists
            where created_at >= @from and created_at < @to order by user_id, id
            """, new { from = from.UtcDateTime, to = to.UtcDateTime }, commandTimeout: 0, cancellationToken: ct));

        var cellsByPerson = new Dictionary<long, HashSet<(string, string)>>();
        var lists = new List<PseudonymousList>();
        foreach (var r in rows)
        {
            var items = JsonNode.Parse(r.Items)!.AsArray();
            lists.Add(new PseudonymousList(Pseudonym(key, r.UserId), r.ObjectiveId, DateOnly.FromDateTime(r.CreatedAt), items.Count));
            if (!cellsByPerson.TryGetValue(r.UserId, out var cells))
                cellsByPerson[r.UserId] = cells = [];
            foreach (var item in items)
            {
                if (catalog.TryGet(item!["item_id"]!.GetValue<long>(), out var info))
                {
                    foreach (var topic in info.Topics)
                        cells.Add((r.ObjectiveId, topic));
                }
            }
        }

        var random = seed is { } s ? new Random(s) : new Random(RandomNumberGenerator.GetInt32(int.MaxValue));
        var counts = new Dictionary<(string, string), long>();
        foreach (var (person, cells) in cellsByPerson)
        {
            // Bound the contribution: a keyed, per-person shuffle picks which cells count, so the choice leaks nothing either.
            foreach (var cell in cells.OrderBy(c => Pseudonym(key, person) + c.Item1 + "\u0001" + c.Item2, StringComparer.Ordinal).Take(maxCellsPerPerson))
                counts[cell] = counts.GetValueOrDefault(cell) + 1;
        }
        var scale = maxCellsPerPerson / epsilon;
        // Every cell that could exist is released (noise on zeros too), otherwise a cell's presence would leak.
        var objectives = state.Current.Pipeline.Objectives.All.Select(o => o.Id).Order(StringComparer.Ordinal);
        var noisy = objectives.SelectMany(o => catalog.Topics.Select(t => (o, t)))
            .Select(c => new NoisyCount(c.o, c.t, Math.Max(0, (long)Math.Round(counts.GetValueOrDefault(c) + Laplace(random, scale)))))
            .ToList();
        return new ResearchExportResult(epsilon, maxCellsPerPerson, scale, from, to, DateTimeOffset.UtcNow, noisy, lists);
    }

    private static string Pseudonym(byte[] key, long userId) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(userId.ToString(System.Globalization.CultureInfo.InvariantCulture))))[..16];

    /// <summary>A draw from Laplace(0, <paramref name="scale"/>) by inverse transform.</summary>
    public static double Laplace(Random random, double scale)
    {
        var u = random.NextDouble() - 0.5;
        return -scale * Math.Sign(u) * Math.Log(1 - 2 * Math.Abs(u));
    }
}
