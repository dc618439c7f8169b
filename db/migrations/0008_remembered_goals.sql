-- What a person chose for each goal they have used (objective id -> its parameters), so that switching away from a
-- goal and back restores its topics, credibility floor and own settings instead of the defaults.
alter table user_settings add column remembered jsonb not null default '{}';

-- Earlier choices are the best memory there is for people who switched before this existed.
update user_settings set remembered = jsonb_build_object(objective_id, parameters);
