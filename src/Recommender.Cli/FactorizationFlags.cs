using System.Globalization;
using Recommender.Factorization;

namespace Recommender.Cli;

/// <summary>
/// The trainer's own checks on its settings, reported in the flags a person typed: every command that trains
/// (train, evaluate, bench train) validates here, so one bad value reads the same everywhere.
/// </summary>
internal static class FactorizationFlags
{
    private static readonly Dictionary<string, string> Flags = new(StringComparer.Ordinal)
    {
        [nameof(MatrixFactorizationOptions.ApproximationRank)] = "--rank",
        [nameof(MatrixFactorizationOptions.NumberOfIterations)] = "--iterations",
        [nameof(MatrixFactorizationOptions.Lambda)] = "--lambda",
        [nameof(MatrixFactorizationOptions.LearningRate)] = "--learning-rate",
        [nameof(MatrixFactorizationOptions.LearningRateDecay)] = "--learning-rate-decay",
        [nameof(MatrixFactorizationOptions.Alpha)] = "--alpha",
        [nameof(MatrixFactorizationOptions.NumberOfThreads)] = "--threads",
        [nameof(MatrixFactorizationOptions.ConjugateGradientSteps)] = "--cg-steps",
    };

    /// <exception cref="CliException">A setting is out of range; the message names its flag and the value given.</exception>
    public static void Validate(MatrixFactorizationOptions options)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliException(Describe(e));
        }
    }

    private static string Describe(ArgumentException e)
    {
        var name = e.ParamName ?? "";
        var flag = Flags.GetValueOrDefault(name, name);
        // ArgumentException appends " (Parameter 'x')" and, out of range, a line with the value: keep only the rule.
        var rule = e.Message.Split('\n')[0];
        var suffix = rule.IndexOf(" (Parameter '", StringComparison.Ordinal);
        rule = (suffix >= 0 ? rule[..suffix] : rule).TrimEnd('.');
        rule = rule.StartsWith(name + " ", StringComparison.Ordinal) ? flag + rule[name.Length..] : $"{flag}: {rule}";
        // The library's "null" is the flag left out.
        rule = rule.Replace("(or null for", "(or leave it out for", StringComparison.Ordinal);
        var given = e is ArgumentOutOfRangeException { ActualValue: IFormattable value } ? value.ToString(null, CultureInfo.InvariantCulture) : null;
        return given is null ? rule : $"{rule}; got {given}";
    }
}
