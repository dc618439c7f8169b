using Microsoft.AspNetCore.Components;

namespace Recommender.Web;

/// <summary>Links to a place on the page being shown.</summary>
public static class PageAddress
{
    /// <summary>
    /// This page's address with <paramref name="id"/> as its fragment. The layout's <c>&lt;base href="/"&gt;</c> makes a
    /// bare <c>#id</c> mean the feed's page, so a link within a page names the page (its query kept) and only the
    /// fragment changes.
    /// </summary>
    public static string Fragment(this NavigationManager navigation, string id)
    {
        ArgumentNullException.ThrowIfNull(navigation);
        return navigation.ToBaseRelativePath(navigation.Uri).Split('#', 2)[0] + "#" + id;
    }
}
