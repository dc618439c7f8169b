namespace Recommender.Testing;

/// <summary>Paths to the repository and the data it ships, found from the test binaries' folder.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The MovieTweetings 100K demo set committed under <c>db/demo</c>.</summary>
    public static string MovieTweetings => Path.Combine(Root, "db", "demo", "movietweetings-100k");

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
