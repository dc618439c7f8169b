using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Recommender.Factorization;

/// <summary>Hot loops shared by training and scoring. Rows are padded to <see cref="Lanes"/> floats so no loop needs a scalar tail.</summary>
internal static class Kernels
{
    public const int Lanes = 8;

    public static int StrideFor(int rank) => (rank + Lanes - 1) / Lanes * Lanes;

    /// <summary>scores[j] = user · items[j] for every row of a padded item matrix.</summary>
    public static void DotAll(ReadOnlySpan<float> user, ReadOnlySpan<float> items, int stride, Span<float> scores)
    {
        var count = scores.Length;
        if (!Vector256.IsHardwareAccelerated)
        {
            for (var j = 0; j < count; j++)
                scores[j] = TensorPrimitives.Dot(user[..stride], items.Slice(j * stride, stride));
            return;
        }
        ref var u = ref MemoryMarshal.GetReference(user);
        ref var q = ref MemoryMarshal.GetReference(items);
        ref var s = ref MemoryMarshal.GetReference(scores);
        var j4 = 0;
        // Four items per pass: the user vector is loaded once per four rows and the four sums hide FMA latency.
        for (; j4 + 4 <= count; j4 += 4)
        {
            ref var q0 = ref Unsafe.Add(ref q, (nint)j4 * stride);
            ref var q1 = ref Unsafe.Add(ref q0, stride);
            ref var q2 = ref Unsafe.Add(ref q1, stride);
            ref var q3 = ref Unsafe.Add(ref q2, stride);
            var a0 = Vector256<float>.Zero;
            var a1 = Vector256<float>.Zero;
            var a2 = Vector256<float>.Zero;
            var a3 = Vector256<float>.Zero;
            for (var d = 0; d < stride; d += Lanes)
            {
                var uv = Vector256.LoadUnsafe(ref u, (nuint)d);
                a0 = Vector256.FusedMultiplyAdd(uv, Vector256.LoadUnsafe(ref q0, (nuint)d), a0);
                a1 = Vector256.FusedMultiplyAdd(uv, Vector256.LoadUnsafe(ref q1, (nuint)d), a1);
                a2 = Vector256.FusedMultiplyAdd(uv, Vector256.LoadUnsafe(ref q2, (nuint)d), a2);
                a3 = Vector256.FusedMultiplyAdd(uv, Vector256.LoadUnsafe(ref q3, (nuint)d), a3);
            }
            Unsafe.Add(ref s, j4) = Vector256.Sum(a0);
            Unsafe.Add(ref s, j4 + 1) = Vector256.Sum(a1);
            Unsafe.Add(ref s, j4 + 2) = Vector256.Sum(a2);
            Unsafe.Add(ref s, j4 + 3) = Vector256.Sum(a3);
        }
        for (; j4 < count; j4++)
            Unsafe.Add(ref s, j4) = Dot(ref u, ref Unsafe.Add(ref q, (nint)j4 * stride), stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ref float a, ref float b, int stride)
    {
        // Four independent sums: one chain of dependent FMAs (4-cycle latency each) would dominate a k=64 update.
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        var acc2 = Vector256<float>.Zero;
        var acc3 = Vector256<float>.Zero;
        var d = 0;
        for (; d + 4 * Lanes <= stride; d += 4 * Lanes)
        {
            acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)d), Vector256.LoadUnsafe(ref b, (nuint)d), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)(d + Lanes)), Vector256.LoadUnsafe(ref b, (nuint)(d + Lanes)), acc1);
            acc2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)(d + 2 * Lanes)), Vector256.LoadUnsafe(ref b, (nuint)(d + 2 * Lanes)), acc2);
            acc3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)(d + 3 * Lanes)), Vector256.LoadUnsafe(ref b, (nuint)(d + 3 * Lanes)), acc3);
        }
        for (; d < stride; d += Lanes)
            acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)d), Vector256.LoadUnsafe(ref b, (nuint)d), acc0);
        return Vector256.Sum((acc0 + acc1) + (acc2 + acc3));
    }

    /// <summary>Dot of padded rows (both of length ≥ stride, stride a multiple of <see cref="Lanes"/>).</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int stride)
    {
        if (a.Length < stride || b.Length < stride)
            throw new ArgumentException("Rows are shorter than the stride.");
        return Dot(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(b), stride);
    }
}
