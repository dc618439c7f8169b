-- Each learner's general ability, beside their skill per topic (learning_state): how far (Elo points) their answers
-- have moved them from the population in every topic, and how many answers they have given. The skill model steps it
-- by a gain that shrinks with all of the learner's answers, and a topic the learner has not practised starts from it.
-- Learners stored before this migration have no row: the model counts their answers from their topics and starts
-- them at the population until their next answer; `recommender skill rebuild` fills every row from the events.
create table learner_ability (
    user_id        bigint not null references users (id) on delete cascade,
    ability        real   not null,
    evidence_count integer not null,
    updated_at     timestamptz not null default now(),
    primary key (user_id)
);
