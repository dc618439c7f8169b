-- The quality gate's words for each trained model ("holdout NDCG@10 0.0000 does not beat popularity's 0.0000"), so the
-- models page and the REST list say why a model was rejected instead of guessing from its status. Null on models
-- trained before this, and on runs that failed before reaching the gate (their reason is in metrics.error).
alter table models add column if not exists decision text;
