using System.Security.Cryptography;
using System.Text;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>One released count: how many people were shown items on <see cref="Topic"/> under <see cref="ObjectiveId"/>, with Laplace noise.</summary>
public sealed record NoisyCount(string ObjectiveId, string Topic, long People);

/// <summary>The export and how it was made, so a researcher can account for the noise.</summary>
public sealed record ResearchExportResult(
    double Epsilon, int MaxCellsPerPerson, double NoiseScale, DateTimeOffset From, DateTimeOffset To, DateTimeOffset GeneratedAt,
    IReadOnlyList<NoisyCount> Counts, PrivacyBudget Budget);

/// <summary>The ε a dataset may release in total, and how much of it exports have spent.</summary>
public sealed record PrivacyBudget(string Dataset, double Total, double Spent)
{
    public double Left => Math.Max(0, Total - Spent);
}

/// <summary>The export would spend more ε than the dataset has left; nothing was released or spent.</summary>
public sealed class PrivacyBudgetExhaustedException(PrivacyBudget budget, double epsilon)
    : Exception(string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"This export would spend ε = {epsilon}, but only {budget.Left:0.###} of the budget of {budget.Total} for {budget.Dataset} is left."))
{
    public PrivacyBudget Budget { get; } = budget;
}

/// <summary>
/// Researcher export. Counts are released with ε-differential privacy: each person contributes at most
/// <c>maxCellsPerPerson</c> (objective, topic) cells, each by at most one, so one person changes the counts by at most
/// that much in L1 and discrete Laplace noise of scale <c>maxCellsPerPerson / ε</c> (<see cref="DiscreteLaplace"/>,
/// exact and cryptographically random) hides them. Every export spends its ε from one budget per dataset
/// (<see cref="ServingOptions.PrivacyBudget"/>), and is refused once that is used up. The export holds the noisy
/// counts and nothing else: rows per served list, even under a pseudonym, would show each person's activity exactly,
/// outside the guarantee the ε pays for.
/// </summary>
public sealed class ResearchExport(PrivacyBudgetStore budgets, ServedListStore served, ServingState state, Microsoft.Extensions.Options.IOptions<ServingOptions> options)
{
    /// <summary>The dataset every export draws on: the served lists. Exports of any window spend from its one budget, since windows overlap and people recur.</summary>
    public const string Dataset = "served_lists";

    /// <summary>ε is spent in steps of 1/<see cref="EpsilonSteps"/>, so that the noise is drawn from exact rational parameters.</summary>
    public const int EpsilonSteps = 1000;

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

    /// <summary>The dataset's budget and what exports have spent of it.</summary>
    public async Task<PrivacyBudget> BudgetAsync(CancellationToken ct = default) =>
        new(Dataset, options.Value.PrivacyBudget, await budgets.SpentAsync(Dataset, ct));

    /// <summary>Spends <paramref name="epsilon"/> from the dataset's budget and releases the export.</summary>
    /// <exception cref="PrivacyBudgetExhaustedException">Less than <paramref name="epsilon"/> is left; nothing is spent.</exception>
    public async Task<ResearchExportResult> CreateAsync(double epsilon, DateTimeOffset from, DateTimeOffset to, int maxCellsPerPerson = 10, CancellationToken ct = default)
    {
        if (EpsilonProblem(epsilon) is { } problem)
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, problem);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCellsPerPerson);
        var steps = (long)Math.Round(epsilon * EpsilonSteps);
        epsilon = (double)steps / EpsilonSteps;
        var catalog = state.Current.Pipeline.Catalog;
        var key = RandomNumberGenerator.GetBytes(32);
        // Spent before anything is computed, so concurrent exports cannot overdraw it; an export that then fails has
        // still spent its ε, which only errs on the private side. A thousandth of slack for the sum of doubles.
        var (recorded, spent) = await budgets.TrySpendAsync(new PrivacySpend(Dataset, epsilon, from, to, maxCellsPerPerson),
            options.Value.PrivacyBudget, 0.5 / EpsilonSteps, ct);
        var budget = new PrivacyBudget(Dataset, options.Value.PrivacyBudget, spent);
        if (!recorded)
            throw new PrivacyBudgetExhaustedException(budget, epsilon);
        budget = budget with { Spent = spent + epsilon };
        var rows = await served.InWindowAsync(from, to, ct);

        var cellsByPerson = new Dictionary<long, HashSet<(string, string)>>();
        foreach (var r in rows)
        {
            var items = r.ReadItems();
            if (!cellsByPerson.TryGetValue(r.UserId, out var cells))
                cellsByPerson[r.UserId] = cells = [];
            foreach (var item in items)
            {
                if (catalog.TryGet(item.ItemId, out var info))
                {
                    foreach (var topic in info.Topics)
                        cells.Add((r.ObjectiveId, topic));
                }
            }
        }

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
            .Select(c => new NoisyCount(c.o, c.t, Math.Max(0, counts.GetValueOrDefault(c) + DiscreteLaplace.Sample(steps, (long)maxCellsPerPerson * EpsilonSteps))))
            .ToList();
        return new ResearchExportResult(epsilon, maxCellsPerPerson, scale, from, to, DateTimeOffset.UtcNow, noisy, budget);
    }

    private static string Pseudonym(byte[] key, long userId) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(userId.ToString(System.Globalization.CultureInfo.InvariantCulture))))[..16];
}
