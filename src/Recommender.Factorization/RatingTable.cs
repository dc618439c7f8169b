using System.Buffers;
using System.Buffers.Text;
using System.Globalization;

namespace Recommender.Factorization;

/// <summary>
/// Ratings as loaded from a file: per row a user, an item (dense indices into <see cref="Users"/> and
/// <see cref="Items"/>, which hold the 64-bit ids), a value and a Unix timestamp.
/// </summary>
/// <remarks>
/// Ids are stored once in the maps rather than per row; values are one-byte codes while there are at most 256
/// distinct ones (<see cref="ValueColumn"/>), and timestamps 4-byte offsets from the first row's while every row lies
/// within 68 years of it (seconds always do). That keeps 20M ratings at 13 bytes a row instead of 20.
/// </remarks>
public sealed class RatingTable
{
    private const int BufferBytes = 1 << 20;

    private readonly TimeColumn _times;

    private RatingTable(IdMap users, IdMap items, int[] userIndices, int[] itemIndices, ValueColumn values, TimeColumn times, int count)
    {
        Users = users;
        Items = items;
        UserIndices = userIndices;
        ItemIndices = itemIndices;
        ValueColumn = values;
        _times = times;
        Count = count;
    }

    public IdMap Users { get; }
    public IdMap Items { get; }
    public int[] UserIndices { get; }
    public int[] ItemIndices { get; }

    internal ValueColumn ValueColumn { get; }

    /// <summary>Rows in use (the arrays may be longer).</summary>
    public int Count { get; }

    /// <summary>Set once <see cref="TemporalSplit.Split"/> has taken over the arrays.</summary>
    public bool IsConsumed { get; internal set; }

    public float Value(int row) => ValueColumn[row];

    /// <summary>Every row as training data with this table's id maps, sharing its arrays (the ratings trainer reorders them).</summary>
    public TrainingData AsTrainingData() => new(Users, Items, UserIndices, ItemIndices, ValueColumn, Count);

    public long Timestamp(int row) => _times[row];

    internal void SetTimestamp(int row, long timestamp) => _times.Set(row, timestamp);

    /// <summary>Exchanges two rows in place (the split's selection moves rows this way).</summary>
    internal void SwapRows(int a, int b)
    {
        (UserIndices[a], UserIndices[b]) = (UserIndices[b], UserIndices[a]);
        (ItemIndices[a], ItemIndices[b]) = (ItemIndices[b], ItemIndices[a]);
        ValueColumn.Swap(a, b);
        _times.Swap(a, b);
    }

    public long UserId(int row) => Users.IdAt(UserIndices[row]);

    public long ItemId(int row) => Items.IdAt(ItemIndices[row]);

    /// <summary>The one rating scale every reader accepts: 0 to 10 (MovieTweetings' own; 1..5 data fits inside it).</summary>
    public const float MinRating = 0, MaxRating = 10;

    /// <summary>
    /// Loads <paramref name="path"/>: a directory holding <c>ratings.csv</c> or <c>ratings.dat</c>, or such a file.
    /// <c>.csv</c>: <c>user_id,item_id,rating,timestamp</c> with an optional header line.
    /// <c>.dat</c> (MovieTweetings, MovieLens): <c>user::item::rating::timestamp</c>; ids with leading zeros parse as numbers.
    /// </summary>
    /// <exception cref="InvalidDataException">A malformed row, or a rating outside <see cref="MinRating"/>..<see cref="MaxRating"/>; the message starts with <c>file:line:</c>.</exception>
    public static RatingTable Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            var csv = Path.Combine(path, "ratings.csv");
            var dat = Path.Combine(path, "ratings.dat");
            path = File.Exists(csv) ? csv : File.Exists(dat) ? dat : throw new FileNotFoundException($"No ratings.csv or ratings.dat in {path}.");
        }
        var separator = path.EndsWith(".dat", StringComparison.OrdinalIgnoreCase) ? "::"u8.ToArray() : ","u8.ToArray();
        return Load(path, separator);
    }

    private static RatingTable Load(string path, byte[] separator)
    {
        // Counting lines first costs one fast vectorised pass but lets every array be allocated once at its final size,
        // which is what keeps peak memory down on 20M rows.
        var capacity = CountLines(path);
        var users = new IdMap();
        var items = new IdMap();
        var u = new int[capacity];
        var i = new int[capacity];
        var v = ValueColumn.Coded(capacity);
        var t = new TimeColumn(capacity);
        var count = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            var filled = 0;
            var lineNumber = 0;
            long lastUser = long.MinValue, lastItem = long.MinValue;
            int lastUserIndex = 0, lastItemIndex = 0;
            while (true)
            {
                var read = stream.Read(buffer, filled, buffer.Length - filled);
                filled += read;
                var chunk = buffer.AsSpan(0, filled);
                var atEnd = read == 0;
                while (true)
                {
                    var newline = chunk.IndexOf((byte)'\n');
                    ReadOnlySpan<byte> line;
                    if (newline >= 0)
                    {
                        line = chunk[..newline];
                        chunk = chunk[(newline + 1)..];
                    }
                    else if (atEnd && chunk.Length > 0)
                    {
                        line = chunk;
                        chunk = [];
                    }
                    else
                    {
                        break;
                    }
                    lineNumber++;
                    if (line.Length > 0 && line[^1] == '\r')
                        line = line[..^1];
                    if (line.IsEmpty || (lineNumber == 1 && !char.IsAsciiDigit((char)line[0])))
                        continue;
                    if (count == capacity)
                        throw Bad(path, lineNumber, "more rows than lines counted (file changed while loading?)");
                    if (!TryParseRow(line, separator, out var userId, out var itemId, out var value, out var timestamp, out var error))
                        throw Bad(path, lineNumber, error);
                    // Consecutive rows often share a user (MovieTweetings is grouped by user), so skip the lookup then.
                    if (userId != lastUser)
                    {
                        lastUser = userId;
                        lastUserIndex = users.GetOrAdd(userId);
                    }
                    if (itemId != lastItem)
                    {
                        lastItem = itemId;
                        lastItemIndex = items.GetOrAdd(itemId);
                    }
                    u[count] = lastUserIndex;
                    i[count] = lastItemIndex;
                    v.Set(count, value);
                    t.Set(count, timestamp);
                    count++;
                }
                if (atEnd)
                    break;
                if (chunk.Length == buffer.Length)
                    throw Bad(path, lineNumber + 1, $"line longer than {buffer.Length} bytes");
                chunk.CopyTo(buffer);
                filled = chunk.Length;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return new RatingTable(users, items, u, i, v, t, count);
    }

    private static InvalidDataException Bad(string path, int line, string message) =>
        new($"{path}:{line}: {message}");

    private static bool TryParseRow(ReadOnlySpan<byte> line, ReadOnlySpan<byte> separator, out long user, out long item, out float value, out long timestamp, out string error)
    {
        user = item = timestamp = 0;
        value = 0;
        error = "";
        if (!NextField(ref line, separator, out var field))
            return Fail("expected 4 fields", out error);
        if (!TryParseLong(field, out user))
            return Fail("user_id is not an integer", out error);
        if (!NextField(ref line, separator, out field))
            return Fail("expected 4 fields", out error);
        if (!TryParseLong(field, out item))
            return Fail("item_id is not an integer", out error);
        if (!NextField(ref line, separator, out field))
            return Fail("expected 4 fields", out error);
        if (!TryParseFloat(field, out value))
            return Fail("rating is not a number", out error);
        if (value is < MinRating or > MaxRating)
        {
            // The words import uses for the same row, so a file is refused alike whichever command reads it.
            error = string.Create(CultureInfo.InvariantCulture, $"rating {System.Text.Encoding.UTF8.GetString(field)} is outside {MinRating}..{MaxRating}");
            return false;
        }
        if (line.IndexOf(separator) >= 0)
            return Fail("more than 4 fields", out error);
        if (!TryParseLong(line, out timestamp))
            return Fail("timestamp is not an integer", out error);
        return true;
    }

    private static bool Fail(string message, out string error)
    {
        error = message + " (expected user_id, item_id, rating, timestamp)";
        return false;
    }

    private static bool NextField(ref ReadOnlySpan<byte> rest, ReadOnlySpan<byte> separator, out ReadOnlySpan<byte> field)
    {
        var at = rest.IndexOf(separator);
        if (at < 0)
        {
            field = default;
            return false;
        }
        field = rest[..at];
        rest = rest[(at + separator.Length)..];
        return true;
    }

    private static bool TryParseLong(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        if (field.IsEmpty || field.Length > 18)
            return Utf8Parser.TryParse(field, out value, out var used) && used == field.Length;
        foreach (var b in field)
        {
            var digit = (uint)(b - '0');
            if (digit > 9)
                return false;
            value = value * 10 + digit;
        }
        return true;
    }

    private static bool TryParseFloat(ReadOnlySpan<byte> field, out float value)
    {
        // Ratings are small integers or one-decimal numbers; parse those directly and leave the rest to the BCL.
        if (field.Length is > 0 and <= 6)
        {
            var whole = 0;
            var j = 0;
            for (; j < field.Length && (uint)(field[j] - '0') <= 9; j++)
                whole = whole * 10 + (field[j] - '0');
            if (j == field.Length && j > 0)
            {
                value = whole;
                return true;
            }
        }
        return float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && float.IsFinite(value);
    }

    private static int CountLines(string path)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            long lines = 1;
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
                lines += buffer.AsSpan(0, read).Count((byte)'\n');
            return lines < Array.MaxLength ? (int)lines : throw new InvalidDataException($"{path}: too many rows.");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A table from rows already in memory (the service reads them from PostgreSQL); ids map to indices in order of first appearance.</summary>
    public static RatingTable FromRows(ReadOnlySpan<long> userIds, ReadOnlySpan<long> itemIds, ReadOnlySpan<float> values, ReadOnlySpan<long> timestamps)
    {
        var n = userIds.Length;
        if (itemIds.Length != n || values.Length != n || timestamps.Length != n)
            throw new ArgumentException("userIds, itemIds, values and timestamps must have the same length.", nameof(timestamps));
        var users = new IdMap();
        var items = new IdMap();
        var u = new int[n];
        var i = new int[n];
        var v = ValueColumn.Coded(n);
        var t = new TimeColumn(n);
        for (var j = 0; j < n; j++)
        {
            u[j] = users.GetOrAdd(userIds[j]);
            i[j] = items.GetOrAdd(itemIds[j]);
            v.Set(j, values[j]);
            t.Set(j, timestamps[j]);
        }
        return new RatingTable(users, items, u, i, v, t, n);
    }

    /// <summary>
    /// Timestamps as 4-byte offsets from the first one set, widened once to 8-byte values when a row lies more than
    /// 2³¹ from it (millisecond clocks, or the split's random keys).
    /// </summary>
    private sealed class TimeColumn(int capacity)
    {
        private int[]? _offsets = new int[capacity];
        private long[]? _values;
        private long _origin;
        private bool _hasOrigin;

        public long this[int row] => _offsets is { } offsets ? _origin + offsets[row] : _values![row];

        public void Set(int row, long timestamp)
        {
            if (_offsets is { } offsets)
            {
                if (!_hasOrigin)
                {
                    _origin = timestamp;
                    _hasOrigin = true;
                }
                var offset = timestamp - _origin;
                if (offset is >= int.MinValue and <= int.MaxValue)
                {
                    offsets[row] = (int)offset;
                    return;
                }
                _values = new long[offsets.Length];
                for (var j = 0; j < offsets.Length; j++)
                    _values[j] = _origin + offsets[j];
                _offsets = null;
            }
            _values![row] = timestamp;
        }

        public void Swap(int a, int b)
        {
            if (_offsets is { } offsets)
                (offsets[a], offsets[b]) = (offsets[b], offsets[a]);
            else
                (_values![a], _values[b]) = (_values[b], _values[a]);
        }
    }
}
