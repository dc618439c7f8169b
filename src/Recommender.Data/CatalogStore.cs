using Dapper;
using Npgsql;

namespace Recommender.Data;

/// <summary>One catalog item as listed to people: its topics and source are joined in.</summary>
public sealed record CatalogItem(long Id, string ExternalId, string Title, string? Url, DateTime? PublishedAt, short? Level,
    string? SourceName, float? Credibility, float? Stance, string[] Topics);

/// <summary>Counts that describe what the database holds.</summary>
public sealed record CatalogCounts(long Items, long Topics, long Sources, long Users, long Events);

/// <summary>Reads the catalog: items with their topics and source.</summary>
public sealed class CatalogStore(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyList<CatalogItem>> ListAsync(int offset, int limit, string? topic = null, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<CatalogRow>(new CommandDefinition("""
            select i.id, i.external_id, i.title, i.url, i.published_at, i.level, s.name as source_name, s.credibility, i.stance,
                   coalesce(array(select t.name from item_topics it join topics t on t.id = it.topic_id where it.item_id = i.id order by t.name), '{}') as topics
            from items i left join sources s on s.id = i.source_id
            where @topic::text is null or exists (select 1 from item_topics it join topics t on t.id = it.topic_id where it.item_id = i.id and t.name = @topic)
            order by i.published_at desc nulls last, i.id
            offset @offset limit @limit
            """, new { offset, limit, topic }, cancellationToken: ct));
        return rows.Select(r => new CatalogItem(r.Id, r.ExternalId, r.Title, r.Url, r.PublishedAt, r.Level, r.SourceName, r.Credibility, r.Stance, r.Topics)).ToList();
    }

    // Dapper matches constructors by exact field type and Npgsql reports text[] as System.Array, so arrays go through properties.
    private sealed class CatalogRow
    {
        public long Id { get; init; }
        public string ExternalId { get; init; } = "";
        public string Title { get; init; } = "";
        public string? Url { get; init; }
        public DateTime? PublishedAt { get; init; }
        public short? Level { get; init; }
        public string? SourceName { get; init; }
        public float? Credibility { get; init; }
        public float? Stance { get; init; }
        public string[] Topics { get; init; } = [];
    }

    public async Task<CatalogCounts> CountAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<CatalogCounts>(new CommandDefinition("""
            select (select count(*) from items) as items, (select count(*) from topics) as topics, (select count(*) from sources) as sources,
                   (select count(*) from users) as users, (select count(*) from events) as events
            """, cancellationToken: ct));
    }
}
