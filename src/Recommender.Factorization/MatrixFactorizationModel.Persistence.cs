using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Recommender.Factorization;

public sealed partial class MatrixFactorizationModel
{
    // Layout (little-endian): magic "RCMF", format version, header, user ids, item ids, user factors, item factors,
    // user biases, item biases, then an FNV-1a 64 checksum of everything before it. Factors are stored unpadded so the
    // padding can change without a format change.
    private const uint Magic = 0x464D4352; // "RCMF"
    private const int FormatVersion = 1;
    private const int HeaderBytes = 4 + 4 + 4 * 4 + 4 * 2 + 4 * 5 + 8 * 5 + 4;

    /// <summary>Writes the model in the versioned binary format; <see cref="Load"/> reads it back exactly.</summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var length = PayloadBytes(Rank, UserCount, ItemCount);
        var buffer = new byte[length + 8];
        var span = buffer.AsSpan();
        var w = 0;
        WriteHeader(span, ref w);
        foreach (var id in _users.Ids)
            Put(span, ref w, id);
        foreach (var id in _items.Ids)
            Put(span, ref w, id);
        WriteRows(span, ref w, _userFactors, UserCount);
        WriteRows(span, ref w, _itemFactors, ItemCount);
        MemoryMarshal.AsBytes(_userBias.AsSpan()).CopyTo(span[w..]);
        w += _userBias.Length * 4;
        MemoryMarshal.AsBytes(_itemBias.AsSpan()).CopyTo(span[w..]);
        w += _itemBias.Length * 4;
        BinaryPrimitives.WriteUInt64LittleEndian(span[w..], Fnv1a64(span[..w]));
        stream.Write(buffer);
    }

    /// <summary>Reads a model written by <see cref="Save"/>. Throws <see cref="InvalidDataException"/> on a truncated, corrupted or unknown file.</summary>
    public static MatrixFactorizationModel Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> header = stackalloc byte[HeaderBytes];
        var got = stream.ReadAtLeast(header, HeaderBytes, throwOnEndOfStream: false);
        if (got < 8 || BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic)
            throw new InvalidDataException("Not a Recommender factorisation model (bad magic number).");
        var version = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        if (version != FormatVersion)
            throw new InvalidDataException($"Model format version {version} is not supported (this build reads version {FormatVersion}).");
        if (got < HeaderBytes)
            throw new InvalidDataException($"Model file is truncated: header needs {HeaderBytes} bytes, got {got}.");
        var r = 8;
        var loss = (LossFunction)TakeInt(header, ref r);
        var rank = TakeInt(header, ref r);
        var users = TakeInt(header, ref r);
        var items = TakeInt(header, ref r);
        if (!Enum.IsDefined(loss) || rank is < 1 or > 4096 || users < 0 || items < 0)
            throw new InvalidDataException("Model header is corrupted (impossible dimensions).");
        var length = PayloadBytes(rank, users, items);
        var buffer = ReadPayload(stream, header, length + 8);
        var span = buffer.AsSpan();
        var stored = BinaryPrimitives.ReadUInt64LittleEndian(span[(int)length..]);
        if (stored != Fnv1a64(span[..(int)length]))
            throw new InvalidDataException("Model file is corrupted (checksum mismatch).");

        var globalMean = TakeFloat(span, ref r);
        var scale = TakeFloat(span, ref r);
        var options = new MatrixFactorizationOptions
        {
            LossFunction = loss,
            ApproximationRank = rank,
            NumberOfIterations = TakeInt(span, ref r),
            Seed = TakeInt(span, ref r),
            ConjugateGradientSteps = TakeInt(span, ref r),
        };
        var threads = TakeInt(span, ref r);
        options.NumberOfThreads = threads > 0 ? threads : null;
        r += 4; // reserved
        options.Lambda = TakeDouble(span, ref r);
        options.LearningRate = TakeDouble(span, ref r);
        options.Alpha = TakeDouble(span, ref r);
        options.C = TakeDouble(span, ref r);
        r += 8; // reserved
        options.NonNegative = span[r] != 0;
        r += 4;
        var userMap = ReadIds(span, ref r, users, "user");
        var itemMap = ReadIds(span, ref r, items, "item");
        var stride = Kernels.StrideFor(rank);
        var userFactors = ReadRows(span, ref r, users, rank, stride);
        var itemFactors = ReadRows(span, ref r, items, rank, stride);
        var userBias = MemoryMarshal.Cast<byte, float>(span.Slice(r, users * 4)).ToArray();
        r += users * 4;
        var itemBias = MemoryMarshal.Cast<byte, float>(span.Slice(r, items * 4)).ToArray();
        return new MatrixFactorizationModel(options, userMap, itemMap, rank, userFactors, itemFactors, userBias, itemBias, globalMean, scale);
    }

    /// <summary>
    /// Reads the whole file. The header's dimensions are not trusted with memory: a seekable stream must hold that
    /// many bytes before anything is allocated, and any other stream grows the buffer only as bytes arrive, so a forged
    /// size costs at most twice what was really sent.
    /// </summary>
    private static byte[] ReadPayload(Stream stream, ReadOnlySpan<byte> header, long total)
    {
        if (stream.CanSeek && stream.Length - stream.Position < total - HeaderBytes)
            throw new InvalidDataException($"Model file is truncated: expected {total} bytes, got {HeaderBytes + stream.Length - stream.Position}.");
        var buffer = new byte[stream.CanSeek ? total : Math.Min(total, 1 << 20)];
        header.CopyTo(buffer);
        var filled = HeaderBytes;
        while (filled < total)
        {
            if (filled == buffer.Length)
                Array.Resize(ref buffer, (int)Math.Min(total, 2L * buffer.Length));
            var read = stream.Read(buffer, filled, buffer.Length - filled);
            if (read == 0)
                throw new InvalidDataException($"Model file is truncated: expected {total} bytes, got {filled}.");
            filled += read;
        }
        return buffer;
    }

    private static IdMap ReadIds(ReadOnlySpan<byte> span, ref int r, int count, string what)
    {
        var ids = MemoryMarshal.Cast<byte, long>(span.Slice(r, count * 8));
        r += count * 8;
        try
        {
            return IdMap.FromIds(ids);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"Model file is corrupted: {what} ids are not distinct ({e.Message})", e);
        }
    }

    private void WriteHeader(Span<byte> span, ref int w)
    {
        Put(span, ref w, (int)Magic);
        Put(span, ref w, FormatVersion);
        Put(span, ref w, (int)LossFunction);
        Put(span, ref w, Rank);
        Put(span, ref w, UserCount);
        Put(span, ref w, ItemCount);
        Put(span, ref w, GlobalMean);
        Put(span, ref w, _ratingScale);
        Put(span, ref w, _options.NumberOfIterations);
        Put(span, ref w, _options.Seed);
        Put(span, ref w, _options.ConjugateGradientSteps);
        Put(span, ref w, _options.NumberOfThreads ?? 0);
        Put(span, ref w, 0);
        Put(span, ref w, _options.Lambda);
        Put(span, ref w, _options.LearningRate);
        Put(span, ref w, _options.Alpha);
        Put(span, ref w, _options.C);
        Put(span, ref w, 0L);
        Put(span, ref w, _options.NonNegative ? 1 : 0);
    }

    private static long PayloadBytes(int rank, int users, int items) =>
        HeaderBytes + (users + (long)items) * (8 + 4 + 4L * rank) is var n && n <= Array.MaxLength - 8
            ? n
            : throw new InvalidDataException("Model dimensions are too large to load.");

    private void WriteRows(Span<byte> span, ref int w, float[] rows, int count)
    {
        for (var i = 0; i < count; i++)
        {
            MemoryMarshal.AsBytes(rows.AsSpan(i * _stride, Rank)).CopyTo(span[w..]);
            w += Rank * 4;
        }
    }

    private static float[] ReadRows(ReadOnlySpan<byte> span, ref int r, int count, int rank, int stride)
    {
        var rows = new float[(long)count * stride];
        for (var i = 0; i < count; i++)
        {
            MemoryMarshal.Cast<byte, float>(span.Slice(r, rank * 4)).CopyTo(rows.AsSpan(i * stride, rank));
            r += rank * 4;
        }
        return rows;
    }

    private static void Put(Span<byte> span, ref int w, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(span[w..], value);
        w += 4;
    }

    private static void Put(Span<byte> span, ref int w, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(span[w..], value);
        w += 8;
    }

    private static void Put(Span<byte> span, ref int w, float value)
    {
        BinaryPrimitives.WriteSingleLittleEndian(span[w..], value);
        w += 4;
    }

    private static void Put(Span<byte> span, ref int w, double value)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(span[w..], value);
        w += 8;
    }

    private static double TakeDouble(ReadOnlySpan<byte> span, ref int r)
    {
        var value = BinaryPrimitives.ReadDoubleLittleEndian(span[r..]);
        r += 8;
        return value;
    }

    private static int TakeInt(ReadOnlySpan<byte> span, ref int r)
    {
        var value = BinaryPrimitives.ReadInt32LittleEndian(span[r..]);
        r += 4;
        return value;
    }

    private static float TakeFloat(ReadOnlySpan<byte> span, ref int r)
    {
        var value = BinaryPrimitives.ReadSingleLittleEndian(span[r..]);
        r += 4;
        return value;
    }

    /// <summary>FNV-1a over 64-bit little-endian words, then the tail bytes: byte-at-a-time FNV is too slow for 100 MB models.</summary>
    internal static ulong Fnv1a64(ReadOnlySpan<byte> data)
    {
        const ulong prime = 1099511628211;
        var hash = 14695981039346656037;
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (var word in words)
            hash = (hash ^ word) * prime;
        foreach (var b in data[(words.Length * 8)..])
            hash = (hash ^ b) * prime;
        return hash;
    }
}
