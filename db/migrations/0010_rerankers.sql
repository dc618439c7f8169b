-- A learned second stage (docs/ranking.md, "Re-ranker"): LightGBM LambdaRank models trained on served lists and what
-- followed them. Like models, at most one is active; it is only activated after beating MF alone on a later window.
create table rerankers (
    version          integer generated always as identity primary key,
    model_version    integer references models (version) on delete set null, -- the MF model whose scores it was trained on
    metrics          jsonb not null default '{}',
    created_at       timestamptz not null default now(),
    status           text not null default 'training'
                     check (status in ('training', 'ready', 'rejected', 'failed')),
    is_active        boolean not null default false,
    activated_at     timestamptz,
    payload          bytea,          -- the tree ensemble as JSON (see TreeEnsemble), evaluated without ML.NET
    payload_checksum text,
    check (not is_active or (status = 'ready' and payload is not null))
);
create unique index rerankers_one_active on rerankers (is_active) where is_active;

-- Every served list names the re-ranker that scored it, or null when MF alone did.
alter table served_lists add column reranker_version text;
