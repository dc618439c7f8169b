using Microsoft.AspNetCore.Http.HttpResults;
using Recommender.Core;
using Recommender.Data;
using Recommender.Data.Import;

namespace Recommender.Service;

/// <summary>
/// One event as clients send it. Every field is nullable so a missing one is reported by name rather than failing
/// the whole body; those with a default may be left out (<see cref="Value"/> is needed for a rating, a missing
/// <see cref="OccurredAt"/> means now). <see cref="UserId"/> is only for platforms acting on behalf of their users (their own user id).
/// </summary>
public sealed record EventInput(long? ItemId, string? Kind, string? IdempotencyKey, double? Value = null, DateTimeOffset? OccurredAt = null, string? UserId = null);

/// <summary>Turns a batch of <see cref="EventInput"/> into store events, collecting errors keyed by their place in the body, a JSON array:
/// <c>[i].field</c>, as a body that cannot be read names them; the whole batch is <c>body</c>.</summary>
public static class EventBatch
{
    /// <summary>The 409 for a batch that reused idempotency keys for different events: each named, nothing recorded.</summary>
    public static Conflict<HttpValidationProblemDetails> KeyConflicts(AppendResult result) => TypedResults.Conflict(new HttpValidationProblemDetails(
        result.Conflicts.ToDictionary(i => $"[{i}].idempotencyKey", _ => new[] { "is already used for a different event (another item, kind or value); use a new key" }))
    {
        Status = StatusCodes.Status409Conflict,
        Title = "An idempotency key was reused for a different event; nothing was recorded.",
    });

    public static (List<NewEvent> Events, Dictionary<string, string[]> Errors) Parse(IReadOnlyList<EventInput>? batch, Func<EventInput, long?> userOf, DateTimeOffset now)
    {
        var errors = new Dictionary<string, string[]>();
        var events = new List<NewEvent>();
        if (batch is null || batch.Count == 0)
        {
            errors["body"] = ["send between 1 and 1000 events"];
            return (events, errors);
        }
        if (batch.Count > EventStore.MaxBatch)
        {
            errors["body"] = [$"at most {EventStore.MaxBatch} events per batch; this one has {batch.Count}"];
            return (events, errors);
        }
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i];
            var at = $"[{i}]";
            if (e is null)
            {
                errors[at] = ["is null"];
                continue;
            }
            var before = errors.Count;
            if (e.ItemId is not > 0)
                errors[$"{at}.itemId"] = ["is required and must be a positive item id"];
            if (!EventKinds.TryParse(e.Kind, out var kind))
                errors[$"{at}.kind"] = [$"must be one of: {string.Join(", ", EventKinds.All)}"];
            if (CatalogRules.ValueProblem(kind, e.Value) is { } value)
                errors[$"{at}.value"] = [value];
            if (CatalogRules.IdProblem(e.IdempotencyKey) is { } key)
                errors[$"{at}.idempotencyKey"] = [key];
            if (CatalogRules.OccurredAtProblem(e.OccurredAt, now) is { } when)
                errors[$"{at}.occurredAt"] = [when];
            var user = userOf(e);
            if (user is null)
                errors[$"{at}.userId"] = ["is required"];
            if (errors.Count == before)
                events.Add(new NewEvent(user!.Value, e.ItemId!.Value, kind, e.Value is { } f ? (float)f : null, (e.OccurredAt ?? now).ToUniversalTime(), e.IdempotencyKey!));
        }
        return (events, errors);
    }
}
