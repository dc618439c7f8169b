-- Sign-in sessions of people (the REST service's and the web app's cookies). A cookie names its session; a session
-- that ended (signed out) or whose person is gone (cascade) is refused at the next check, whatever the cookie says.
-- Keyed by user_id first like every per-user table, so it shards with the person.
create table sessions (
    user_id    bigint not null references users (id) on delete cascade,
    id         uuid not null,
    created_at timestamptz not null default now(),
    seen_at    timestamptz not null default now(), -- last check; a session unseen for longer than its lifetime is dead
    ended_at   timestamptz,
    primary key (user_id, id)
);
