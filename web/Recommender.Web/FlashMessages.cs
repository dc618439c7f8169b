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
    private readonly ITimeLimitedDataProtector _outcomes = provider.CreateProtector("Recommender.Web.AdminOutcomes").ToTimeLimitedDataProtector();

    public string Seal(string message) => _protector.Protect(message, Lifetime);

    /// <summary>
    /// What an admin post did, as a code and what it did it to (<c>("role", "42")</c>), sealed the same way: the page
    /// words it from the database, and a link someone made up, or one older than ten minutes, says nothing.
    /// </summary>
    public string SealOutcome(string code, string subject) => _outcomes.Protect(code + "\n" + subject, Lifetime);

    /// <summary>The code and subject of an outcome sealed here in the last ten minutes, else null.</summary>
    public (string Code, string Subject)? OpenOutcome(string? sealedOutcome)
    {
        if (string.IsNullOrEmpty(sealedOutcome))
            return null;
        try
        {
            return _outcomes.Unprotect(sealedOutcome).Split('\n', 2) is [var code, var subject] ? (code, subject) : null;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

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
