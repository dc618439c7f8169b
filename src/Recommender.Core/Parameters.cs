using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Recommender.Core;

/// <summary>The value types an objective parameter can take; the settings page renders one control per type.</summary>
public enum ParameterType
{
    Number,
    Integer,
    Boolean,
    Text,
    TextList,
}

/// <summary>
/// One machine-readable entry of an objective's parameter schema. The REST API validates settings against it and the
/// settings page renders it, so every field a form needs is here.
/// </summary>
/// <param name="Name">snake_case key used in settings JSON.</param>
/// <param name="Type">Value type.</param>
/// <param name="Default">Value used when the user sets nothing: a double, bool, string or string list matching <paramref name="Type"/>.</param>
/// <param name="Description">Plain-language explanation shown next to the control.</param>
/// <param name="Min">Inclusive lower bound for numbers.</param>
/// <param name="Max">Inclusive upper bound for numbers.</param>
/// <param name="AllowedValues">Closed set of values for text (and each element of a text list); null means free text.</param>
/// <param name="Weighs">For a number that weighs another objective in a mix (a blend's weights), that objective's id.</param>
public sealed record ParameterSpec(
    string Name,
    ParameterType Type,
    object Default,
    string Description,
    double? Min = null,
    double? Max = null,
    IReadOnlyList<string>? AllowedValues = null,
    string? Weighs = null);

/// <summary>A validation problem, naming the field so a form can show it beside the right control.</summary>
public sealed record ParameterError(string Field, string Message);

/// <summary>An objective's parameters: their names, types, defaults and bounds.</summary>
public sealed class ParameterSchema
{
    private readonly Dictionary<string, ParameterSpec> _byName;

    public ParameterSchema(IEnumerable<ParameterSpec> parameters)
    {
        Parameters = [.. parameters];
        _byName = Parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
    }

    public static ParameterSchema Empty { get; } = new([]);

    public IReadOnlyList<ParameterSpec> Parameters { get; }

    /// <summary>The parameters that weigh other objectives in a mix, in schema order (declared by <see cref="ParameterSpec.Weighs"/>).</summary>
    public IReadOnlyList<ParameterSpec> Weights => [.. Parameters.Where(p => p.Weighs is not null)];

    public bool TryGet(string name, out ParameterSpec spec) => _byName.TryGetValue(name, out spec!);

    /// <summary>Checks names, types, bounds and allowed values. An empty list means the settings are valid.</summary>
    public IReadOnlyList<ParameterError> Validate(ObjectiveParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var errors = new List<ParameterError>();
        foreach (var (name, value) in parameters.Values)
        {
            if (!_byName.TryGetValue(name, out var spec))
            {
                errors.Add(new ParameterError(name, $"Unknown setting '{name}'."));
                continue;
            }
            ValidateValue(spec, value, errors);
        }
        return errors;
    }

    /// <summary>The parameters with every missing value filled from its default.</summary>
    public ObjectiveParameters Resolve(ObjectiveParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var resolved = parameters;
        foreach (var spec in Parameters)
        {
            if (!parameters.Values.ContainsKey(spec.Name))
            {
                resolved = resolved.WithValue(spec.Name, spec.Default);
            }
        }
        return resolved;
    }

    /// <summary>The schema as JSON, for the REST API and the settings page.</summary>
    public JsonArray ToJson()
    {
        var array = new JsonArray();
        foreach (var p in Parameters)
        {
            var node = new JsonObject
            {
                ["name"] = p.Name,
                ["type"] = JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Type.ToString()),
                ["default"] = ObjectiveParameters.ToNode(p.Default),
                ["description"] = p.Description,
            };
            if (p.Min is { } min) node["min"] = min;
            if (p.Max is { } max) node["max"] = max;
            if (p.AllowedValues is { } allowed) node["allowed_values"] = new JsonArray([.. allowed.Select(a => (JsonNode?)a)]);
            if (p.Weighs is { } weighs) node["weighs"] = weighs;
            array.Add(node);
        }
        return array;
    }

    private static void ValidateValue(ParameterSpec spec, object value, List<ParameterError> errors)
    {
        switch (spec.Type)
        {
            case ParameterType.Number or ParameterType.Integer:
                if (value is not double number)
                {
                    errors.Add(new ParameterError(spec.Name, $"'{spec.Name}' must be a number."));
                    return;
                }
                if (spec.Type == ParameterType.Integer && Math.Abs(number - Math.Round(number)) > 0)
                {
                    errors.Add(new ParameterError(spec.Name, $"'{spec.Name}' must be a whole number."));
                }
                if (spec.Min is { } min && number < min)
                {
                    errors.Add(new ParameterError(spec.Name, $"'{spec.Name}' must be at least {min.ToString(CultureInfo.InvariantCulture)}."));
                }
                if (spec.Max is { } max && number > max)
                {
                    errors.Add(new ParameterError(spec.Name, $"'{spec.Name}' must be at most {max.ToString(CultureInfo.InvariantCulture)}."));
                }
                break;
            case ParameterType.Boolean:
                if (value is not bool)
                {
                    errors.Add(new ParameterError(spec.Name, $"'{spec.Name}' must be true or false."));
                }
                break;
            case ParameterType.Text:
                if (value is not string text)
                {
                    errors.Add(new ParameterError(spec.Name, $"'{spec.Name}' must be text."));
                }
                else if (spec.AllowedValues is { } allowed && !allowed.Contains(text, StringComparer.Ordinal))
                {
                    errors.Add(new ParameterError(spec.Name, $"'{spec.Name}' must be one of: {string.Join(", ", allowed)}."));
                }
                break;
            case ParameterType.TextList:
                if (value is not IReadOnlyList<string> list)
                {
                    errors.Add(new ParameterError(spec.Name, $"'{spec.Name}' must be a list of text values."));
                }
                else if (spec.AllowedValues is { } allowedItems && list.FirstOrDefault(v => !allowedItems.Contains(v, StringComparer.Ordinal)) is { } bad)
                {
                    errors.Add(new ParameterError(spec.Name, $"'{bad}' is not an allowed value for '{spec.Name}'."));
                }
                break;
        }
    }
}

/// <summary>
/// Settings for one objective: an immutable map from parameter name to a double, bool, string or string list.
/// Canonical JSON (sorted keys, invariant numbers) gives a stable <see cref="Hash"/> for the audit log.
/// </summary>
public sealed class ObjectiveParameters
{
    private readonly SortedDictionary<string, object> _values;

    private ObjectiveParameters(SortedDictionary<string, object> values) => _values = values;

    public static ObjectiveParameters Empty { get; } = new(new SortedDictionary<string, object>(StringComparer.Ordinal));

    public IReadOnlyDictionary<string, object> Values => _values;

    /// <summary>A copy with <paramref name="name"/> set. Numbers are stored as double so 1 and 1.0 hash alike.</summary>
    public ObjectiveParameters WithValue(string name, object value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var copy = new SortedDictionary<string, object>(_values, StringComparer.Ordinal) { [name] = Normalize(value) };
        return new ObjectiveParameters(copy);
    }

    public ObjectiveParameters With(string name, double value) => WithValue(name, value);

    public ObjectiveParameters With(string name, bool value) => WithValue(name, value);

    public ObjectiveParameters With(string name, string value) => WithValue(name, value);

    public ObjectiveParameters With(string name, IEnumerable<string> values) => WithValue(name, values);

    public double GetNumber(string name, double fallback = 0) => _values.TryGetValue(name, out var v) && v is double d ? d : fallback;

    public bool GetBoolean(string name, bool fallback = false) => _values.TryGetValue(name, out var v) && v is bool b ? b : fallback;

    public string GetText(string name, string fallback = "") => _values.TryGetValue(name, out var v) && v is string s ? s : fallback;

    public IReadOnlyList<string> GetTextList(string name) =>
        _values.TryGetValue(name, out var v) && v is IReadOnlyList<string> list ? list : [];

    /// <summary>Parses a JSON object such as <c>{"topics":["film-noir"],"credibility_floor":0.5}</c>.</summary>
    public static ObjectiveParameters FromJson(string json)
    {
        var node = JsonNode.Parse(json) as JsonObject ?? throw new FormatException("Settings must be a JSON object.");
        var values = new SortedDictionary<string, object>(StringComparer.Ordinal);
        foreach (var (name, value) in node)
        {
            values[name] = FromNode(value) ?? throw new FormatException($"Setting '{name}' has an unsupported value.");
        }
        return new ObjectiveParameters(values);
    }

    /// <summary>Sorted keys, no whitespace, invariant round-trip numbers: the same settings always give the same text.</summary>
    public string ToCanonicalJson()
    {
        var obj = new JsonObject();
        foreach (var (name, value) in _values)
        {
            obj[name] = ToNode(value);
        }
        return obj.ToJsonString();
    }

    /// <summary>Lower-case hex SHA-256 of <see cref="ToCanonicalJson"/>.</summary>
    public string Hash() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ToCanonicalJson())));

    internal static JsonNode? ToNode(object value) => value switch
    {
        double d => JsonValue.Create(d),
        int i => JsonValue.Create((double)i),
        bool b => JsonValue.Create(b),
        string s => JsonValue.Create(s),
        IEnumerable<string> list => new JsonArray([.. list.Select(x => (JsonNode?)JsonValue.Create(x))]),
        _ => null,
    };

    private static object Normalize(object value) => value switch
    {
        double d => d,
        float f => (double)f,
        int i => (double)i,
        long l => (double)l,
        bool b => b,
        string s => s,
        IEnumerable<string> list => (IReadOnlyList<string>)[.. list],
        _ => throw new ArgumentException($"Unsupported parameter value type {value.GetType().Name}.", nameof(value)),
    };

    private static object? FromNode(JsonNode? node) => node switch
    {
        JsonArray array when array.All(x => x?.GetValueKind() == JsonValueKind.String) => (IReadOnlyList<string>)[.. array.Select(x => x!.GetValue<string>())],
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.GetValue<double>(),
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => null,
    };
}
