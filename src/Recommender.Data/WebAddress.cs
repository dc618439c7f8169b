namespace Recommender.Data;

/// <summary>
/// The only addresses the catalog stores and the pages link to: absolute <c>http</c> and <c>https</c> URLs with a
/// host. Anything else (<c>javascript:</c>, <c>data:</c>, <c>vbscript:</c>, a relative path) would run or load in the
/// reader's browser from a link on this site.
/// </summary>
public static class WebAddress
{
    /// <summary>The longest address stored.</summary>
    public const int MaxLength = 2000;

    public const string Rule = "must be an http:// or https:// address of at most 2000 characters";

    /// <summary>Whether <paramref name="url"/> is an absolute http(s) address with a host, exactly as given (no trimming).</summary>
    public static bool IsHttp(string? url) =>
        url is { Length: > 0 and <= MaxLength }
        && (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        && !url.Any(char.IsControl)
        && Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && uri.Scheme is "http" or "https"
        && uri.Host.Length > 0;
}
