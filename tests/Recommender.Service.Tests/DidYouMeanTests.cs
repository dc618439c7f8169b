using Recommender.Core;

namespace Recommender.Service.Tests;

/// <summary>The suggestion a 400 makes: a typo, a member spelt another way, or a topic named as readers see it.</summary>
public sealed class DidYouMeanTests
{
    private static readonly string[] Topics = ["quantumcomputing", "quantumcomputing/qubit", "quantumcomputing/security", "cardano", "cardano/security", "cardano/wallet"];

    [Theory]
    [InlineData("qubit", "quantumcomputing/qubit")]
    [InlineData("Qubit", "quantumcomputing/qubit")]
    [InlineData("qubitt", "quantumcomputing/qubit")]
    [InlineData("cardano/walet", "cardano/wallet")]
    [InlineData("quantumcomputing/qubitt", "quantumcomputing/qubit")]
    public void Closest_a_topic_named_by_its_last_part_or_misspelt_is_found(string given, string meant) =>
        Assert.Equal(meant, DidYouMean.Closest(Topics, given));

    [Theory]
    [InlineData("security")]
    [InlineData("music")]
    [InlineData("cardano/nothing-like-it")]
    public void Closest_a_part_in_two_trees_or_nothing_near_suggests_nothing(string given) =>
        Assert.Null(DidYouMean.Closest(Topics, given));

    [Fact]
    public void Closest_a_member_spelt_another_way_or_a_typo_is_found()
    {
        Assert.Equal("sourceId", DidYouMean.Closest(["sourceId", "title"], "source_id"));
        Assert.Equal("Oceans", DidYouMean.Closest(["Oceans", "Music"], "Ocaens"));
    }

    [Theory]
    [InlineData("cardano/walet", "cardano/wallet")]
    [InlineData("Cardano/Wallet", "cardano/wallet")]
    [InlineData("cardano_wallet", "cardano-wallet")]
    public void Misspelling_a_near_miss_of_the_whole_name_is_found(string given, string meant) =>
        Assert.Equal(meant, DidYouMean.Misspelling([.. Topics, "cardano-wallet"], given));

    [Theory]
    [InlineData("qubit")] // a last part alone is another topic here, not a misspelling
    [InlineData("python2")] // other digits: another version, not a typo
    [InlineData("r")] // too short for any edit to be a typo
    public void Misspelling_a_name_that_differs_in_meaning_is_not_one(string given) =>
        Assert.Null(DidYouMean.Misspelling([.. Topics, "python3", "c"], given));
}
