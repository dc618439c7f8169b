using System.Globalization;
using System.Text.RegularExpressions;

namespace Recommender.Testing;

/// <summary>Reads figures out of a Prometheus text exposition, as a scraper would.</summary>
public static partial class PrometheusText
{
    /// <summary>The sum of a sample over the series whose labels include <paramref name="labels"/>; 0 when there is none yet.</summary>
    public static double Sample(string exposition, string name, params (string Name, string Value)[] labels)
    {
        ArgumentNullException.ThrowIfNull(exposition);
        return exposition.Split('\n')
            .Select(line => SampleLine().Match(line))
            .Where(m => m.Success && m.Groups["name"].Value == name
                && labels.All(l => m.Groups["labels"].Value.Contains($"{l.Name}=\"{l.Value}\"", StringComparison.Ordinal)))
            .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)")]
    private static partial Regex SampleLine();
}
