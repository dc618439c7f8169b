using System.Net;
using System.Text;
using Npgsql;

namespace Recommender.Service.Tests;

/// <summary>A time sent without an offset is UTC over REST, as in the import files, whatever the server's time zone.</summary>
[Collection(LocalTimeZoneCollection.Name)]
public sealed class TimestampTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Time_without_offset_is_stored_as_UTC_on_a_server_east_of_UTC()
    {
        var zone = Environment.GetEnvironmentVariable("TZ");
        Environment.SetEnvironmentVariable("TZ", "Asia/Tokyo");
        TimeZoneInfo.ClearCachedData();
        try
        {
            // Else the test could not tell local time from UTC.
            Assert.Equal(TimeSpan.FromHours(9), TimeZoneInfo.Local.BaseUtcOffset);
            using var platform = await service.WithApiKeyAsync(ApiServiceExtensions.CatalogScope, ApiServiceExtensions.EventsScope);

            using var item = await platform.PutAsync("/api/platform/items/tz-1",
                new StringContent("""{"title":"Time zones","publishedAt":"2024-04-02T10:00:00"}""", Encoding.UTF8, "application/json"));
            const string sent = """
                [{"userId":"tz-user","itemId":"tz-1","kind":"click","idempotencyKey":"tz-e1","occurredAt":"2024-04-02T10:00:00"},
                 {"userId":"tz-user","itemId":"tz-1","kind":"like","idempotencyKey":"tz-e2","occurredAt":"2024-04-02T10:00:00+02:00"}]
                """;
            using var events = await platform.PostAsync("/api/platform/events", new StringContent(sent, Encoding.UTF8, "application/json"));

            Assert.Equal(HttpStatusCode.NoContent, item.StatusCode);
            Assert.Equal(HttpStatusCode.OK, events.StatusCode);
            var utc = new DateTime(2024, 4, 2, 10, 0, 0, DateTimeKind.Utc);
            Assert.Equal(utc, await ScalarAsync<DateTime>("select published_at from items where external_id = 'tz-1'"));
            Assert.Equal(utc, await ScalarAsync<DateTime>("select occurred_at from events where idempotency_key = 'tz-e1'"));
            // A time with an offset keeps it.
            Assert.Equal(utc.AddHours(-2), await ScalarAsync<DateTime>("select occurred_at from events where idempotency_key = 'tz-e2'"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("TZ", zone);
            TimeZoneInfo.ClearCachedData();
        }
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var conn = await service.DataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(sql, conn);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}

/// <summary>Runs alone: it changes the process's local time zone, which every other test would see.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LocalTimeZoneCollection
{
    public const string Name = "local time zone";
}
