-- People `recommender up` simulates on the demo (their lists and clicks were generated, not lived), so every admin
-- page can say so and counts can leave them out. Everyone else is a real person or a platform's user.
alter table users add column if not exists simulated boolean not null default false;
