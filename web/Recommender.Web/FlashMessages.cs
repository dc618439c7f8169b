using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace Recommender.Web;

/// <summary>
/// The message a form post hands to the page it redirects to. It travels in the address (post/redirect/get keeps working
/// without script or session state), sealed by the app's data protection and valid for ten minutes: a page shows only
/// what this app said, never text someone put into a link.
/// </summary>
public sealed class FlashMessages(IDataProtectionProvider provider)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    private readonly ITimeLimitedDataProtector _protector = provider.CreateProtector("Recommender.Web.FlashMessages").ToTimeLimitedDataProtector();

    public string Seal(string message) => _protector.Protect(message, Lifetime);

    /// <summary>The message, or null for none, one that was not sealed here, or one that has expired.</summary>
    public string? Open(string? sealedMessage)
    {
        if (string.IsNullOrEmpty(sealedMessage))
            return null;
        try
        {
            return _protector.Unprotect(sealedMessage);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}
