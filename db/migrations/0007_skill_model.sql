-- The fitted skill model (see docs/learning.md): how many evidence events each item's difficulty rests on, so new
-- items move fast and established ones slowly, and the population values fitted by `recommender skill rebuild`.
alter table items add column difficulty_evidence integer not null default 0;

create table skill_priors (
    id        boolean primary key default true check (id),  -- one row: the values in use
    priors    jsonb not null,
    fitted_at timestamptz not null default now()
);
