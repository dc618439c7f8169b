namespace Recommender.Web;

/// <summary>Status codes a page sets for itself while still showing its own words.</summary>
public static class PageStatus
{
    /// <summary>
    /// Answers 404 with the page's own message and way back, where the address is right but names nothing (yet).
    /// Blazor writes no body for a page that sets 404 while it renders (the status code pages then show the generic
    /// "Page not found"), so the status is set as the page goes out; a request refused otherwise (a form post to the
    /// page) keeps its own answer.
    /// </summary>
    public static void NotFoundShowingThisPage(this HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.OnStarting(() =>
        {
            if (response.StatusCode == StatusCodes.Status200OK)
                response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
    }
}
