using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Recommender.Factorization;

/// <summary>
/// FPSGD (Chin, Zhuang, Juan, Lin 2015, as in LIBMF): users and items are shuffled into a B×B grid of blocks and threads
/// update blocks that share no row or column, so factor updates need no locks. Learning rates adapt per row as LIBMF's RPCS (AdaGrad with one accumulator per vector). Ratings are centred
/// on the global mean and divided by their standard deviation before training, as LIBMF scales them.
/// </summary>
internal sealed class SgdSolver(
    MatrixFactorizationOptions options, TrainingData data, TrainingData? validation, IProgress<TrainingProgress>? progress, Stopwatch clock,
    CancellationToken cancellationToken)
{
    /// <summary>Training stops when validation RMSE has not improved for this many epochs in a row.</summary>
    internal const int EarlyStoppingPatience = 3;

    /// <summary>
    /// Biases are regularised at a tenth of Lambda: one number per user or item overfits far less than a vector, and
    /// full Lambda cost 0.001–0.002 test RMSE on synth-1M and synth-20M. Fold-in uses the same share.
    /// </summary>
    internal const float BiasRegularisationShare = 0.1f;

    /// <summary>
    /// Biases take steps this many times the factors' step. A factor row's AdaGrad accumulator grows by the mean of its k
    /// squared gradients, a bias's by its one squared gradient, which is about as large as their sum; so with the
    /// same step a bias moved about √k times more slowly than a factor and was still short of its value after 20
    /// epochs. On synth-1M (k=64) test RMSE: 0.7863 at 1×, 0.7847 at 5×, 0.7847 at 10×, divergence at 20×.
    /// </summary>
    internal const float BiasStepMultiplier = 10f;

    /// <summary>
    /// Initial factors are uniform in [0, InitialScale/√k). LIBMF's 1 starts every prediction about a quarter of a
    /// standard deviation above the mean, and the early epochs spend their steps unlearning it; 0.3 gave test RMSE
    /// 0.7829 on synth-1M against 0.7847 (both with the bias step above), and the small planted world's chosen model is
    /// as good as before.
    /// </summary>
    internal const float InitialScale = 0.3f;

    private readonly int _rank = options.ApproximationRank;
    private readonly int _stride = Kernels.StrideFor(options.ApproximationRank);
    private float _learningRate = (float)options.LearningRate;

    public MatrixFactorizationModel Run()
    {
        int nu = data.Users.Count, ni = data.Items.Count, n = data.Count;
        var values = data.ValueColumn;
        double sum = 0, sumSq = 0;
        for (var j = 0; j < n; j++)
            sum += values[j];
        var mean = sum / n;
        for (var j = 0; j < n; j++)
            sumSq += (values[j] - mean) * (values[j] - mean);
        var scale = Math.Max(1e-4, Math.Sqrt(sumSq / n));

        var random = new Random(options.Seed);
        var threads = options.EffectiveThreads;
        var bins = Math.Max(20, 2 * threads);
        bins = Math.Max(1, Math.Min(bins, Math.Min(nu, ni)));
        // Users and items are renumbered by a random permutation and stored in that order, so each bin's rows are
        // contiguous in memory: a block then touches a few MB of factors instead of scattered pages all over them
        // (at 200K users × k=128 the scattered version spent its time in TLB misses).
        var userPosition = Permutation(nu, random);
        var itemPosition = Permutation(ni, random);
        var blockStart = BucketInPlace(userPosition, itemPosition, bins);

        var p = InitFactors(nu, random);
        var q = InitFactors(ni, random);
        var bu = new float[nu];
        var bi = new float[ni];
        var gp = new float[nu];
        var gq = new float[ni];
        var gbu = new float[nu];
        var gbi = new float[ni];
        Array.Fill(gp, 1f);
        Array.Fill(gq, 1f);
        Array.Fill(gbu, 1f);
        Array.Fill(gbi, 1f);

        var state = new State(p, q, bu, bi, gp, gq, gbu, gbi, Penalties(data.UserIndices, nu), Penalties(data.ItemIndices, ni), (float)mean, (float)(1 / scale));
        var blockLoss = new double[bins * bins];
        var scheduler = new BlockScheduler(bins, random);
        var bestValidation = double.PositiveInfinity;
        var sinceBest = 0;
        for (var epoch = 1; epoch <= options.NumberOfIterations && sinceBest < EarlyStoppingPatience; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _learningRate = (float)(options.LearningRate * Math.Pow(options.LearningRateDecay, epoch - 1));
            scheduler.StartEpoch();
            if (threads == 1)
            {
                Worker();
            }
            else
            {
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ => Worker());
            }
            cancellationToken.ThrowIfCancellationRequested();
            double? validationRmse = null;
            if (validation is not null)
            {
                validationRmse = ValidationRmse(state, validation, userPosition, itemPosition, scale);
                (bestValidation, sinceBest) = validationRmse < bestValidation ? (validationRmse.Value, 0) : (bestValidation, sinceBest + 1);
            }
            if (progress is not null)
            {
                double total = 0;
                foreach (var l in blockLoss)
                    total += l;
                progress.Report(new TrainingProgress(epoch, options.NumberOfIterations, Math.Sqrt(total / n) * scale, clock.Elapsed, validationRmse));
            }
        }

        RestoreOrder(userPosition, itemPosition, p, q, ref bu, ref bi);

        // Back to rating units: prediction = mean + scale·(bu + bi + p·q), so factors carry √scale each.
        var rootScale = (float)Math.Sqrt(scale);
        for (var j = 0; j < p.Length; j++)
            p[j] *= rootScale;
        for (var j = 0; j < q.Length; j++)
            q[j] *= rootScale;
        for (var j = 0; j < bu.Length; j++)
            bu[j] *= (float)scale;
        for (var j = 0; j < bi.Length; j++)
            bi[j] *= (float)scale;
        return new MatrixFactorizationModel(options.Clone(), data.Users, data.Items, _rank, p, q, bu, bi, (float)mean, (float)scale);

        void Worker()
        {
            // Checked per block so a 20M-row epoch can be abandoned within milliseconds; the epoch loop then throws.
            while (!cancellationToken.IsCancellationRequested && scheduler.TryTake(out var block))
            {
                int start = blockStart[block], end = blockStart[block + 1];
                var coded = data.ValueColumn.Codes is not null;
                blockLoss[block] = (options.NonNegative, coded) switch
                {
                    (true, true) => UpdateBlock<NonNegativeProjection, CodedValues>(state, start, end),
                    (true, false) => UpdateBlock<NonNegativeProjection, FloatValues>(state, start, end),
                    (false, true) => UpdateBlock<NoProjection, CodedValues>(state, start, end),
                    (false, false) => UpdateBlock<NoProjection, FloatValues>(state, start, end),
                };
                scheduler.Release(block);
            }
        }
    }

    /// <summary>
    /// LIBMF-style dynamic scheduling: a free thread takes a random unprocessed block whose row and column bins no other
    /// thread holds, so a descheduled thread delays nobody until the epoch's last blocks. With one thread the order
    /// comes from the seeded generator alone, so training is deterministic.
    /// </summary>
    private sealed class BlockScheduler(int bins, Random random)
    {
        private readonly object _gate = new();
        private readonly bool[] _done = new bool[bins * bins];
        private readonly bool[] _rowBusy = new bool[bins];
        private readonly bool[] _columnBusy = new bool[bins];
        private int _remaining;

        public void StartEpoch()
        {
            Array.Clear(_done);
            _remaining = _done.Length;
        }

        public bool TryTake(out int block)
        {
            lock (_gate)
            {
                while (true)
                {
                    if (_remaining == 0)
                    {
                        block = -1;
                        return false;
                    }
                    // First free block after a random start: O(1) while most blocks are free, unlike listing every candidate.
                    var blocks = _done.Length;
                    var offset = random.Next(blocks);
                    block = -1;
                    for (var step = 0; step < blocks; step++)
                    {
                        var b = offset + step < blocks ? offset + step : offset + step - blocks;
                        if (!_done[b] && !_rowBusy[b / bins] && !_columnBusy[b % bins])
                        {
                            block = b;
                            break;
                        }
                    }
                    if (block >= 0)
                    {
                        _done[block] = true;
                        _rowBusy[block / bins] = true;
                        _columnBusy[block % bins] = true;
                        _remaining--;
                        return true;
                    }
                    // Every remaining block clashes with one being run; wait for a release.
                    Monitor.Wait(_gate);
                }
            }
        }

        public void Release(int block)
        {
            lock (_gate)
            {
                _rowBusy[block / bins] = false;
                _columnBusy[block % bins] = false;
                Monitor.PulseAll(_gate);
            }
        }
    }

    private sealed record State(
        float[] P, float[] Q, float[] Bu, float[] Bi, float[] Gp, float[] Gq, float[] Gbu, float[] Gbi, float[] UserPenalty, float[] ItemPenalty,
        float Mean, float InvScale);

    /// <summary>
    /// Per-update L2 penalty of each row. Plain: λ, so a row with n ratings is penalised λ·n in all, in step with its n
    /// error terms. Frequency-scaled: λ·(1 + 1/n), so the total is λ·(1 + n), the same weighted-λ as one-class ALS.
    /// </summary>
    private float[] Penalties(int[] rows, int count)
    {
        var penalty = new float[count];
        if (!options.FrequencyScaledRegularization)
        {
            Array.Fill(penalty, (float)options.Lambda);
            return penalty;
        }
        for (var j = 0; j < data.Count; j++)
            penalty[rows[j]]++;
        for (var r = 0; r < count; r++)
            penalty[r] = (float)(options.Lambda * (1 + 1 / Math.Max(1f, penalty[r])));
        return penalty;
    }

    /// <summary>RMSE in rating units on <paramref name="rows"/>, whose indices are in the caller's numbering (the state is in shuffled positions).</summary>
    private double ValidationRmse(State s, TrainingData rows, int[] userPosition, int[] itemPosition, double scale)
    {
        if (rows.Count == 0)
            return double.NaN;
        double sum = 0;
        for (var j = 0; j < rows.Count; j++)
        {
            int u = userPosition[rows.UserIndices[j]], i = itemPosition[rows.ItemIndices[j]];
            var dot = Kernels.Dot(s.P.AsSpan(u * _stride, _stride), s.Q.AsSpan(i * _stride, _stride), _stride);
            var e = rows.Value(j) - (s.Mean + scale * (s.Bu[u] + s.Bi[i] + dot));
            sum += e * e;
        }
        return Math.Sqrt(sum / rows.Count);
    }

    private interface IProjection
    {
        static abstract Vector256<float> Apply(Vector256<float> v);
    }

    private readonly struct NoProjection : IProjection
    {
        public static Vector256<float> Apply(Vector256<float> v) => v;
    }

    private readonly struct NonNegativeProjection : IProjection
    {
        public static Vector256<float> Apply(Vector256<float> v) => Vector256.Max(v, Vector256<float>.Zero);
    }

    /// <summary>How the hot loop reads a row's rating: the table is the floats, or the levels the codes index.</summary>
    private interface IValueReader
    {
        static abstract float Read(ref float table, ref byte codes, int row);
    }

    private readonly struct FloatValues : IValueReader
    {
        public static float Read(ref float table, ref byte codes, int row) => Unsafe.Add(ref table, row);
    }

    private readonly struct CodedValues : IValueReader
    {
        public static float Read(ref float table, ref byte codes, int row) => Unsafe.Add(ref table, Unsafe.Add(ref codes, row));
    }

    /// <summary>One pass over a block's ratings. Returns the sum of squared (scaled) errors seen before each update.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private double UpdateBlock<TProjection, TValues>(State s, int start, int end) where TProjection : struct, IProjection where TValues : struct, IValueReader
    {
        var stride = _stride;
        var lambda = (float)options.Lambda;
        var eta = _learningRate;
        var invRank = 1f / _rank;
        var mean = s.Mean;
        var invScale = s.InvScale;
        ref var users = ref MemoryMarshal.GetArrayDataReference(data.UserIndices);
        ref var items = ref MemoryMarshal.GetArrayDataReference(data.ItemIndices);
        var column = data.ValueColumn;
        ref var values = ref MemoryMarshal.GetArrayDataReference(column.Floats ?? column.Levels);
        ref var codes = ref column.Codes is { } c ? ref MemoryMarshal.GetArrayDataReference(c) : ref Unsafe.NullRef<byte>();
        ref var p0 = ref MemoryMarshal.GetArrayDataReference(s.P);
        ref var q0 = ref MemoryMarshal.GetArrayDataReference(s.Q);
        ref var bu0 = ref MemoryMarshal.GetArrayDataReference(s.Bu);
        ref var bi0 = ref MemoryMarshal.GetArrayDataReference(s.Bi);
        ref var gp0 = ref MemoryMarshal.GetArrayDataReference(s.Gp);
        ref var gq0 = ref MemoryMarshal.GetArrayDataReference(s.Gq);
        ref var gbu0 = ref MemoryMarshal.GetArrayDataReference(s.Gbu);
        ref var gbi0 = ref MemoryMarshal.GetArrayDataReference(s.Gbi);
        ref var lu0 = ref MemoryMarshal.GetArrayDataReference(s.UserPenalty);
        ref var li0 = ref MemoryMarshal.GetArrayDataReference(s.ItemPenalty);
        var biasLambda = lambda * BiasRegularisationShare;
        var biasEta = eta * BiasStepMultiplier;
        double loss = 0;
        for (var j = start; j < end; j++)
        {
            var u = Unsafe.Add(ref users, j);
            var i = Unsafe.Add(ref items, j);
            var r = (TValues.Read(ref values, ref codes, j) - mean) * invScale;
            ref var pu = ref Unsafe.Add(ref p0, (nint)u * stride);
            ref var qi = ref Unsafe.Add(ref q0, (nint)i * stride);
            ref var bu = ref Unsafe.Add(ref bu0, u);
            ref var bi = ref Unsafe.Add(ref bi0, i);

            var e = r - bu - bi - Kernels.Dot(ref pu, ref qi, stride);
            loss += e * e;

            ref var gpu = ref Unsafe.Add(ref gp0, u);
            ref var gqi = ref Unsafe.Add(ref gq0, i);
            var etaP = Vector256.Create(eta * MathF.ReciprocalSqrtEstimate(gpu));
            var etaQ = Vector256.Create(eta * MathF.ReciprocalSqrtEstimate(gqi));
            var lambdaP = Vector256.Create(Unsafe.Add(ref lu0, u));
            var lambdaQ = Vector256.Create(Unsafe.Add(ref li0, i));
            var ve = Vector256.Create(e);
            var sumP = Vector256<float>.Zero;
            var sumQ = Vector256<float>.Zero;
            for (var d = 0; d < stride; d += Kernels.Lanes)
            {
                var pv = Vector256.LoadUnsafe(ref pu, (nuint)d);
                var qv = Vector256.LoadUnsafe(ref qi, (nuint)d);
                // Gradients of ½e² + ½λ‖·‖²: λp − e·q and λq − e·p.
                var gradP = Vector256.FusedMultiplyAdd(lambdaP, pv, -(ve * qv));
                var gradQ = Vector256.FusedMultiplyAdd(lambdaQ, qv, -(ve * pv));
                sumP = Vector256.FusedMultiplyAdd(gradP, gradP, sumP);
                sumQ = Vector256.FusedMultiplyAdd(gradQ, gradQ, sumQ);
                TProjection.Apply(Vector256.FusedMultiplyAdd(-etaP, gradP, pv)).StoreUnsafe(ref pu, (nuint)d);
                TProjection.Apply(Vector256.FusedMultiplyAdd(-etaQ, gradQ, qv)).StoreUnsafe(ref qi, (nuint)d);
            }
            gpu += Vector256.Sum(sumP) * invRank;
            gqi += Vector256.Sum(sumQ) * invRank;

            ref var gbu = ref Unsafe.Add(ref gbu0, u);
            ref var gbi = ref Unsafe.Add(ref gbi0, i);
            var gradBu = biasLambda * bu - e;
            var gradBi = biasLambda * bi - e;
            bu -= biasEta * MathF.ReciprocalSqrtEstimate(gbu) * gradBu;
            bi -= biasEta * MathF.ReciprocalSqrtEstimate(gbi) * gradBi;
            gbu += gradBu * gradBu;
            gbi += gradBi * gradBi;
        }
        return loss;
    }

    private static int[] Permutation(int count, Random random)
    {
        var position = new int[count];
        for (var j = 0; j < count; j++)
            position[j] = j;
        random.Shuffle(position);
        return position;
    }

    /// <summary>
    /// Renumbers the training arrays to shuffled positions and reorders them in place so each block's ratings are
    /// contiguous (an in-place counting sort: no second copy of the ratings). Returns block start offsets, length bins²+1.
    /// </summary>
    private int[] BucketInPlace(int[] userPosition, int[] itemPosition, int bins)
    {
        var n = data.Count;
        var users = data.UserIndices;
        var items = data.ItemIndices;
        var values = data.ValueColumn;
        var rowBin = BinOfPosition(userPosition.Length, bins);
        var colBin = BinOfPosition(itemPosition.Length, bins);
        var blocks = bins * bins;
        var start = new int[blocks + 1];
        for (var j = 0; j < n; j++)
        {
            var u = users[j] = userPosition[users[j]];
            var i = items[j] = itemPosition[items[j]];
            start[rowBin[u] * bins + colBin[i] + 1]++;
        }
        for (var b = 0; b < blocks; b++)
            start[b + 1] += start[b];
        var next = start[..blocks];
        for (var b = 0; b < blocks; b++)
        {
            var end = start[b + 1];
            while (next[b] < end)
            {
                var j = next[b];
                var target = rowBin[users[j]] * bins + colBin[items[j]];
                if (target == b)
                {
                    next[b]++;
                    continue;
                }
                var k = next[target]++;
                (users[j], users[k]) = (users[k], users[j]);
                (items[j], items[k]) = (items[k], items[j]);
                values.Swap(j, k);
            }
        }
        return start;
    }

    private static int[] BinOfPosition(int count, int bins)
    {
        var bin = new int[count];
        for (var j = 0; j < count; j++)
            bin[j] = (int)((long)j * bins / count);
        return bin;
    }

    /// <summary>Puts the training arrays' indices and the factor rows back in the caller's numbering.</summary>
    private void RestoreOrder(int[] userPosition, int[] itemPosition, float[] p, float[] q, ref float[] bu, ref float[] bi)
    {
        var users = data.UserIndices;
        var items = data.ItemIndices;
        var userAt = Inverse(userPosition);
        var itemAt = Inverse(itemPosition);
        for (var j = 0; j < data.Count; j++)
        {
            users[j] = userAt[users[j]];
            items[j] = itemAt[items[j]];
        }
        PermuteRows(p, userPosition);
        PermuteRows(q, itemPosition);
        bu = Gather(bu, userPosition);
        bi = Gather(bi, itemPosition);
    }

    private static int[] Inverse(int[] position)
    {
        var at = new int[position.Length];
        for (var j = 0; j < position.Length; j++)
            at[position[j]] = j;
        return at;
    }

    private static float[] Gather(float[] byPosition, int[] position)
    {
        var result = new float[byPosition.Length];
        for (var j = 0; j < position.Length; j++)
            result[j] = byPosition[position[j]];
        return result;
    }

    /// <summary>Row j of the result is old row position[j]; done in place by following cycles, so no second 100 MB matrix.</summary>
    private void PermuteRows(float[] rows, int[] position)
    {
        var stride = _stride;
        var done = new bool[position.Length];
        var saved = new float[stride];
        for (var start = 0; start < position.Length; start++)
        {
            if (done[start])
                continue;
            rows.AsSpan(start * stride, stride).CopyTo(saved);
            var j = start;
            while (true)
            {
                done[j] = true;
                var from = position[j];
                if (from == start)
                {
                    saved.CopyTo(rows.AsSpan(j * stride, stride));
                    break;
                }
                rows.AsSpan(from * stride, stride).CopyTo(rows.AsSpan(j * stride, stride));
                j = from;
            }
        }
    }

    /// <summary>Uniform [0, <see cref="InitialScale"/>)/√k; padding lanes stay 0 and receive zero gradients.</summary>
    private float[] InitFactors(int rows, Random random)
    {
        var factors = new float[(long)rows * _stride];
        var scale = InitialScale / MathF.Sqrt(_rank);
        for (var r = 0; r < rows; r++)
        {
            var row = factors.AsSpan(r * _stride, _rank);
            for (var d = 0; d < row.Length; d++)
                row[d] = random.NextSingle() * scale;
        }
        return factors;
    }
}
