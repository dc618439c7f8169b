using Recommender.Core;
using Recommender.Data;

namespace Recommender.Service;

/// <summary>
/// One event as clients send it. Every field is nullable so a missing one is reported by name rather than failing
/// the whole body. <see cref="UserId"/> is only for platforms acting on behalf of their users (their own user id).
/// </summary>
public sealed record EventInput(long? ItemId, string? Kind, double? Value, DateTimeOffset? OccurredAt, string? IdempotencyKey, string? UserId = null);

/// <summary>Turns a batch of <see cref="EventInput"/> into store events, collecting errors keyed <c>events[i].field</c>.</summary>
public static class EventBatch
{
    public const int MaxKeyLength = 200;

    public static (List<NewEvent> Events, Dictionary<string, string[]> Errors) Parse(IReadOnlyList<EventInput>? batch, Func<EventInput, long?> userOf, DateTimeOffset now)
    {
        var errors = new Dictionary<string, string[]>();
        var events = new List<NewEvent>();
        if (batch is null || batch.Count == 0)
        {
            errors["events"] = ["send between 1 and 1000 events"];
            return (events, errors);
        }
        if (batch.Count > EventStore.MaxBatch)
        {
            errors["events"] = [$"at most {EventStore.MaxBatch} events per batch; this one has {batch.Count}"];
            return (events, errors);
        }
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i];
            var at = $"events[{i}]";
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
            if (e.Value is { } v && (!double.IsFinite(v) || (kind == EventKind.Rating && v is < 0 or > 10) || Math.Abs(v) > 1e6))
                errors[$"{at}.value"] = [kind == EventKind.Rating ? "a rating is between 0 and 10" : "must be a finite number"];
            if (kind == EventKind.Rating && e.Value is null)
                errors[$"{at}.value"] = ["a rating needs a value between 0 and 10"];
            if (string.IsNullOrWhiteSpace(e.IdempotencyKey) || e.IdempotencyKey.Length > MaxKeyLength)
                errors[$"{at}.idempotencyKey"] = [$"is required, at most {MaxKeyLength} characters"];
            if (e.OccurredAt is { } when && (when > now.AddDays(1) || when.Year < 1970))
                errors[$"{at}.occurredAt"] = ["must not be in the future or before 1970"];
            var user = userOf(e);
            if (user is null)
                errors[$"{at}.userId"] = ["is required"];
            if (errors.Count == before)
                events.Add(new NewEvent(user!.Value, e.ItemId!.Value, kind, e.Value is { } f ? (float)f : null, (e.OccurredAt ?? now).ToUniversalTime(), e.IdempotencyKey!));
        }
        return (events, errors);
    }
}
