using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Recommender.Factorization;

/// <summary>
/// An 8-bit copy of the item factors that finds a user's best items over the whole catalog exactly, while reading a
/// quarter of the bytes a float scan reads. Each item's row is scaled to ±127; its dot product with the user's
/// (also 8-bit) vector is an integer, and a per-item bound on the rounding error turns it into an interval that
/// surely holds the exact score. Only items whose interval reaches the k-th best lower bound are scored exactly.
/// </summary>
internal sealed class QuantizedItems
{
    /// <summary>Catalogs smaller than this are scanned in floats: the screen would not pay for itself.</summary>
    public const int MinItems = 2048;

    private const int Block = 32;

    private readonly int _rank;
    private readonly int _stride;
    private readonly sbyte[] _rows;
    private readonly float[] _scale;
    // 128·Σq_j: what the user's +128 offset (unsigned bytes for the multiply-add) adds to each dot product.
    private readonly float[] _offset;
    // Error terms per item: s_j|q_j| (scale times the 8-bit row's length) and s_j|e_j| (scale times its rounding residual's length).
    private readonly float[] _rowTerm;
    private readonly float[] _residualTerm;

    public QuantizedItems(ReadOnlySpan<float> factors, int count, int rank, int floatStride)
    {
        _rank = rank;
        _stride = (rank + Block - 1) / Block * Block;
        _rows = new sbyte[count * _stride];
        _scale = new float[count];
        _offset = new float[count];
        _rowTerm = new float[count];
        _residualTerm = new float[count];
        for (var j = 0; j < count; j++)
        {
            var row = factors.Slice(j * floatStride, rank);
            var max = 0f;
            foreach (var x in row)
                max = Math.Max(max, Math.Abs(x));
            var scale = max / 127f;
            _scale[j] = scale;
            double rowNorm = 0, residualNorm = 0;
            var sum = 0;
            for (var d = 0; d < rank; d++)
            {
                var exact = scale == 0 ? 0 : row[d] / scale;
                var q = (int)Math.Round(exact);
                _rows[j * _stride + d] = (sbyte)q;
                sum += q;
                rowNorm += q * q;
                residualNorm += (exact - q) * (exact - q);
            }
            _offset[j] = 128f * sum;
            _rowTerm[j] = scale * (float)Math.Sqrt(rowNorm);
            _residualTerm[j] = scale * (float)Math.Sqrt(residualNorm);
        }
    }

    public int Count => _scale.Length;

    /// <summary>
    /// Item indices that may be among the <paramref name="k"/> best for <paramref name="user"/> (every one that is, and
    /// some that are not), excluding <paramref name="excludedSorted"/>. <paramref name="itemBias"/> is added to each score (empty for none).
    /// </summary>
    public List<int> Screen(ReadOnlySpan<float> user, ReadOnlySpan<float> itemBias, int k, ReadOnlySpan<int> excludedSorted)
    {
        var count = Count;
        // The user's row in 8 bits, offset by 128 into unsigned bytes as the multiply-add instruction wants them.
        var userMax = 0f;
        for (var d = 0; d < _rank; d++)
            userMax = Math.Max(userMax, Math.Abs(user[d]));
        var userScale = userMax / 127f;
        Span<byte> userBytes = stackalloc byte[_stride];
        userBytes.Fill(128);
        double userResidual = 0, userNorm = 0;
        for (var d = 0; d < _rank; d++)
        {
            var exact = userScale == 0 ? 0 : user[d] / userScale;
            var q = (int)Math.Round(exact);
            userBytes[d] = (byte)(q + 128);
            userResidual += (exact - q) * (exact - q);
            userNorm += (double)user[d] * user[d];
        }
        var eu = (float)Math.Sqrt(userResidual);
        var un = (float)Math.Sqrt(userNorm);

        var lower = ArrayPool<float>.Shared.Rent(count);
        var upper = ArrayPool<float>.Shared.Rent(count);
        var error = ArrayPool<float>.Shared.Rent(count);
        try
        {
            var approx = upper.AsSpan(0, count);
            var err = error.AsSpan(0, count);
            Dots(userBytes, approx);
            TensorPrimitives.Subtract(approx, _offset, approx);
            // approx_j = s_u s_j (ũ·q_j) + bias_j.
            TensorPrimitives.Multiply(approx, _scale, approx);
            if (itemBias.IsEmpty)
                TensorPrimitives.Multiply(approx, userScale, approx);
            else
                TensorPrimitives.MultiplyAdd(approx, userScale, itemBias[..count], approx);
            // u·v = s_u s_j (ũ·q + e_u·q) + s_j u·e_j, with |e_u·q| ≤ |e_u||q| and |u·e_j| ≤ |u||e_j|; plus slack for the
            // float rounding of the exact scores (well under 1e-5 of |u||v| at these ranks).
            TensorPrimitives.Multiply(_rowTerm, userScale * eu * 1.001f + 1e-5f * un, err);
            TensorPrimitives.MultiplyAdd(_residualTerm, un * 1.00101f, err, err);
            TensorPrimitives.Add(err, 1e-6f, err);
            TensorPrimitives.Subtract(approx, err, lower.AsSpan(0, count));
            TensorPrimitives.Add(approx, err, approx);
            foreach (var e in excludedSorted)
            {
                if ((uint)e < (uint)count)
                    lower[e] = upper[e] = float.NegativeInfinity;
            }
            // Never −∞ itself, so excluded items (bounded by −∞) cannot survive even when fewer than k others exist.
            var threshold = Math.Max(LowerBoundOfKth(lower.AsSpan(0, count), k), float.MinValue);
            var survivors = new List<int>(4 * k);
            var i = 0;
            var t = Vector256.Create(threshold);
            ref var u = ref MemoryMarshal.GetArrayDataReference(upper);
            for (; i + Vector256<float>.Count <= count; i += Vector256<float>.Count)
            {
                var mask = Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref u, (nuint)i), t).ExtractMostSignificantBits();
                while (mask != 0)
                {
                    survivors.Add(i + BitOperations.TrailingZeroCount(mask));
                    mask &= mask - 1;
                }
            }
            for (; i < count; i++)
            {
                if (upper[i] >= threshold)
                    survivors.Add(i);
            }
            return survivors;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(lower);
            ArrayPool<float>.Shared.Return(upper);
            ArrayPool<float>.Shared.Return(error);
        }
    }

    /// <summary>A value at most the k-th largest of <paramref name="values"/> (−∞ when there are fewer than k finite ones), from a sample and a check.</summary>
    private static float LowerBoundOfKth(ReadOnlySpan<float> values, int k)
    {
        if (k >= values.Length)
            return float.NegativeInfinity;
        var size = Math.Min(values.Length, 1024);
        var step = values.Length / size;
        var sample = new float[size];
        for (var i = 0; i < size; i++)
            sample[i] = values[i * step];
        Array.Sort(sample);
        // Aim at about 1.5 k values above the threshold, then halve the aim until at least k are.
        for (var aim = 1.5 * k; ; aim *= 2)
        {
            var rank = (int)Math.Min(size - 1, aim * size / values.Length + 1);
            var threshold = sample[size - 1 - rank];
            if (rank == size - 1 || float.IsNegativeInfinity(threshold))
                return float.NegativeInfinity;
            if (CountAtLeast(values, threshold) >= k)
                return threshold;
        }
    }

    private static int CountAtLeast(ReadOnlySpan<float> values, float threshold)
    {
        var n = 0;
        var i = 0;
        var t = Vector256.Create(threshold);
        ref var v = ref MemoryMarshal.GetReference(values);
        for (; i + Vector256<float>.Count <= values.Length; i += Vector256<float>.Count)
            n += BitOperations.PopCount(Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref v, (nuint)i), t).ExtractMostSignificantBits());
        for (; i < values.Length; i++)
            n += values[i] >= threshold ? 1 : 0;
        return n;
    }

    /// <summary>ũ·q_j for every item, as floats (exact: the integers stay far below 2^24).</summary>
    private void Dots(ReadOnlySpan<byte> user, Span<float> dots)
    {
        ref var u = ref MemoryMarshal.GetReference(user);
        ref var rows = ref Unsafe.As<sbyte, byte>(ref MemoryMarshal.GetArrayDataReference(_rows));
        var j = 0;
        if (AvxVnni.IsSupported)
        {
            // Eight rows at a time, their eight partial sums folded into one vector with horizontal adds.
            for (; j + 8 <= dots.Length; j += 8)
            {
                ref var q = ref Unsafe.Add(ref rows, (nint)j * _stride);
                Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
                for (var d = 0; d < _stride; d += Block)
                {
                    var uv = Vector256.LoadUnsafe(ref u, (nuint)d);
                    s0 = AvxVnni.MultiplyWideningAndAdd(s0, uv, Vector256.LoadUnsafe(ref q, (nuint)d).AsSByte());
                    s1 = AvxVnni.MultiplyWideningAndAdd(s1, uv, Vector256.LoadUnsafe(ref q, (nuint)(_stride + d)).AsSByte());
                    s2 = AvxVnni.MultiplyWideningAndAdd(s2, uv, Vector256.LoadUnsafe(ref q, (nuint)(2 * _stride + d)).AsSByte());
                    s3 = AvxVnni.MultiplyWideningAndAdd(s3, uv, Vector256.LoadUnsafe(ref q, (nuint)(3 * _stride + d)).AsSByte());
                    s4 = AvxVnni.MultiplyWideningAndAdd(s4, uv, Vector256.LoadUnsafe(ref q, (nuint)(4 * _stride + d)).AsSByte());
                    s5 = AvxVnni.MultiplyWideningAndAdd(s5, uv, Vector256.LoadUnsafe(ref q, (nuint)(5 * _stride + d)).AsSByte());
                    s6 = AvxVnni.MultiplyWideningAndAdd(s6, uv, Vector256.LoadUnsafe(ref q, (nuint)(6 * _stride + d)).AsSByte());
                    s7 = AvxVnni.MultiplyWideningAndAdd(s7, uv, Vector256.LoadUnsafe(ref q, (nuint)(7 * _stride + d)).AsSByte());
                }
                var h0123 = Avx2.HorizontalAdd(Avx2.HorizontalAdd(s0, s1), Avx2.HorizontalAdd(s2, s3));
                var h4567 = Avx2.HorizontalAdd(Avx2.HorizontalAdd(s4, s5), Avx2.HorizontalAdd(s6, s7));
                var sums = Avx2.Add(Avx2.Permute2x128(h0123, h4567, 0x20), Avx2.Permute2x128(h0123, h4567, 0x31));
                Vector256.ConvertToSingle(sums).StoreUnsafe(ref MemoryMarshal.GetReference(dots), (nuint)j);
            }
        }
        for (; j < dots.Length; j++)
        {
            ref var q = ref Unsafe.Add(ref rows, (nint)j * _stride);
            var sum = 0;
            for (var d = 0; d < _stride; d++)
                sum += Unsafe.Add(ref u, d) * (sbyte)Unsafe.Add(ref q, d);
            dots[j] = sum;
        }
    }
}
