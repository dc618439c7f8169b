using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Recommender.Web;

/// <summary>
/// A platform API key just created on the API keys page, held for the admin who created it until their next view of
/// the page takes it. The key never travels in an address (where history and logs would keep it) and exists in clear
/// nowhere else: the database has only its hash. Taking it forgets it, so the page shows it once; one not taken within
/// ten minutes is dropped.
/// </summary>
public sealed class NewApiKeys
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    private readonly ConcurrentDictionary<string, (long AdminId, long KeyId, string Key, DateTimeOffset Until)> _held = new(StringComparer.Ordinal);

    /// <summary>Holds <paramref name="key"/> for <paramref name="adminId"/> and returns the random handle its page view names.</summary>
    public string Hold(long adminId, long keyId, string key)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var old in _held.Where(h => h.Value.Until <= now))
            _held.TryRemove(old.Key, out _);
        var handle = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _held[handle] = (adminId, keyId, key, now + Lifetime);
        return handle;
    }

    /// <summary>The key held under <paramref name="handle"/> for this admin and key, once; null after that, for anyone else, or when it expired.</summary>
    public string? Take(string? handle, long adminId, long keyId) =>
        handle is not null && _held.TryGetValue(handle, out var held) && held.AdminId == adminId && held.KeyId == keyId
            && _held.TryRemove(new KeyValuePair<string, (long, long, string, DateTimeOffset)>(handle, held))
            && held.Until > DateTimeOffset.UtcNow
            ? held.Key
            : null;
}
