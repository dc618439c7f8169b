namespace Recommender.Core;

/// <summary>
/// A ranking goal the user can choose. Implementations are stateless singletons: everything about the user arrives
/// in the <see cref="RankingRequest"/>, so one instance serves every request concurrently.
/// </summary>
/// <remarks>
/// Every objective must: return at most <see cref="RankingRequest.K"/> distinct items drawn from the candidates,
/// never return an excluded item or one below the credibility floor, return the same list for the same request and
/// seed, and give each item one or two plain-language reasons. The contract test base checks all of this.
/// </remarks>
public interface IObjective
{
    /// <summary>Stable identifier stored in settings and the audit log, e.g. <c>learning</c>.</summary>
    string Id { get; }

    /// <summary>Bumped whenever the ranking changes, so audited lists can be traced to the code that made them.</summary>
    string Version { get; }

    string DisplayName { get; }

    /// <summary>What the objective does for the user, in one or two plain sentences.</summary>
    string Description { get; }

    ParameterSchema Schema { get; }

    /// <summary>Where the pipeline should look for candidates. Objectives without <see cref="CandidateSources.Personal"/> never see personal history.</summary>
    CandidateSources Sources => CandidateSources.Personal;

    /// <summary>
    /// True when <see cref="Rank"/> puts an item of every chosen topic in its list whenever a candidate has one, so
    /// the feed may tell the reader that a chosen topic it does not show has nothing left for them.
    /// </summary>
    bool CoversChosenTopics => false;

    /// <summary>
    /// True when <see cref="Rank"/> gives every chosen topic at least its <see cref="ChosenTopicShare.Of"/> of any
    /// first places of the list while that topic has items at the reader's level, so the feed may tell the reader
    /// that a chosen topic it shows fewer of has little more at their level.
    /// </summary>
    bool BalancesChosenTopics => false;

    /// <summary>Errors naming the offending field; empty when the settings are acceptable.</summary>
    IReadOnlyList<ParameterError> Validate(ObjectiveParameters parameters) => Schema.Validate(parameters);

    /// <summary>Chooses and orders up to <see cref="RankingRequest.K"/> items from <see cref="RankingRequest.Candidates"/>.</summary>
    IReadOnlyList<RankedItem> Rank(RankingRequest request);
}

/// <summary>Candidate sources the pipeline merges before handing candidates to an objective.</summary>
[Flags]
public enum CandidateSources
{
    None = 0,

    /// <summary>The model's top-N for this user (popularity for users the model does not know).</summary>
    Personal = 1,

    /// <summary>Popular items from the topics the user chose.</summary>
    Topics = 2,

    /// <summary>Recent and broadly popular items, the same for everyone.</summary>
    RecentPopular = 4,
}

/// <summary>What the ranking may know about a user. <see cref="Anonymous"/> carries nothing personal.</summary>
/// <param name="UserId">Database id, or null for anonymous requests.</param>
/// <param name="History">Past interactions, oldest first.</param>
/// <param name="Skills">Per-topic learning skill (Elo rating) maintained from evidence events, with the general ability under <see cref="SkillModel.GeneralAbility"/>.</param>
public sealed record UserState(long? UserId, IReadOnlyList<Interaction> History, IReadOnlyDictionary<string, TopicSkill> Skills)
{
    public static UserState Anonymous { get; } = new(null, [], new Dictionary<string, TopicSkill>());

    public static UserState FromHistory(long userId, IReadOnlyList<Interaction> history) =>
        new(userId, history, new Dictionary<string, TopicSkill>());
}

/// <summary>A candidate item with the model's view of it.</summary>
/// <param name="ItemId">Catalog id.</param>
/// <param name="Relevance">Model score for this user (popularity prior when the user is unknown to the model).</param>
/// <param name="Embedding">Item factor vector; empty for models without embeddings.</param>
public sealed record Candidate(long ItemId, double Relevance, ReadOnlyMemory<float> Embedding)
{
    /// <summary>
    /// The model has not learned the item yet (it arrived after the model was trained): <see cref="Relevance"/> and
    /// <see cref="Embedding"/> are those of the learned items on its topic (<see cref="NewItems"/>), so a reason must not
    /// say that anyone enjoyed it.
    /// </summary>
    public bool IsNew { get; init; }
}

/// <summary>Everything an objective may use to rank.</summary>
/// <param name="User">The user, or <see cref="UserState.Anonymous"/> for objectives that must not profile.</param>
/// <param name="Parameters">The user's settings for this objective (missing values take the schema defaults).</param>
/// <param name="Candidates">Items to choose from, in the order the pipeline produced them.</param>
/// <param name="Exclusions">Items that must never be returned: already consumed or marked not interested.</param>
/// <param name="Catalog">Item metadata and popularity.</param>
/// <param name="Model">The model that scored the candidates; used for history embeddings.</param>
/// <param name="Personalized">True when <see cref="Candidate.Relevance"/> came from a personal model score.</param>
/// <param name="K">Number of items wanted.</param>
/// <param name="Seed">Breaks ties; the same seed gives the same list.</param>
/// <param name="Now">Clock for recency; passed in so ranking is reproducible.</param>
/// <param name="InitialSignals">Items that stood in for the user's chosen topics in the personal score (they count as evidence, not history).</param>
public sealed record RankingRequest(
    UserState User,
    ObjectiveParameters Parameters,
    IReadOnlyList<Candidate> Candidates,
    IReadOnlySet<long> Exclusions,
    Catalog Catalog,
    IRelevanceModel Model,
    bool Personalized,
    int K,
    int Seed,
    DateTimeOffset Now,
    int InitialSignals = 0)
{
    /// <summary>What <see cref="Candidate.Relevance"/> learned the reader's taste from, so that reasons name it truthfully.</summary>
    public Taste Taste =>
        !Personalized ? Taste.None
        : (User.UserId is { } id && Model.TryGetUserIndex(id, out _)) || Ranking.RankingMath.HasEnjoyed(User) ? Taste.Enjoyed
        : InitialSignals > 0 ? Taste.ChosenTopics
        : Taste.Activity;
}

/// <summary>
/// One ranked item: the final score, the named parts it was built from, and why it is shown (<paramref name="Reasons"/>:
/// what is true of the item wherever it is listed).
/// </summary>
public sealed record RankedItem(long ItemId, double Score, IReadOnlyDictionary<string, double> Components, IReadOnlyList<string> Reasons)
{
    /// <summary>
    /// Reasons about the item's place in this objective's own list ("the first pick on physics"), shown after
    /// <see cref="Reasons"/>. They hold only where the list is served as this objective ranked it, so a mix of goals,
    /// which orders items its own way, leaves them out.
    /// </summary>
    public IReadOnlyList<string> ListReasons { get; init; } = [];
}
