-- Security and durability (issue: what a red team found).

-- Catalog links: only http and https addresses. NOT VALID: new and changed rows are checked; rows stored before this
-- migration are kept as they were and the pages refuse to render them as links.
alter table items add constraint items_url_http check (url is null or url ~* '^https?://') not valid;

-- Each app's sessions live by their own lifetime (8 hours for the REST service, 14 days for the web app by default):
-- the session remembers it, so a sign-in to one app clears only sessions that lapsed by their own measure. Sessions
-- from before this migration get the longest default, so none is cut short.
alter table sessions add column lifetime interval not null default interval '14 days';
alter table sessions alter column lifetime drop default;

-- Failed sign-ins per login (known or not, so the limit tells nothing about which logins exist), beside the
-- per-address limit. A login with too many failures in a window is refused until locked_until.
create table sign_in_failures (
    login        text primary key,
    failures     int not null,
    window_start timestamptz not null,
    locked_until timestamptz
);

-- Differential privacy budget: every researcher export records the ε it spent on a dataset; exports past the budget
-- are refused (the sum is taken under an advisory lock per dataset, so concurrent exports cannot overdraw it).
create table privacy_budget_spends (
    id                   bigint generated always as identity primary key,
    dataset              text not null,
    epsilon              double precision not null check (epsilon > 0),
    window_from          timestamptz not null,
    window_to            timestamptz not null,
    max_cells_per_person int not null,
    spent_at             timestamptz not null default now()
);
create index privacy_budget_spends_dataset on privacy_budget_spends (dataset);
