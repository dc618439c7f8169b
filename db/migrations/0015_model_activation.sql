-- Who made each model active, beside when (activated_at): the models page says "activated 2 hours ago by ada".
-- activated_via is how: 'page' (the models page), 'api' (the REST API), 'cli' (the command line) or 'training'
-- (training activated the model it trained because it passed its gate); activated_by is the person's login for
-- 'page' and 'api', null otherwise. Both describe the latest activation; null on models activated before this.
alter table models add column if not exists activated_by text;
alter table models add column if not exists activated_via text;
