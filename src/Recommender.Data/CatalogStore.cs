using System.Globalization;
using Dapper;
using Npgsql;
using Recommender.Core;

namespace Recommender.Data;

/// <summary>One catalog item as listed to people: its topics, source and provenance are joined in.</summary>
public sealed record CatalogItem(long Id, string ExternalId, string Title, string? Url, DateTime? PublishedAt, short? Level,
    string? SourceName, float? Credibility, float? Stance, string[] Topics, ItemProvenance? Provenance = null);

/// <summary>Counts that describe what the database holds.</summary>
public sealed record CatalogCounts(long Items, long Topics, long Sources, long Users, long Events);

/// <summary>A topic of the catalog: its name, its parent's (null for a subject) and how many items it holds.</summary>
/// <summary>A topic: its name (the identifier settings and items use), its parent, how many items it holds, and the title people read (null: the name).</summary>
public sealed record CatalogTopic(string Name, string? Parent, int Items, string? Title);

/// <summary>Reads the catalog: items with their topics and source.</summary>
public sealed class CatalogStore(NpgsqlDataSource dataSource)
{
    /// <summary>NOTIFY channel for catalog changes, so serving processes reload items and topics.</summary>
    public const string ChangeChannel = "recommender_catalog";

    public async Task<IReadOnlyList<CatalogItem>> ListAsync(int offset, int limit, string? topic = null, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<CatalogRow>(new CommandDefinition("""
            select i.id, i.external_id, i.title, i.url, i.published_at, i.level, s.name as source_name, s.credibility, i.stance,
                   coalesce(array(select t.name from item_topics it join topics t on t.id = it.topic_id where it.item_id = i.id order by t.name), '{}') as topics,
                   i.provenance, signer.name as signer_name, k.key_id as signer_key_id, i.provenance_reason
            from items i left join sources s on s.id = i.source_id
                 left join source_keys k on k.id = i.signed_by_key_id left join sources signer on signer.id = k.source_id
            where @topic::text is null or exists (select 1 from item_topics it join topics t on t.id = it.topic_id where it.item_id = i.id and t.name = @topic)
            order by i.published_at desc nulls last, i.id
            offset @offset limit @limit
            """, new { offset, limit, topic }, cancellationToken: ct));
        return rows.Select(r => new CatalogItem(r.Id, r.ExternalId, r.Title, r.Url, r.PublishedAt, r.Level, r.SourceName, r.Credibility, r.Stance, r.Topics,
            ToProvenance(r.Provenance, r.SignerName, r.SignerKeyId, r.ProvenanceReason))).ToList();
    }

    /// <summary>
    /// What an item's stored check means for readers: the signer is named only for a verified item (an invalid one may
    /// name the key it claimed, but nobody vouches for it).
    /// </summary>
    private static ItemProvenance ToProvenance(string? state, string? signer, string? keyId, string? reason) => state switch
    {
        ProvenanceStates.Verified => new ItemProvenance(ProvenanceStates.Verified, signer, keyId),
        ProvenanceStates.Invalid => new ItemProvenance(ProvenanceStates.Invalid, null, keyId, reason),
        _ => ItemProvenance.Unsigned,
    };

    /// <summary>
    /// A stored single-precision value as the double nearest to what was given: 0.85f widened as it is would be
    /// 0.8500000238418579, which is what every feed and card would then show.
    /// </summary>
    private static double? AsGiven(float? value) =>
        value is { } v ? double.Parse(v.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : null;

    private sealed class RankingRow
    {
        public long Id { get; init; }
        public string ExternalId { get; init; } = "";
        public string Title { get; init; } = "";
        public short? Level { get; init; }
        public string? SourceName { get; init; }
        public float? Credibility { get; init; }
        public float? Stance { get; init; }
        public DateTime? PublishedAt { get; init; }
        public float? Difficulty { get; init; }
        public int DifficultyEvidence { get; init; }
        public string[] Topics { get; init; } = [];
        public string? Url { get; init; }
        public string? Summary { get; init; }
        public string? Body { get; init; }
        public string? LevelBasis { get; init; }
        public string? License { get; init; }
        public string? SourceUrl { get; init; }
        public string? CredibilityBasis { get; init; }
        public string? AskerName { get; init; }
        public string? AskerUrl { get; init; }
        public string? AskerBasis { get; init; }
        public string? Site { get; init; }
        public string? Provenance { get; init; }
        public string? SignerName { get; init; }
        public string? SignerKeyId { get; init; }
        public string? ProvenanceReason { get; init; }

        public ItemAttribution? Attribution() =>
            (Summary, Body, Url, LevelBasis, License, SourceName, AskerName) is (null, null, null, null, null, null, null) ? null
            : new ItemAttribution(Summary, Body, Url,
                SourceName is null ? null : new ItemAuthor(SourceName, SourceUrl, CredibilityBasis),
                AskerName is null || AskerName == SourceName && AskerUrl == SourceUrl ? null : new ItemAuthor(AskerName, AskerUrl, AskerBasis),
                Site, LevelBasis, License);
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
        public string? Provenance { get; init; }
        public string? SignerName { get; init; }
        public string? SignerKeyId { get; init; }
        public string? ProvenanceReason { get; init; }
    }

    /// <summary>
    /// The whole catalog as the ranking reads it, with popularity (events per item, impressions and dismissals not
    /// counted), evidence-based difficulty and the fitted skill model. Loaded once per refresh, never per request.
    /// </summary>
    public async Task<Catalog> LoadRankingCatalogAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<RankingRow>(new CommandDefinition("""
            select i.id, i.external_id, i.title, i.level, s.name as source_name, s.credibility, i.stance, i.published_at, i.difficulty, i.difficulty_evidence,
                   coalesce(array(select t.name from item_topics it join topics t on t.id = it.topic_id where it.item_id = i.id order by t.name), '{}') as topics,
                   i.url, i.summary, i.body, i.level_basis, i.license, s.url as source_url, s.credibility_basis,
                   a.name as asker_name, a.url as asker_url, a.credibility_basis as asker_basis,
                   (select coalesce(p.name, t.name) from item_topics it join topics t on t.id = it.topic_id left join topics p on p.id = t.parent_id
                    where it.item_id = i.id order by t.name limit 1) as site,
                   i.provenance, signer.name as signer_name, k.key_id as signer_key_id, i.provenance_reason
            from items i left join sources s on s.id = i.source_id left join sources a on a.id = i.asked_by_source_id
                 left join source_keys k on k.id = i.signed_by_key_id left join sources signer on signer.id = k.source_id
            """, commandTimeout: 0, cancellationToken: ct));
        var parents = (await conn.QueryAsync<(string Topic, string Parent)>(new CommandDefinition(
            "select t.name, p.name from topics t join topics p on p.id = t.parent_id", cancellationToken: ct)))
            .ToDictionary(r => r.Topic, r => r.Parent, StringComparer.Ordinal);
        var titles = (await conn.QueryAsync<(string Topic, string Title)>(new CommandDefinition(
            "select name, title from topics where title is not null", cancellationToken: ct)))
            .ToDictionary(r => r.Topic, r => r.Title, StringComparer.Ordinal);
        var popularity = (await conn.QueryAsync<(long ItemId, long Count)>(new CommandDefinition(
            "select item_id, count(*) from events where kind not in ('impression', 'not_interested') group by item_id",
            commandTimeout: 0, cancellationToken: ct))).ToDictionary(r => r.ItemId, r => (int)Math.Min(r.Count, int.MaxValue));
        var items = new List<ItemInfo>();
        var difficulty = new Dictionary<long, ItemDifficulty>();
        foreach (var r in rows)
        {
            items.Add(new ItemInfo(r.Id, r.ExternalId, r.Title, r.Topics, r.Level, r.SourceName, AsGiven(r.Credibility), AsGiven(r.Stance),
                r.PublishedAt is { } p ? new DateTimeOffset(p, TimeSpan.Zero) : null, r.Attribution(),
                ToProvenance(r.Provenance, r.SignerName, r.SignerKeyId, r.ProvenanceReason)));
            if (r.Difficulty is { } d)
                difficulty[r.Id] = new ItemDifficulty(d, r.DifficultyEvidence);
        }
        // The fitted priors travel with the catalog so ranking predicts success with the model the state was built by.
        var skill = new SkillModel(await LearningStateStore.PriorsAsync(conn, null, ct));
        return new Catalog(items, popularity, difficulty, parents, skill, titles);
    }

    /// <summary>Internal ids for the platform's item ids; unknown ones are missing from the result.</summary>
    public async Task<IReadOnlyDictionary<string, long>> ResolveItemsAsync(IEnumerable<string> externalIds, CancellationToken ct = default)
    {
        var ids = externalIds.Distinct().ToArray();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(string ExternalId, long Id)>(new CommandDefinition(
            "select external_id, id from items where external_id = any(@ids)", new { ids }, cancellationToken: ct));
        return rows.ToDictionary(r => r.ExternalId, r => r.Id, StringComparer.Ordinal);
    }

    /// <summary>The platform's ids of these items; items since removed are missing from the result.</summary>
    public async Task<IReadOnlyDictionary<long, string>> ExternalIdsAsync(IEnumerable<long> ids, CancellationToken ct = default)
    {
        var wanted = ids.Distinct().ToArray();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(long Id, string ExternalId)>(new CommandDefinition(
            "select id, external_id from items where id = any(@wanted)", new { wanted }, cancellationToken: ct));
        return rows.ToDictionary(r => r.Id, r => r.ExternalId);
    }

    /// <summary>Removes an item, its topics and the events about it (events carry no foreign key, so they go explicitly).</summary>
    public async Task<bool> DeleteItemAsync(string externalId, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var id = await conn.ExecuteScalarAsync<long?>(new CommandDefinition("select id from items where external_id = @externalId for update", new { externalId }, tx, cancellationToken: ct));
        if (id is null)
            return false;
        await conn.ExecuteAsync(new CommandDefinition("""
            delete from events where item_id = @id;
            delete from items where id = @id;
            select pg_notify(@channel, '');
            """, new { id, channel = ChangeChannel }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return true;
    }

    /// <summary>Every topic with its parent (null for a subject) and how many items it holds, by name.</summary>
    public async Task<IReadOnlyList<CatalogTopic>> TopicsAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return [.. await conn.QueryAsync<CatalogTopic>(new CommandDefinition("""
            select t.name, p.name as parent, (select count(*) from item_topics it where it.topic_id = t.id)::int as items, t.title
            from topics t left join topics p on p.id = t.parent_id order by t.name
            """, cancellationToken: ct))];
    }

    /// <summary>Those of <paramref name="names"/> that are not topics of the catalog, in the order given.</summary>
    public async Task<IReadOnlyList<string>> UnknownTopicsAsync(IEnumerable<string> names, CancellationToken ct = default)
    {
        var wanted = names.Distinct(StringComparer.Ordinal).ToArray();
        if (wanted.Length == 0)
            return [];
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var known = (await conn.QueryAsync<string>(new CommandDefinition(
            "select name from topics where name = any(@wanted)", new { wanted }, cancellationToken: ct))).ToHashSet(StringComparer.Ordinal);
        return [.. wanted.Where(n => !known.Contains(n))];
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
