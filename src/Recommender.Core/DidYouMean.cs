namespace Recommender.Core;

/// <summary>
/// The name a client most likely meant, for a 400 that says "did you mean …?": one that differs only in case, '_' or
/// '-' (<c>source_id</c> for <c>sourceId</c>), else the one nearest by edit distance when it is close enough to be a
/// typo (<c>Ocaens</c> for <c>Oceans</c>) and no other is as near. A name in a tree is also matched by its last part, as
/// readers see it: <c>qubit</c> or <c>qubitt</c> for <c>quantumcomputing/qubit</c>, where only one name ends so.
/// </summary>
public static class DidYouMean
{
    public static string? Closest(IEnumerable<string> names, string given)
    {
        ArgumentNullException.ThrowIfNull(given);
        var candidates = names.ToList();
        if (Nearest(candidates, given) is { } meant)
            return meant;
        if (given.Contains('/', StringComparison.Ordinal))
            return null;
        // The last part alone, as a reader sees a topic: only a part that names one thing ("security" may be in two trees).
        var leaves = candidates.Where(c => c.Contains('/', StringComparison.Ordinal)).GroupBy(Leaf, StringComparer.Ordinal)
            .Where(g => g.Count() == 1).ToDictionary(g => g.Key, g => g.Single(), StringComparer.Ordinal);
        return Nearest([.. leaves.Keys], given) is { } leaf ? leaves[leaf] : null;
    }

    private static string Leaf(string name) => name[(name.LastIndexOf('/') + 1)..];

    /// <summary>
    /// The name <paramref name="given"/> is most likely a misspelling of, strictly enough to refuse it rather than only
    /// suggest: the same but for case, '_' or '-', or one edit in four characters of the whole name (at most two, so
    /// none in a name under four characters) with the same digits (<c>python3</c> is not a misspelt <c>python2</c>),
    /// and no other as near. Unlike <see cref="Closest"/>, a name is not matched by its last part alone.
    /// </summary>
    public static string? Misspelling(IEnumerable<string> names, string given)
    {
        ArgumentNullException.ThrowIfNull(given);
        var digits = Digits(given);
        return Nearest([.. names.Where(n => n != given && Digits(n) == digits)], given, Math.Min(2, given.Length / 4));
    }

    private static string Digits(string name) => string.Concat(name.Where(char.IsAsciiDigit));

    // At most one edit in four characters, and never more than two: further than that it is another name.
    private static string? Nearest(List<string> candidates, string given) => Nearest(candidates, given, Math.Min(2, Math.Max(1, given.Length / 4)));

    private static string? Nearest(List<string> candidates, string given, int allowed)
    {
        var spelt = candidates.FirstOrDefault(c => string.Equals(Bare(c), Bare(given), StringComparison.OrdinalIgnoreCase));
        if (spelt is not null)
            return spelt;
        var near = candidates.Select(c => (Name: c, Distance: Distance(c.ToLowerInvariant(), given.ToLowerInvariant())))
            .Where(c => c.Distance <= allowed).OrderBy(c => c.Distance).Take(2).ToList();
        return near switch
        {
            [var only] => only.Name,
            [var best, var next] when best.Distance < next.Distance => best.Name,
            _ => null,
        };
    }

    private static string Bare(string s) => s.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);

    // Edit distance with adjacent transpositions (Damerau, optimal string alignment): "Ocaens" is one edit from "Oceans".
    private static int Distance(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 2)
            return int.MaxValue;
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
            d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++)
            d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
