using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Recommender.Factorization;

/// <summary>
/// Weighted ALS for implicit feedback (Hu, Koren, Volinsky 2008): every cell counts, observed ones with preference 1
/// and confidence 1 + α·value, unobserved ones with preference C and confidence 1. Each row is updated by a few
/// conjugate-gradient steps warm-started from its previous value (Takács et al. 2011, as the <c>implicit</c> library),
/// using a precomputed YᵀY so a row costs O(k² + n_row·k) instead of the O(k³) of a direct solve.
/// </summary>
/// <remarks>Rows are independent given the other side's factors, so results do not depend on the thread count.</remarks>
internal sealed class AlsSolver(
    MatrixFactorizationOptions options, TrainingData data, IProgress<TrainingProgress>? progress, Stopwatch clock, CancellationToken cancellationToken)
{
    private readonly int _rank = options.ApproximationRank;
    private readonly int _stride = Kernels.StrideFor(options.ApproximationRank);

    public MatrixFactorizationModel Run()
    {
        int nu = data.Users.Count, ni = data.Items.Count;
        var byUser = Csr.Build(data, nu, byUser: true, (float)options.Alpha);
        var byItem = Csr.Build(data, ni, byUser: false, (float)options.Alpha);
        var random = new Random(options.Seed);
        var x = InitFactors(nu, random);
        var y = InitFactors(ni, random);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.EffectiveThreads, CancellationToken = cancellationToken };
        for (var iteration = 1; iteration <= options.NumberOfIterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            SolveSide(x, y, byUser, parallel);
            SolveSide(y, x, byItem, parallel);
            if (progress is not null)
                progress.Report(new TrainingProgress(iteration, options.NumberOfIterations, Loss(x, y, byUser) / data.Count, clock.Elapsed));
        }
        return new MatrixFactorizationModel(options.Clone(), data.Users, data.Items, _rank, x, y, new float[nu], new float[ni], 0, 1);
    }

    /// <summary>Rows of the sparse matrix: column indices and α·value (confidence − 1) per entry.</summary>
    internal sealed record Csr(int[] Start, int[] Index, float[] Weight)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static Csr Build(TrainingData data, int rows, bool byUser, float alpha)
        {
            var n = data.Count;
            var row = byUser ? data.UserIndices : data.ItemIndices;
            var col = byUser ? data.ItemIndices : data.UserIndices;
            var start = new int[rows + 1];
            for (var j = 0; j < n; j++)
                start[row[j] + 1]++;
            for (var r = 0; r < rows; r++)
                start[r + 1] += start[r];
            var next = start[..rows];
            var index = new int[n];
            var weight = new float[n];
            for (var j = 0; j < n; j++)
            {
                var k = next[row[j]]++;
                index[k] = col[j];
                weight[k] = alpha * data.Value(j);
            }
            return new Csr(start, index, weight);
        }
    }

    /// <summary>Updates every row of <paramref name="target"/> given the fixed factors <paramref name="fixedSide"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SolveSide(float[] target, float[] fixedSide, Csr rows, ParallelOptions parallel)
    {
        var stride = _stride;
        var gram = Gramian(fixedSide, parallel.MaxDegreeOfParallelism);
        // Right-hand side for unobserved cells: C·Σy, added once per row instead of summing over every cell.
        var sumFixed = new float[stride];
        var c = (float)options.C;
        if (c != 0)
        {
            for (var r = 0; r < fixedSide.Length / stride; r++)
                for (var d = 0; d < stride; d++)
                    sumFixed[d] += fixedSide[r * stride + d];
            for (var d = 0; d < stride; d++)
                sumFixed[d] *= c;
        }
        for (var d = 0; d < _rank; d++)
            gram[d * stride + d] += (float)options.Lambda;
        var rowCount = rows.Start.Length - 1;
        if (parallel.MaxDegreeOfParallelism == 1)
        {
            var single = new float[3 * stride];
            for (var row = 0; row < rowCount; row++)
                SolveRow(target.AsSpan(row * stride, stride), fixedSide, gram, sumFixed, rows, row, single, c);
            return;
        }
        var chunk = Math.Max(64, rowCount / (parallel.MaxDegreeOfParallelism * 8));
        var chunks = (rowCount + chunk - 1) / chunk;
        Parallel.For(0, chunks, parallel, () => new float[3 * stride], (ch, _, work) =>
        {
            var end = Math.Min(rowCount, (ch + 1) * chunk);
            for (var row = ch * chunk; row < end; row++)
                SolveRow(target.AsSpan(row * stride, stride), fixedSide, gram, sumFixed, rows, row, work, c);
            return work;
        }, _ => { });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SolveRow(Span<float> x, float[] fixedSide, float[] gram, float[] sumFixed, Csr rows, int row, float[] work, float c)
    {
        var stride = _stride;
        var r = work.AsSpan(0, stride);
        var p = work.AsSpan(stride, stride);
        var ap = work.AsSpan(2 * stride, stride);
        int start = rows.Start[row], end = rows.Start[row + 1];
        ref var y0 = ref MemoryMarshal.GetArrayDataReference(fixedSide);
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var rr = ref MemoryMarshal.GetReference(r);
        ref var pr = ref MemoryMarshal.GetReference(p);
        ref var apr = ref MemoryMarshal.GetReference(ap);

        // Frequency-scaled (weighted-λ, Zhou et al. 2008): a row with n entries gets λ·(1 + n), so active users and popular
        // items, whose data term grows with n, are held back as much as rare ones; the gram already carries the 1·λ.
        var extra = options.FrequencyScaledRegularization ? (float)(options.Lambda * (end - start)) : 0f;
        // r = b − A·x with A = YᵀY + λ_row·I + Σ α·v·y yᵀ and b = C·Σy + Σ (1 + α·v − C)·y.
        MultiplyGram(gram, ref xr, ref rr);
        if (extra != 0)
            Axpy(extra, ref xr, ref rr, stride);
        for (var d = 0; d < stride; d += Kernels.Lanes)
            (Vector256.LoadUnsafe(ref sumFixed[0], (nuint)d) - Vector256.LoadUnsafe(ref rr, (nuint)d)).StoreUnsafe(ref rr, (nuint)d);
        ref var index = ref MemoryMarshal.GetArrayDataReference(rows.Index);
        ref var weight = ref MemoryMarshal.GetArrayDataReference(rows.Weight);
        for (var j = start; j < end; j++)
        {
            ref var yi = ref Unsafe.Add(ref y0, (nint)Unsafe.Add(ref index, j) * stride);
            var w = Unsafe.Add(ref weight, j);
            var coefficient = 1 + w - c - w * Kernels.Dot(ref yi, ref xr, stride);
            Axpy(coefficient, ref yi, ref rr, stride);
        }
        r.CopyTo(p);
        var rsOld = Kernels.Dot(ref rr, ref rr, stride);
        for (var step = 0; step < options.ConjugateGradientSteps && rsOld > 1e-20f; step++)
        {
            MultiplyGram(gram, ref pr, ref apr);
            if (extra != 0)
                Axpy(extra, ref pr, ref apr, stride);
            var j = start;
            // Two rows per pass: their dot products are independent, so the second overlaps the first's reduction.
            for (; j + 1 < end; j += 2)
            {
                ref var ya = ref Unsafe.Add(ref y0, (nint)Unsafe.Add(ref index, j) * stride);
                ref var yb = ref Unsafe.Add(ref y0, (nint)Unsafe.Add(ref index, j + 1) * stride);
                var da = Unsafe.Add(ref weight, j) * Kernels.Dot(ref ya, ref pr, stride);
                var db = Unsafe.Add(ref weight, j + 1) * Kernels.Dot(ref yb, ref pr, stride);
                Axpy2(da, ref ya, db, ref yb, ref apr, stride);
            }
            if (j < end)
            {
                ref var yi = ref Unsafe.Add(ref y0, (nint)Unsafe.Add(ref index, j) * stride);
                Axpy(Unsafe.Add(ref weight, j) * Kernels.Dot(ref yi, ref pr, stride), ref yi, ref apr, stride);
            }
            var alpha = rsOld / Kernels.Dot(ref pr, ref apr, stride);
            Axpy(alpha, ref pr, ref xr, stride);
            Axpy(-alpha, ref apr, ref rr, stride);
            var rsNew = Kernels.Dot(ref rr, ref rr, stride);
            var beta = rsNew / rsOld;
            for (var d = 0; d < stride; d += Kernels.Lanes)
                Vector256.FusedMultiplyAdd(Vector256.Create(beta), Vector256.LoadUnsafe(ref pr, (nuint)d), Vector256.LoadUnsafe(ref rr, (nuint)d)).StoreUnsafe(ref pr, (nuint)d);
            rsOld = rsNew;
        }
        if (options.NonNegative)
        {
            foreach (ref var v in x)
                v = Math.Max(0, v);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy2(float a, ref float x, float b, ref float y, ref float target, int stride)
    {
        var va = Vector256.Create(a);
        var vb = Vector256.Create(b);
        for (var d = 0; d < stride; d += Kernels.Lanes)
        {
            var t = Vector256.FusedMultiplyAdd(va, Vector256.LoadUnsafe(ref x, (nuint)d), Vector256.LoadUnsafe(ref target, (nuint)d));
            Vector256.FusedMultiplyAdd(vb, Vector256.LoadUnsafe(ref y, (nuint)d), t).StoreUnsafe(ref target, (nuint)d);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy(float a, ref float source, ref float target, int stride)
    {
        var va = Vector256.Create(a);
        for (var d = 0; d < stride; d += Kernels.Lanes)
            Vector256.FusedMultiplyAdd(va, Vector256.LoadUnsafe(ref source, (nuint)d), Vector256.LoadUnsafe(ref target, (nuint)d)).StoreUnsafe(ref target, (nuint)d);
    }

    /// <summary>
    /// result = G·v as a sum of G's rows weighted by v (G is symmetric), with 64 result columns held in registers so the
    /// inner loop only loads G: no horizontal sums and no stores until the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void MultiplyGram(float[] gram, ref float v, ref float result)
    {
        var stride = _stride;
        var rank = _rank;
        ref var g = ref MemoryMarshal.GetArrayDataReference(gram);
        var c = 0;
        for (; c + 8 * Kernels.Lanes <= stride; c += 8 * Kernels.Lanes)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (var d = 0; d < rank; d++)
            {
                var vd = Vector256.Create(Unsafe.Add(ref v, d));
                ref var row = ref Unsafe.Add(ref g, d * stride + c);
                a0 = Vector256.FusedMultiplyAdd(vd, Vector256.LoadUnsafe(ref row, 0), a0);
                a1 = Vector256.FusedMultiplyAdd(vd, Vector256.LoadUnsafe(ref row, 8), a1);
                a2 = Vector256.FusedMultiplyAdd(vd, Vector256.LoadUnsafe(ref row, 16), a2);
                a3 = Vector256.FusedMultiplyAdd(vd, Vector256.LoadUnsafe(ref row, 24), a3);
                a4 = Vector256.FusedMultiplyAdd(vd, Vector256.LoadUnsafe(ref row, 32), a4);
                a5 = Vector256.FusedMultiplyAdd(vd, Vector256.LoadUnsafe(ref row, 40), a5);
                a6 = Vector256.FusedMultiplyAdd(vd, Vector256.LoadUnsafe(ref row, 48), a6);
                a7 = Vector256.FusedMultiplyAdd(vd, Vector256.LoadUnsafe(ref row, 56), a7);
            }
            ref var r = ref Unsafe.Add(ref result, c);
            a0.StoreUnsafe(ref r, 0);
            a1.StoreUnsafe(ref r, 8);
            a2.StoreUnsafe(ref r, 16);
            a3.StoreUnsafe(ref r, 24);
            a4.StoreUnsafe(ref r, 32);
            a5.StoreUnsafe(ref r, 40);
            a6.StoreUnsafe(ref r, 48);
            a7.StoreUnsafe(ref r, 56);
        }
        for (; c < stride; c += Kernels.Lanes)
        {
            var acc = Vector256<float>.Zero;
            for (var d = 0; d < rank; d++)
                acc = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref v, d)), Vector256.LoadUnsafe(ref Unsafe.Add(ref g, d * stride + c)), acc);
            acc.StoreUnsafe(ref result, (nuint)c);
        }
    }

    /// <summary>YᵀY as a padded stride×stride matrix, summed over per-thread partials in a fixed order (deterministic).</summary>
    private float[] Gramian(float[] factors, int threads)
    {
        var stride = _stride;
        var rows = factors.Length / stride;
        var parts = Math.Max(1, Math.Min(threads, rows / 256));
        var partials = new float[parts][];
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = threads },
            part => partials[part] = PartialGramian(factors, (int)((long)rows * part / parts), (int)((long)rows * (part + 1) / parts)));
        var sum = partials[0];
        for (var part = 1; part < parts; part++)
            for (var j = 0; j < sum.Length; j++)
                sum[j] += partials[part][j];
        return sum;
    }

    // Jitted fully optimised at once: it runs only twice per sweep, too rarely for tiering to promote it in time.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private float[] PartialGramian(float[] factors, int from, int to)
    {
        var stride = _stride;
        var g = new float[stride * stride];
        ref var g0 = ref MemoryMarshal.GetArrayDataReference(g);
        ref var f0 = ref MemoryMarshal.GetArrayDataReference(factors);
        for (var r = from; r < to; r++)
        {
            ref var yr = ref Unsafe.Add(ref f0, (nint)r * stride);
            for (var d = 0; d < _rank; d++)
                Axpy(Unsafe.Add(ref yr, d), ref yr, ref Unsafe.Add(ref g0, d * stride), stride);
        }
        return g;
    }

    /// <summary>The full objective: Σ over every cell of confidence·(preference − score)² plus λ(‖X‖² + ‖Y‖²).</summary>
    private double Loss(float[] x, float[] y, Csr byUser)
    {
        var stride = _stride;
        var gram = Gramian(y, 1);
        var c = options.C;
        var sumY = new double[stride];
        for (var r = 0; r < y.Length / stride; r++)
            for (var d = 0; d < stride; d++)
                sumY[d] += y[r * stride + d];
        double loss = 0;
        var itemCount = y.Length / stride;
        for (var u = 0; u < x.Length / stride; u++)
        {
            var xu = x.AsSpan(u * stride, stride);
            var gx = new float[stride];
            MultiplyGram(gram, ref xu[0], ref gx[0]);
            double all = Kernels.Dot(xu, gx, stride), linear = 0;
            for (var d = 0; d < stride; d++)
                linear += sumY[d] * xu[d];
            // Every cell as if unobserved: Σ(C − s)², then correct the observed ones.
            loss += itemCount * c * c - 2 * c * linear + all;
            for (var j = byUser.Start[u]; j < byUser.Start[u + 1]; j++)
            {
                double s = Kernels.Dot(xu, y.AsSpan(byUser.Index[j] * stride, stride), stride);
                loss += (1 + byUser.Weight[j]) * (1 - s) * (1 - s) - (c - s) * (c - s);
            }
        }
        double norms = 0;
        foreach (var v in x)
            norms += v * v;
        foreach (var v in y)
            norms += v * v;
        return loss + options.Lambda * norms;
    }

    /// <summary>Small positive start (uniform [0, 0.01)·… scaled by 1/√k) so the first CG steps are well conditioned.</summary>
    private float[] InitFactors(int rows, Random random)
    {
        var factors = new float[(long)rows * _stride];
        var scale = 0.1f / MathF.Sqrt(_rank);
        for (var r = 0; r < rows; r++)
        {
            var row = factors.AsSpan(r * _stride, _rank);
            for (var d = 0; d < row.Length; d++)
                row[d] = random.NextSingle() * scale;
        }
        return factors;
    }
}
