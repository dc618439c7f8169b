using System.Text.Json;
using Recommender.Core;

namespace Recommender.Web;

/// <summary>One field of a reader's form: the id of its control (what the error summary links to) and its name on the page.</summary>
public sealed record FormField(string Id, string Name);

/// <summary>
/// A problem as a page shows it (GOV.UK's error pattern): <see cref="Message"/> beside the field whose control is
/// <see cref="FieldId"/>, and <see cref="Summary"/> in the summary at the top, linking to that control.
/// </summary>
public sealed record FieldProblem(string FieldId, string Message, string Summary)
{
    /// <summary>A problem whose message already names its field (a blend weight's names its goal), said the same in both places.</summary>
    public static FieldProblem Said(string fieldId, string message) => new(fieldId, message, message);
}

/// <summary>The problems a page shows, in the order the summary lists them.</summary>
public sealed class FormProblems(IEnumerable<FieldProblem> problems)
{
    public static FormProblems None { get; } = new([]);

    public IReadOnlyList<FieldProblem> All { get; } = [.. problems];

    public bool Any => All.Count > 0;

    /// <summary>What the page's title starts with: "Error: " while problems show, as GOV.UK's pages say it.</summary>
    public string TitlePrefix => Any ? "Error: " : "";

    /// <summary>The messages beside the field whose control is <paramref name="fieldId"/>.</summary>
    public IReadOnlyList<string> Of(string fieldId) => [.. All.Where(p => p.FieldId == fieldId).Select(p => p.Message)];

    /// <summary>The id of that field's message, for the control's <c>aria-describedby</c>; null while it has none.</summary>
    public string? DescribedBy(string fieldId) => Of(fieldId).Count > 0 ? ErrorId(fieldId) : null;

    /// <summary><c>aria-invalid</c> for that field's control: "true" while it has a message, else left off.</summary>
    public string? Invalid(string fieldId) => Of(fieldId).Count > 0 ? "true" : null;

    public static string ErrorId(string fieldId) => fieldId + "-error";

    public FormProblems And(IEnumerable<FieldProblem> more) => new(All.Concat(more));
}

/// <summary>
/// The fields of the reader's forms that <see cref="Serving.SettingsService"/> checks, and the one place that turns the
/// REST API's field keys (<c>objectiveId</c>, <c>topics[1]</c>, <c>parameters.credibility_floor</c>) into the field a
/// page shows and its name there. The REST API's answers keep the keys; people see the names.
/// </summary>
public sealed class ReaderForm
{
    private ReaderForm(FormField topics, FormField goal, FormField? credibilityFloor) =>
        (Topics, Goal, CredibilityFloor) = (topics, goal, credibilityFloor);

    /// <summary>The welcome page: first topics and a goal.</summary>
    public static ReaderForm Welcome { get; } = new(new("topics", "Topics you care about"), new("objectiveId", "Your goal"), null);

    /// <summary>My goals: the goal cards, the current goal's topics and credibility floor (the mix's weights are its own).</summary>
    public static ReaderForm Settings { get; } = new(new("topics", "Topics"), new("goal-choice", "Your goal"), new("credibilityFloor", "Credibility floor"));

    public FormField Topics { get; }

    public FormField Goal { get; }

    public FormField? CredibilityFloor { get; }

    /// <summary>
    /// The field a REST key names on this page. A key the page has no control for (a setting of the goal being switched
    /// to) is the goal's: that is the choice the reader made.
    /// </summary>
    public FormField FieldOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var name = key.StartsWith("parameters.", StringComparison.Ordinal) ? key["parameters.".Length..] : key;
        var bracket = name.IndexOf('[', StringComparison.Ordinal);
        return (bracket >= 0 ? name[..bracket] : name) switch
        {
            Core.Objectives.CommonParameters.Topics => Topics,
            Core.Objectives.CommonParameters.CredibilityFloor when CredibilityFloor is not null => CredibilityFloor,
            _ => Goal,
        };
    }

    /// <summary>
    /// The errors of a refused change as this page shows them: each beside its field, worded with the field's name where
    /// the service's message starts with the key (<c>'credibility_floor' must be at most 1.</c>), or in words made from
    /// the key where the page has no field of that name.
    /// </summary>
    public FormProblems Problems(IEnumerable<ParameterError> errors) => new(errors.Select(error =>
    {
        var field = FieldOf(error.Field);
        var key = error.Field.StartsWith("parameters.", StringComparison.Ordinal) ? error.Field["parameters.".Length..] : error.Field;
        var quoted = $"'{key}' ";
        var message = error.Message.StartsWith(quoted, StringComparison.Ordinal)
            ? (field == Goal ? Sentence(key.Replace('_', ' ')) : field.Name) + " " + error.Message[quoted.Length..]
            : Sentence(error.Message.Replace(Serving.CatalogBrowser.WhereTopicsAreListed, "the boxes below are the topics it has", StringComparison.Ordinal));
        return new FieldProblem(field.Id, message, message.StartsWith(field.Name, StringComparison.Ordinal) ? message : $"{field.Name}: {message}");
    }));

    private static string Sentence(string message) =>
        message.Length > 0 && char.IsLower(message[0]) ? char.ToUpperInvariant(message[0]) + message[1..] : message;
}

/// <summary>
/// A refused reader form, carried to the page it came from in the address (sealed, like a flash message): the errors by
/// their REST keys, and what the reader sent, so the fields keep it. Both are cut short: the address must stay well
/// within what a server reads (Kestrel refuses a request line over 8 KB), whatever a forged post held.
/// </summary>
public sealed record FormRefusal(IReadOnlyList<ParameterError> Errors, IReadOnlyDictionary<string, string[]> Typed)
{
    private const int MaxErrors = 5;
    private const int MessageLength = 200;
    private const int TypedLength = 1500;

    public static FormRefusal Of(IEnumerable<ParameterError> errors, params (string Name, IEnumerable<string> Values)[] typed)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var budget = TypedLength;
        var kept = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var (name, values) in typed)
        {
            var list = new List<string>();
            foreach (var value in values)
            {
                if (value.Length > budget)
                    break;
                budget -= value.Length;
                list.Add(value);
            }
            kept[name] = [.. list];
        }
        return new([.. errors.Take(MaxErrors).Select(e => e with { Message = e.Message.Length <= MessageLength ? e.Message : e.Message[..MessageLength] + "…" })], kept);
    }

    /// <summary>What was sent in field <paramref name="name"/>; empty when nothing was.</summary>
    public IReadOnlyList<string> Sent(string name) => Typed.TryGetValue(name, out var values) ? values : [];

    public string Seal(FlashMessages flash)
    {
        ArgumentNullException.ThrowIfNull(flash);
        return flash.Seal(JsonSerializer.Serialize(this));
    }

    /// <summary>The refusal sealed here in the last ten minutes, else null (a link someone made up shows nothing).</summary>
    public static FormRefusal? Open(FlashMessages flash, string? sealedRefusal)
    {
        ArgumentNullException.ThrowIfNull(flash);
        if (flash.Open(sealedRefusal) is not { } json)
            return null;
        try
        {
            return JsonSerializer.Deserialize<FormRefusal>(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
