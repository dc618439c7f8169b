using System.Reflection;
using System.Runtime.Loader;
using Microsoft.Extensions.DependencyInjection;

namespace Recommender.Core;

/// <summary>
/// Loads third-party objectives from a folder. Each plug-in assembly gets its own load context so its private
/// dependencies cannot clash with the host's, while Recommender.Core (and what it depends on) resolves to the host's
/// copy: otherwise the plug-in's <see cref="IObjective"/> would be a different type and could not be used.
/// </summary>
public static class ObjectivePluginLoader
{
    /// <summary>Instantiates every public, non-abstract <see cref="IObjective"/> with a parameterless constructor found in <c>*.dll</c> files of <paramref name="folder"/>.</summary>
    public static IReadOnlyList<IObjective> Load(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return [];
        }
        var objectives = new List<IObjective>();
        foreach (var path in Directory.EnumerateFiles(folder, "*.dll").Order(StringComparer.Ordinal))
        {
            var context = new PluginLoadContext(Path.GetFullPath(path));
            var assembly = context.LoadFromAssemblyPath(Path.GetFullPath(path));
            if (assembly.GetName().Name == typeof(IObjective).Assembly.GetName().Name)
            {
                continue;
            }
            foreach (var type in ExportedTypes(assembly))
            {
                if (typeof(IObjective).IsAssignableFrom(type) && type is { IsAbstract: false, IsInterface: false } && type.GetConstructor(Type.EmptyTypes) is not null)
                {
                    objectives.Add((IObjective)Activator.CreateInstance(type)!);
                }
            }
        }
        return objectives;
    }

    private static Type[] ExportedTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetExportedTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            return [.. e.Types.OfType<Type>()];
        }
    }

    private sealed class PluginLoadContext(string pluginPath) : AssemblyLoadContext(Path.GetFileNameWithoutExtension(pluginPath))
    {
        private static readonly HashSet<string> Shared = new(StringComparer.Ordinal)
        {
            typeof(IObjective).Assembly.GetName().Name!,
            "Recommender.Factorization",
        };

        private readonly AssemblyDependencyResolver _resolver = new(pluginPath);

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            // Shared contracts and anything the host already has come from the default context.
            if (assemblyName.Name is { } name && (Shared.Contains(name) || name.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) || name.StartsWith("System.", StringComparison.Ordinal)))
            {
                return null;
            }
            var path = _resolver.ResolveAssemblyToPath(assemblyName);
            return path is null ? null : LoadFromAssemblyPath(path);
        }
    }
}

/// <summary>Registration of objectives with the host's dependency injection.</summary>
public static class ObjectiveServiceCollectionExtensions
{
    /// <summary>
    /// Registers the built-in objectives, every objective found in <paramref name="pluginFolder"/> (when given), and
    /// an <see cref="ObjectiveRegistry"/> over all of them, each as a singleton.
    /// </summary>
    public static IServiceCollection AddRecommenderObjectives(this IServiceCollection services, string? pluginFolder = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var objectives = ObjectiveRegistry.BuiltIn().ToList();
        if (!string.IsNullOrWhiteSpace(pluginFolder))
        {
            objectives.AddRange(ObjectivePluginLoader.Load(pluginFolder));
        }
        foreach (var objective in objectives)
        {
            services.AddSingleton(objective);
        }
        services.AddSingleton(new ObjectiveRegistry(objectives));
        return services;
    }
}
