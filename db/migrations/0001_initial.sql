-- Recommender schema, first migration: covers the whole product so later features rarely need schema churn.
-- Every per-user table carries user_id and leads its primary key with it: user_id is the distribution key
-- when the database is sharded (Citus); catalog tables (items, topics, sources) become reference tables.

create table users (
    id            bigint generated always as identity primary key,
    external_id   text unique,                 -- the platform's own id for this person, if it has one
    login         text unique,                 -- null for people who only exist through a platform
    display_name  text not null,
    password_hash text,
    role          text not null default 'user' check (role in ('user', 'admin')),
    attributes    jsonb not null default '{}', -- stated attributes, used only for counterfactual audits
    created_at    timestamptz not null default now()
);

create table sources (
    id          bigint generated always as identity primary key,
    external_id text not null unique,
    name        text not null,
    credibility real check (credibility between 0 and 1)
);

create table topics (
    id   integer generated always as identity primary key,
    name text not null unique
);

create table items (
    id           bigint generated always as identity primary key,
    external_id  text not null unique,
    title        text not null,
    url          text,
    summary      text,
    published_at timestamptz,
    level        smallint check (level between 1 and 5),
    source_id    bigint references sources (id) on delete set null,
    stance       real check (stance between -1 and 1),
    difficulty   real,                         -- Elo-scale difficulty estimated from learners' evidence; null until then
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now()
);
create index items_published_at on items (published_at desc nulls last);

create table item_topics (
    item_id  bigint  not null references items (id) on delete cascade,
    topic_id integer not null references topics (id) on delete cascade,
    primary key (item_id, topic_id)
);
create index item_topics_topic on item_topics (topic_id, item_id);

-- The highest-volume table has no foreign keys on purpose: PostgreSQL checks them row by row, which halved bulk
-- ingestion speed when measured. Every writer resolves user_id and item_id by joining users and items, and deleting
-- a user or an item deletes its events explicitly (in the same transaction).
create table events (
    user_id         bigint not null,
    id              bigint generated always as identity,
    item_id         bigint not null,
    kind            text not null check (kind in ('impression', 'view', 'click', 'rating', 'complete', 'like',
                        'not_interested', 'learned', 'too_easy', 'too_hard', 'quiz_correct', 'quiz_wrong')),
    value           real,
    occurred_at     timestamptz not null,
    received_at     timestamptz not null default now(),
    idempotency_key text not null,             -- the client's key; imports derive one from the row
    primary key (user_id, id),
    unique (user_id, idempotency_key)
);
create index events_user_time on events (user_id, occurred_at desc);
create index events_time on events (occurred_at);

create table user_settings (
    user_id      bigint primary key references users (id) on delete cascade,
    objective_id text not null,
    parameters   jsonb not null default '{}',
    topics       text[] not null default '{}', -- what the person said they care about (onboarding): initial signals
    updated_at   timestamptz not null default now()
);

create table settings_history (
    user_id      bigint not null references users (id) on delete cascade,
    id           bigint generated always as identity,
    objective_id text not null,
    parameters   jsonb not null,
    changed_at   timestamptz not null default now(),
    primary key (user_id, id)
);

create table models (
    version          integer generated always as identity primary key,
    algorithm        text not null,
    options          jsonb not null default '{}',
    metrics          jsonb not null default '{}',
    created_at       timestamptz not null default now(),
    status           text not null default 'training'
                     check (status in ('training', 'ready', 'rejected', 'failed')),
    is_active        boolean not null default false,
    activated_at     timestamptz,
    payload          bytea,
    payload_checksum text,
    check (not is_active or (status = 'ready' and payload is not null))
);
-- At most one active model; activation is a single transaction that flips the flag.
create unique index models_one_active on models (is_active) where is_active;

create table served_lists (
    user_id               bigint not null references users (id) on delete cascade,
    id                    bigint generated always as identity,
    request_id            uuid not null,
    objective_id          text not null,
    objective_version     text not null,
    parameters_hash       text not null,
    parameters            jsonb not null,      -- the settings the list was ranked with, so it can be reproduced
    seed                  integer not null,
    model_version         text not null,       -- the active model's version, or "popularity" before any model
    candidates_considered integer not null,
    items                 jsonb not null,      -- [{item_id, rank, score, components: {name: value}, reasons: [..]}]
    created_at            timestamptz not null default now(),
    primary key (user_id, id),
    unique (user_id, request_id)
);
create index served_lists_user_time on served_lists (user_id, created_at desc);
create index served_lists_objective_time on served_lists (objective_id, created_at desc);

create table learning_state (
    user_id        bigint  not null references users (id) on delete cascade,
    topic_id       integer not null references topics (id) on delete cascade,
    skill          real    not null,
    evidence_count integer not null default 0,
    updated_at     timestamptz not null default now(),
    primary key (user_id, topic_id)
);

create table api_keys (
    id         bigint generated always as identity primary key,
    name       text not null,
    prefix     text not null,                  -- the first characters of the key, shown to tell keys apart
    key_hash   bytea not null unique,          -- SHA-256 of the whole key; the key itself is never stored
    scopes     text[] not null,
    created_at timestamptz not null default now(),
    revoked_at timestamptz
);
