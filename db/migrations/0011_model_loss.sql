-- What each model minimised, so the row says it rather than only its options: 'squared-error' (squared error on
-- ratings, SGD) or 'one-class' (weighted squared error over every person and item, on activity, ALS), and whether its
-- regularisation was weighted-λ (grown with each person's and item's number of entries). Rows trained before this
-- migration get both from the options they recorded (lossFunction 1 is one-class).
alter table models add column loss text, add column weighted_lambda boolean;

update models set
    loss = case when options->>'lossFunction' = '1' then 'one-class' else 'squared-error' end,
    weighted_lambda = coalesce((options->>'frequencyScaledRegularization')::boolean, false);

alter table models
    alter column loss set not null,
    alter column weighted_lambda set not null,
    add constraint models_loss_known check (loss in ('squared-error', 'one-class'));
