namespace Recommender.Testing;

/// <summary>A clock that stands still until a test moves it, for lifetimes measured in hours or days.</summary>
public sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
