namespace Recommender.Testing;

/// <summary>Paths to the repository and the data it ships, found from the test binaries' folder.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The shared data sets beside the repository (<c>../shared/data</c>), read in place and never copied in.</summary>
    public static string SharedData => Path.GetFullPath(Path.Combine(Root, "..", "shared", "data"));

    /// <summary>The MovieTweetings 100K set.</summary>
    public static string MovieTweetings => Path.Combine(SharedData, SharedDataSet.MovieTweetings);

    /// <summary>Two Stack Exchange site dumps (Quantum Computing 2018, Cardano 2021), one folder per site.</summary>
    public static string StackExchange => Path.Combine(SharedData, SharedDataSet.StackExchange);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Recommender.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"Recommender.sln not found above {AppContext.BaseDirectory}");
    }
}
