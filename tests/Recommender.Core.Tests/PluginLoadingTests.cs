using System.Runtime.Loader;
using Microsoft.Extensions.DependencyInjection;
using Recommender.Objectives.Fresh;

namespace Recommender.Core.Tests;

public sealed class PluginLoadingTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "recommender-plugins-" + Guid.NewGuid().ToString("N"));

    public PluginLoadingTests()
    {
        // The plug-in folder holds only the plug-in: Recommender.Core must come from the host.
        Directory.CreateDirectory(_folder);
        var built = typeof(FreshObjective).Assembly.Location;
        File.Copy(built, Path.Combine(_folder, Path.GetFileName(built)));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Load_folderWithFreshPlugin_returnsObjectiveFromIsolatedContext()
    {
        var objectives = ObjectivePluginLoader.Load(_folder);

        var fresh = Assert.Single(objectives);
        Assert.Equal("fresh", fresh.Id);
        var context = AssemblyLoadContext.GetLoadContext(fresh.GetType().Assembly);
        Assert.NotSame(AssemblyLoadContext.Default, context);
        // Shared contract: the plug-in's IObjective is the host's, so its parameters and results are the host's types.
        Assert.Same(typeof(IObjective).Assembly, fresh.GetType().GetInterfaces().Single(i => i.Name == nameof(IObjective)).Assembly);
    }

    [Fact]
    public void Load_pluginObjective_ranksThroughHostTypes()
    {
        var fresh = ObjectivePluginLoader.Load(_folder).Single();

        var ranked = fresh.Rank(TestWorld.Request(UserState.FromHistory(999, []), ObjectiveParameters.Empty.With("freshness_weight", 1.0), k: 3));

        Assert.Equal([1L, 2, 3], ranked.Select(r => r.ItemId));
    }

    [Fact]
    public void Load_missingFolder_returnsEmpty()
    {
        Assert.Empty(ObjectivePluginLoader.Load(Path.Combine(_folder, "absent")));
    }

    [Fact]
    public void AddRecommenderObjectives_withPluginFolder_registersBuiltInsAndPlugin()
    {
        var services = new ServiceCollection();

        services.AddRecommenderObjectives(_folder);

        var registry = Assert.IsType<ObjectiveRegistry>(services.Single(d => d.ServiceType == typeof(ObjectiveRegistry)).ImplementationInstance);
        Assert.Equal(["blend", "diversity", "engagement", "fresh", "learning", "no_profiling"], registry.All.Select(o => o.Id));
        Assert.Equal(6, services.Count(d => d.ServiceType == typeof(IObjective)));
    }

    [Fact]
    public void ObjectiveRegistry_duplicateIds_throws()
    {
        var objectives = ObjectiveRegistry.BuiltIn().Concat([new FreshObjective(), new FreshObjective()]);

        Assert.Throws<InvalidOperationException>(() => new ObjectiveRegistry(objectives));
    }
}
