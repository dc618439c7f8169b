using System.Runtime.InteropServices;

namespace Recommender.Factorization;

/// <summary>
/// Maps sparse 64-bit database ids to dense indices 0..Count-1 in order of first appearance.
/// Kept beside a model so scores can be asked for by id.
/// </summary>
public sealed class IdMap
{
    private readonly Dictionary<long, int> _indexById;
    private readonly List<long> _ids;

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
            if (!map._indexById.TryAdd(id, map._ids.Count))
                throw new ArgumentException($"Duplicate id {id}.", nameof(ids));
            map._ids.Add(id);
        }
        return map;
    }

    public int Count => _ids.Count;

    /// <summary>The index of <paramref name="id"/>, adding it if new.</summary>
    public int GetOrAdd(long id)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_indexById, id, out var exists);
        if (!exists)
        {
            slot = _ids.Count;
            _ids.Add(id);
        }
        return slot;
    }

    public bool TryGetIndex(long id, out int index) => _indexById.TryGetValue(id, out index);

    /// <summary>The index of <paramref name="id"/>; throws <see cref="KeyNotFoundException"/> if unknown.</summary>
    public int IndexOf(long id) =>
        _indexById.TryGetValue(id, out var index) ? index : throw new KeyNotFoundException($"Unknown id {id}.");

    /// <summary>The id at dense <paramref name="index"/>.</summary>
    public long IdAt(int index) => _ids[index];

    /// <summary>All ids in index order.</summary>
    public ReadOnlySpan<long> Ids => CollectionsMarshal.AsSpan(_ids);
}
