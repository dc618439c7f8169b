-- When each platform key was last used, so an admin can tell a key in use from one forgotten before revoking it.
-- Written at most once a minute per key (ApiKeyStore.RecordUseAsync), not on every request.
alter table api_keys add column if not exists last_used_at timestamptz;
