-- Content provenance (docs/provenance.md): publishers' Ed25519 keys per source, and each item's signature with the
-- outcome of checking it when it came in. A newer key retires the older ones (still good for items published before);
-- an admin's revocation makes every item that key verified invalid, with the reason kept on the item.
create table source_keys (
    id             bigint generated always as identity primary key,
    source_id      bigint not null references sources (id) on delete cascade,
    key_id         text not null unique,          -- first 16 hex digits of the SHA-256 of the key: what pages and exports show
    public_key     bytea not null unique check (length(public_key) = 32),
    created_at     timestamptz not null default now(),
    retired_at     timestamptz,                   -- when a newer key of the same source replaced it
    revoked_at     timestamptz,
    revoked_by     text,
    revoked_reason text
);
create index source_keys_source on source_keys (source_id);

alter table items
    add column signature         bytea check (signature is null or length(signature) = 64),
    add column provenance        text not null default 'unsigned' check (provenance in ('verified', 'unsigned', 'invalid')),
    add column signed_by_key_id  bigint references source_keys (id) on delete set null,
    add column provenance_reason text,
    add constraint items_verified_has_key check (provenance <> 'verified' or signed_by_key_id is not null);
create index items_signed_by_key on items (signed_by_key_id) where signed_by_key_id is not null;
