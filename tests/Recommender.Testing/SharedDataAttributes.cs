using Xunit;

namespace Recommender.Testing;

/// <summary>The shared data sets tests read in place, by folder name under <see cref="RepositoryPaths.SharedData"/>.</summary>
public static class SharedDataSet
{
    public const string MovieTweetings = "movietweetings-100k";
    public const string StackExchange = "stackexchange";

    /// <summary>Why a test that needs <paramref name="name"/> cannot run here, or null when the data set is in place.</summary>
    public static string? MissingReason(string name)
    {
        var path = Path.Combine(RepositoryPaths.SharedData, name);
        return Directory.Exists(path)
            ? null
            : $"the shared data set {name} is not at {path} (docs/demo-data.md says where to get it)";
    }
}

/// <summary>A fact that reads a shared data set; skipped, saying where the data can be had, on a clone without it.</summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute(string name) => Skip = SharedDataSet.MissingReason(name);
}

/// <summary>A theory that reads a shared data set; skipped, saying where the data can be had, on a clone without it.</summary>
public sealed class SharedDataTheoryAttribute : TheoryAttribute
{
    public SharedDataTheoryAttribute(string name) => Skip = SharedDataSet.MissingReason(name);
}
