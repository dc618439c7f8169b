using System.Numerics;
using System.Runtime.InteropServices;

namespace Recommender.Factorization;

/// <summary>
/// Maps sparse 64-bit database ids to dense indices 0..Count-1 in order of first appearance.
/// Kept beside a model so scores can be asked for by id.
/// </summary>
public sealed class IdMap
{
    // Ids below this get a direct-indexed table beside the dictionary: loading 20M rows is mostly lookups of ids seen
    // before, and one array read beats a dictionary probe (two cache misses) by a wide margin. 4M ids cost 16 MB at most.
    private const long DirectLimit = 1 << 22;

    private readonly Dictionary<long, int> _indexById;
    private readonly List<long> _ids;
    private int[] _direct = [];

    public IdMap() : this(0) { }

    public IdMap(int capacity)
    {
        _indexById = new Dictionary<long, int>(capacity);
        _ids = new List<long>(capacity);
    }

    /// <summary>Builds a map whose index i is <paramref name="ids"/>[i]; ids must be distinct.</summary>
    public static IdMap FromIds(ReadOnlySpan<long> ids)
    {
        var map = new IdMap(ids.Length);
        foreach (var id in ids)
        {
            if (map.TryGetIndex(id, out _))
                throw new ArgumentException($"Duplicate id {id}.", nameof(ids));
            map.GetOrAdd(id);
        }
        return map;
    }

    public int Count => _ids.Count;

    /// <summary>The index of <paramref name="id"/>, adding it if new.</summary>
    public int GetOrAdd(long id)
    {
        if ((ulong)id < (ulong)_direct.Length && _direct[id] != 0)
            return _direct[id] - 1;
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_indexById, id, out var exists);
        if (!exists)
        {
            slot = _ids.Count;
            _ids.Add(id);
        }
        var index = slot;
        if ((ulong)id < DirectLimit)
        {
            if (id >= _direct.Length)
                Array.Resize(ref _direct, (int)Math.Min(DirectLimit, Math.Max(1024, (long)BitOperations.RoundUpToPowerOf2((ulong)id + 1))));
            _direct[id] = index + 1;
        }
        return index;
    }

    public bool TryGetIndex(long id, out int index)
    {
        if ((ulong)id < (ulong)_direct.Length)
        {
            index = _direct[id] - 1;
            return index >= 0;
        }
        return _indexById.TryGetValue(id, out index);
    }

    /// <summary>The index of <paramref name="id"/>; throws <see cref="KeyNotFoundException"/> if unknown.</summary>
    public int IndexOf(long id) =>
        _indexById.TryGetValue(id, out var index) ? index : throw new KeyNotFoundException($"Unknown id {id}.");

    /// <summary>The id at dense <paramref name="index"/>.</summary>
    public long IdAt(int index) => _ids[index];

    /// <summary>All ids in index order.</summary>
    public ReadOnlySpan<long> Ids => CollectionsMarshal.AsSpan(_ids);
}
