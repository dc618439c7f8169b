namespace Recommender.Factorization;

/// <summary>
/// Interactions in compact form: parallel arrays of dense user index, item index and value, with the id maps
/// that give those indices meaning. For one-class training every listed cell is a positive and the value
/// (e.g. a count or 1) feeds the confidence <c>1 + Alpha·value</c>.
/// </summary>
/// <remarks>
/// The ratings trainer reorders the arrays in place into its block grid (order carries no meaning, and not copying
/// keeps peak memory near LIBMF's on 20M ratings). Copy them first if their order matters to you.
/// Data split from a <see cref="RatingTable"/> keeps its values as one-byte codes (see <see cref="RatingTable"/>) until
/// <see cref="Values"/> is first read, which turns them into floats for good.
/// </remarks>
public sealed class TrainingData
{
    /// <param name="users">Map from user id to the indices used in <paramref name="userIndices"/>.</param>
    /// <param name="items">Map from item id to the indices used in <paramref name="itemIndices"/>.</param>
    /// <param name="userIndices">Dense user index per interaction.</param>
    /// <param name="itemIndices">Dense item index per interaction.</param>
    /// <param name="values">Rating (or implicit strength) per interaction.</param>
    /// <param name="count">How many leading entries of the arrays are used; default all.</param>
    public TrainingData(IdMap users, IdMap items, int[] userIndices, int[] itemIndices, float[] values, int count = -1)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(userIndices);
        ArgumentNullException.ThrowIfNull(itemIndices);
        ArgumentNullException.ThrowIfNull(values);
        if (count < 0)
            count = userIndices.Length;
        if (userIndices.Length < count || itemIndices.Length < count || values.Length < count)
            throw new ArgumentException("userIndices, itemIndices and values must each hold at least count entries.", nameof(values));
        Users = users;
        Items = items;
        UserIndices = userIndices;
        ItemIndices = itemIndices;
        ValueColumn = ValueColumn.Wrap(values);
        Count = count;
    }

    internal TrainingData(IdMap users, IdMap items, int[] userIndices, int[] itemIndices, ValueColumn values, int count)
    {
        Users = users;
        Items = items;
        UserIndices = userIndices;
        ItemIndices = itemIndices;
        ValueColumn = values;
        Count = count;
    }

    /// <summary>Builds the id maps from raw ids (indices in order of first appearance).</summary>
    public static TrainingData FromIds(ReadOnlySpan<long> userIds, ReadOnlySpan<long> itemIds, ReadOnlySpan<float> values)
    {
        if (userIds.Length != itemIds.Length || userIds.Length != values.Length)
            throw new ArgumentException("userIds, itemIds and values must have the same length.", nameof(values));
        var users = new IdMap();
        var items = new IdMap();
        var u = new int[userIds.Length];
        var i = new int[userIds.Length];
        for (var n = 0; n < u.Length; n++)
        {
            u[n] = users.GetOrAdd(userIds[n]);
            i[n] = items.GetOrAdd(itemIds[n]);
        }
        return new TrainingData(users, items, u, i, values.ToArray());
    }

    public IdMap Users { get; }
    public IdMap Items { get; }
    public int[] UserIndices { get; }
    public int[] ItemIndices { get; }
    /// <summary>Rating (or implicit strength) per interaction; on coded data the first read allocates the float array.</summary>
    public float[] Values => ValueColumn.ToFloats();

    public int Count { get; }

    internal ValueColumn ValueColumn { get; }

    /// <summary>One row's value, without turning coded values into floats.</summary>
    internal float Value(int row) => ValueColumn[row];

    /// <summary>Checks indices against the maps and values for NaN; names the offending argument.</summary>
    internal void Validate(bool allowEmpty = false)
    {
        if (Count == 0 && !allowEmpty)
            throw new ArgumentException("Training data is empty.", "data");
        int nu = Users.Count, ni = Items.Count;
        var u = UserIndices.AsSpan(0, Count);
        var i = ItemIndices.AsSpan(0, Count);
        var v = ValueColumn;
        for (var n = 0; n < u.Length; n++)
        {
            if ((uint)u[n] >= (uint)nu)
                throw new ArgumentOutOfRangeException("data", $"User index {u[n]} at row {n} is outside 0..{nu - 1}.");
            if ((uint)i[n] >= (uint)ni)
                throw new ArgumentOutOfRangeException("data", $"Item index {i[n]} at row {n} is outside 0..{ni - 1}.");
            if (!float.IsFinite(v[n]))
                throw new ArgumentException($"Value at row {n} is not a finite number.", "data");
        }
    }
}
