namespace Recommender.Factorization;

/// <summary>Small dense solves (rank-sized) for fold-in; double precision because the systems can be ill-conditioned.</summary>
internal static class LinearAlgebra
{
    /// <summary>Solves A·x = b for symmetric positive definite A (n×n, row-major), overwriting b with x. A is destroyed.</summary>
    public static void SolveSpd(double[] a, double[] b, int n)
    {
        // A tiny ridge rescues systems that are only semi-definite (e.g. Lambda = 0 with fewer ratings than rank).
        var jitter = 0.0;
        for (var attempt = 0; attempt < 8; attempt++)
        {
            if (TryCholesky(a, n, jitter, out var l))
            {
                for (var i = 0; i < n; i++)
                {
                    var sum = b[i];
                    for (var k = 0; k < i; k++)
                        sum -= l[i * n + k] * b[k];
                    b[i] = sum / l[i * n + i];
                }
                for (var i = n - 1; i >= 0; i--)
                {
                    var sum = b[i];
                    for (var k = i + 1; k < n; k++)
                        sum -= l[k * n + i] * b[k];
                    b[i] = sum / l[i * n + i];
                }
                return;
            }
            jitter = jitter == 0 ? 1e-9 : jitter * 100;
        }
        throw new InvalidOperationException("Fold-in system is not positive definite.");
    }

    private static bool TryCholesky(double[] a, int n, double jitter, out double[] l)
    {
        l = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var sum = a[i * n + j] + (i == j ? jitter : 0);
                for (var k = 0; k < j; k++)
                    sum -= l[i * n + k] * l[j * n + k];
                if (i == j)
                {
                    if (!(sum > 0))
                        return false;
                    l[i * n + i] = Math.Sqrt(sum);
                }
                else
                {
                    l[i * n + j] = sum / l[j * n + j];
                }
            }
        }
        return true;
    }
}
