using System.Buffers.Binary;
using Xunit.Abstractions;

namespace Recommender.Factorization.Tests;

/// <summary>
/// Seeded mutations of a valid model file (bit flips, truncation, inserted and deleted bytes, huge
/// dimension fields, random bytes; half of them with the checksum recomputed): whatever the bytes, <see cref="MatrixFactorizationModel.Load"/> either reads
/// a model or throws its documented <see cref="InvalidDataException"/>, and never allocates far beyond the bytes it was
/// given, whatever sizes a forged header claims.
/// </summary>
public class ModelFileFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 20261203;
    private const int Mutations = 5_000;

    // Header offsets: magic 0, version 4, loss 8, rank 12, users 16, items 20.
    private static readonly int[] DimensionOffsets = [8, 12, 16, 20];
    private static readonly int[] HugeValues = [int.MaxValue, int.MinValue, -1, 0, 1 << 20, 1 << 24, 1 << 28, 4096, 4097, 65_535, 100_000_000];

    [Fact]
    public void Load_seeded_mutations_read_or_throw_InvalidDataException_without_huge_allocations()
    {
        var original = SmallModelFile();
        var random = new Random(Seed);
        var outcomes = new Dictionary<string, int>();
        var unexpected = new List<string>();
        long largestAllocation = 0;

        for (var i = 0; i < Mutations; i++)
        {
            var (kind, bytes) = Mutate(original, random);
            // Half the time the checksum is made to match, as a forger would, so the parsing behind it is reached too.
            var forged = random.Next(2) == 0 && bytes.Length >= 96 + 8;
            if (forged)
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8), MatrixFactorizationModel.Fnv1a64(bytes.AsSpan(0, bytes.Length - 8)));
            var before = GC.GetAllocatedBytesForCurrentThread();
            string outcome;
            try
            {
                var model = MatrixFactorizationModel.Load(new MemoryStream(bytes));
                outcome = "loaded";
                if (model.UserCount > 0)
                    _ = model.UserVector(0).ToArray();
            }
            catch (InvalidDataException)
            {
                outcome = "refused";
            }
            catch (Exception e)
            {
                outcome = "other exception";
                unexpected.Add($"#{i} {kind}{(forged ? " (checksum forged)" : "")}: {e.GetType().Name}: {e.Message}");
            }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            largestAllocation = Math.Max(largestAllocation, allocated);
            // IdMap keeps a direct table for ids below 4M (16 MB at most, by design), whatever the file says.
            if (allocated > 8L * bytes.Length + (40 << 20))
                unexpected.Add($"#{i} {kind}{(forged ? " (checksum forged)" : "")}: allocated {allocated:N0} bytes for a {bytes.Length:N0}-byte file");
            var key = $"{kind}{(forged ? ", checksum forged" : "")}: {outcome}";
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
        }

        output.WriteLine($"{Mutations:N0} mutations of a {original.Length:N0}-byte model file (seed {Seed}); largest allocation {largestAllocation:N0} bytes");
        foreach (var (key, count) in outcomes.OrderBy(p => p.Key, StringComparer.Ordinal))
            output.WriteLine($"  {key}: {count:N0}");
        Assert.Empty(unexpected);
        Assert.Contains(outcomes, p => p.Key.EndsWith("refused", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_header_claiming_a_huge_model_is_refused_before_allocating_it()
    {
        var bytes = SmallModelFile();
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), 50_000_000); // users: about 1.4 GB of payload at rank 4
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<InvalidDataException>(() => MatrixFactorizationModel.Load(new NonSeekableStream(bytes)));

        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4 << 20, "allocated no more than a few MB");
    }

    [Fact]
    public void Load_duplicate_ids_behind_a_valid_checksum_throw_InvalidDataException()
    {
        var bytes = SmallModelFile();
        const int firstUserId = 96; // after the 96-byte header
        bytes.AsSpan(firstUserId, 8).CopyTo(bytes.AsSpan(firstUserId + 8, 8));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8), MatrixFactorizationModel.Fnv1a64(bytes.AsSpan(0, bytes.Length - 8)));

        var error = Assert.Throws<InvalidDataException>(() => MatrixFactorizationModel.Load(new MemoryStream(bytes)));

        Assert.Contains("duplicate", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    private static (string Kind, byte[] Bytes) Mutate(byte[] original, Random random)
    {
        var bytes = (byte[])original.Clone();
        switch (random.Next(6))
        {
            case 0:
                for (var n = random.Next(1, 9); n > 0; n--)
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return ("bit flips", bytes);
            case 1:
                return ("truncated", bytes[..random.Next(bytes.Length)]);
            case 2:
                {
                    var at = random.Next(bytes.Length + 1);
                    var inserted = new byte[random.Next(1, 64)];
                    random.NextBytes(inserted);
                    return ("inserted bytes", [.. bytes[..at], .. inserted, .. bytes[at..]]);
                }
            case 3:
                {
                    var at = random.Next(bytes.Length);
                    var count = Math.Min(random.Next(1, 64), bytes.Length - at);
                    return ("deleted bytes", [.. bytes[..at], .. bytes[(at + count)..]]);
                }
            case 4:
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(DimensionOffsets[random.Next(DimensionOffsets.Length)]), HugeValues[random.Next(HugeValues.Length)]);
                return ("huge or negative dimension", bytes);
            default:
                random.NextBytes(bytes.AsSpan(8, random.Next(1, bytes.Length - 8)));
                return ("random bytes after the magic", bytes);
        }
    }

    private static byte[] SmallModelFile()
    {
        var data = TestData.Planted(40, 30, 3, 0.3, 0.1).Data;
        var model = new MatrixFactorizationTrainer(new() { ApproximationRank = 4, NumberOfIterations = 5, NumberOfThreads = 1 }).Fit(data);
        using var stream = new MemoryStream();
        model.Save(stream);
        return stream.ToArray();
    }

    /// <summary>A stream that cannot tell its length, as from a network: the loader cannot check a claimed size up front.</summary>
    private sealed class NonSeekableStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
