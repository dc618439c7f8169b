using Recommender.Core;

namespace Recommender.Web;

/// <summary>What a reader is told about an item's provenance: a short mark, and a plain explanation when they open it.</summary>
public static class ProvenanceText
{
    public static string Mark(ItemProvenance? provenance) => provenance?.State switch
    {
        ProvenanceStates.Verified => "\u2713 signature verified",
        ProvenanceStates.Invalid => "\u26a0 signature does not match",
        _ => "not signed",
    };

    public static string Explanation(ItemProvenance? provenance) => provenance?.State switch
    {
        ProvenanceStates.Verified =>
            $"Signed with the publishing key registered here for {provenance.Signer ?? "its source"} ({provenance.KeyId}). The title, link, summary, date, topics and level are exactly as signed.",
        ProvenanceStates.Invalid =>
            $"This item carries a signature that does not check out: {provenance.Reason ?? "it does not match"}. It may have been changed after it was signed, so nobody vouches for it as shown.",
        _ => "Its publisher did not sign this item, so nobody vouches that it is shown exactly as published. Many sources do not sign; it says nothing bad about the item.",
    };

    public static string CssClass(ItemProvenance? provenance) => provenance?.State switch
    {
        ProvenanceStates.Verified => "prov-verified",
        ProvenanceStates.Invalid => "prov-invalid",
        _ => "prov-unsigned",
    };
}
