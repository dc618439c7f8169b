using System.Globalization;

namespace Recommender.Web;

/// <summary>
/// Numbers and ids a page reads from its address. Pages take every query value as text and read it here: Blazor
/// converts a typed query parameter before the page runs and throws when it cannot, which left a visitor who mistyped
/// <c>?offset=</c> with a bare error instead of the page and a plain message.
/// </summary>
public static class QueryValues
{
    /// <summary>
    /// True with the value when <paramref name="text"/> reads as a <typeparamref name="T"/>, true with null when it is
    /// absent or empty; false when it is there but is not one (letters for a number, a number too large).
    /// </summary>
    public static bool TryRead<T>(string? text, out T? value) where T : struct, IParsable<T>
    {
        value = null;
        if (string.IsNullOrEmpty(text))
            return true;
        if (!T.TryParse(text, CultureInfo.InvariantCulture, out var parsed))
            return false;
        value = parsed;
        return true;
    }

    /// <summary>The value, or null when it is absent or unreadable: for values only this site's own links carry, where a mangled one is simply ignored.</summary>
    public static T? ReadOrNull<T>(string? text) where T : struct, IParsable<T> => TryRead<T>(text, out var value) ? value : null;
}
