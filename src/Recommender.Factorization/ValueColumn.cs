namespace Recommender.Factorization;

/// <summary>
/// One value per row, kept as a one-byte code into at most 256 distinct levels while the values allow it (star ratings,
/// half stars, the strengths of a few event kinds), else as floats. Codes take a quarter of a float's memory, 60 MB
/// less at 20M rows, which is what brings training on 20M ratings at k = 128 under 400 MB. A code stands for one float
/// bit pattern, so nothing is rounded.
/// </summary>
/// <remarks>
/// A column holds one form at a time: it turns into floats when a 257th distinct value arrives, or when
/// <see cref="ToFloats"/> hands its floats to a caller, so whoever holds the column always sees the current rows.
/// Readers on other threads may race <see cref="ToFloats"/>: the floats are published before the codes are dropped,
/// and the levels stay, so a read sees one form or the other whole.
/// </remarks>
internal sealed class ValueColumn
{
    private const int MaxLevels = 256;

    /// <summary>Levels found by a linear scan before the dictionary is asked: ratings rarely have more.</summary>
    private const int ScannedLevels = 16;

    private byte[]? _codes;
    private float[]? _floats;
    private readonly float[] _levels;
    private int _levelCount;
    private readonly Dictionary<int, byte> _codeOfBits;
    private readonly Lock _widening = new();

    private ValueColumn(byte[]? codes, float[]? floats, float[] levels, int levelCount, Dictionary<int, byte> codeOfBits)
    {
        _codes = codes;
        _floats = floats;
        _levels = levels;
        _levelCount = levelCount;
        _codeOfBits = codeOfBits;
    }

    /// <summary>An empty column of <paramref name="capacity"/> rows that starts in coded form.</summary>
    public static ValueColumn Coded(int capacity) => new(new byte[capacity], null, new float[MaxLevels], 0, []);

    /// <summary>Wraps <paramref name="values"/> without copying them.</summary>
    public static ValueColumn Wrap(float[] values) => new(null, values, [], 0, []);

    /// <summary>Codes per row, or null in float form; read with <see cref="Levels"/>.</summary>
    public byte[]? Codes => _codes;

    /// <summary>The value of each code (only the first <see cref="Codes"/>' distinct codes are meaningful).</summary>
    public float[] Levels => _levels;

    /// <summary>Values per row in float form, else null.</summary>
    public float[]? Floats => _floats;

    public int Length => _codes?.Length ?? _floats!.Length;

    public float this[int row] => Volatile.Read(ref _codes) is { } codes ? _levels[codes[row]] : _floats![row];

    public void Set(int row, float value)
    {
        if (_codes is { } codes)
        {
            if (TryCode(value, out var code))
            {
                codes[row] = code;
                return;
            }
            Widen();
        }
        _floats![row] = value;
    }

    public void Swap(int a, int b)
    {
        if (_codes is { } codes)
            (codes[a], codes[b]) = (codes[b], codes[a]);
        else
            (_floats![a], _floats[b]) = (_floats[b], _floats[a]);
    }

    /// <summary>An empty column of <paramref name="capacity"/> rows in this column's form, for <see cref="CopyRow"/>.</summary>
    public ValueColumn CreateSibling(int capacity) => _codes is null
        ? Wrap(new float[capacity])
        : new ValueColumn(new byte[capacity], null, (float[])_levels.Clone(), _levelCount, new Dictionary<int, byte>(_codeOfBits));

    /// <summary>Copies row <paramref name="from"/> to row <paramref name="to"/> of <paramref name="target"/>.</summary>
    public void CopyRow(int from, ValueColumn target, int to)
    {
        // A sibling starts with this column's levels and both only ever append, so a code below its count means the same.
        if (_codes is { } codes && target._codes is { } targetCodes && codes[from] < target._levelCount)
            targetCodes[to] = codes[from];
        else
            target.Set(to, this[from]);
    }

    /// <summary>The values as floats; a coded column turns into floats here and keeps them (one form at a time).</summary>
    public float[] ToFloats()
    {
        if (Volatile.Read(ref _floats) is { } floats)
            return floats;
        lock (_widening)
        {
            if (_codes is not null)
                Widen();
            return _floats!;
        }
    }

    private bool TryCode(float value, out byte code)
    {
        var bits = BitConverter.SingleToInt32Bits(value);
        var scanned = Math.Min(_levelCount, ScannedLevels);
        for (var c = 0; c < scanned; c++)
        {
            if (BitConverter.SingleToInt32Bits(_levels[c]) == bits)
            {
                code = (byte)c;
                return true;
            }
        }
        if (_levelCount > ScannedLevels && _codeOfBits.TryGetValue(bits, out code))
            return true;
        if (_levelCount == MaxLevels)
        {
            code = 0;
            return false;
        }
        code = (byte)_levelCount;
        _levels[_levelCount++] = value;
        _codeOfBits[bits] = code;
        return true;
    }

    private void Widen()
    {
        var codes = _codes!;
        var floats = new float[codes.Length];
        for (var j = 0; j < codes.Length; j++)
            floats[j] = _levels[codes[j]];
        Volatile.Write(ref _floats, floats);
        Volatile.Write(ref _codes, null);
    }
}
