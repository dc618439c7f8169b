using System.Security.Cryptography;

namespace Recommender.Serving;

/// <summary>
/// Exact discrete Laplace noise for integer counts, after Canonne, Kamath and Steinke, "The Discrete Gaussian for
/// Differential Privacy" (2020), algorithms 1 and 2. Every step is integer arithmetic on bits from the operating
/// system's cryptographic generator: no floating-point logarithm whose rounding leaks the true count (Mironov 2012,
/// "On significance of the least significant bits for differential privacy"), and no seed to guess.
/// </summary>
public static class DiscreteLaplace
{
    /// <summary>
    /// A draw Z with P[Z = z] proportional to exp(-|z| · <paramref name="numerator"/> / <paramref name="denominator"/>):
    /// the discrete Laplace mechanism with ε/Δ = numerator/denominator.
    /// </summary>
    public static long Sample(long numerator, long denominator)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numerator);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(denominator);
        while (true)
        {
            var u = UniformBelow(denominator);
            if (!BernoulliExp(u, denominator))
                continue;
            long v = 0;
            while (BernoulliExp(1, 1))
                v++;
            var x = u + denominator * v;
            var y = x / numerator;
            var negative = UniformBelow(2) == 1;
            if (negative && y == 0)
                continue;
            return negative ? -y : y;
        }
    }

    /// <summary>True with probability exp(-n/d), for n ≥ 0 and d > 0.</summary>
    public static bool BernoulliExp(long n, long d)
    {
        // exp(-n/d) = exp(-1)^floor(n/d) · exp(-(n mod d)/d).
        for (var i = 0L; i < n / d; i++)
        {
            if (!BernoulliExpAtMostOne(1, 1))
                return false;
        }
        return BernoulliExpAtMostOne(n % d, d);
    }

    // exp(-γ) for γ = n/d in [0, 1]: count K while Bernoulli(γ/K) succeeds; the result is whether K ends odd.
    private static bool BernoulliExpAtMostOne(long n, long d)
    {
        var k = 1L;
        while (UniformBelow(d * k) < n)
            k++;
        return k % 2 == 1;
    }

    /// <summary>A uniform integer in [0, <paramref name="bound"/>) from the cryptographic generator, by rejection (no modulo bias).</summary>
    public static long UniformBelow(long bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        var limit = ulong.MaxValue - (ulong.MaxValue % (ulong)bound);
        Span<byte> bytes = stackalloc byte[8];
        while (true)
        {
            RandomNumberGenerator.Fill(bytes);
            var value = BitConverter.ToUInt64(bytes);
            if (value < limit)
                return (long)(value % (ulong)bound);
        }
    }
}
