-- A catalog where every goal has something to work on (the Stack Exchange demo), in three parts.

-- 1. Topics form a tree: a subject (a site) holds sub-topics (its tags). A topic without a parent is a subject.
-- Deleting a subject leaves its sub-topics as subjects of their own rather than deleting them with their items' links.
alter table topics add column parent_id integer references topics (id) on delete set null;
alter table topics add constraint topics_not_own_parent check (parent_id <> id);
create index topics_parent on topics (parent_id);

-- 2. Level and credibility carry the plain-language basis they were derived from, so a card and "why this" can say what
-- they rest on; sources can link to the author's profile; items keep the text people read beside the summary (a Q&A
-- item's best answer), who asked it (a source too, for the attribution the licence asks for) and that attribution.
alter table sources add column url text, add column credibility_basis text;
alter table items add column level_basis text, add column body text, add column asked_by_source_id bigint references sources (id) on delete set null,
    add column license text;

-- 3. Activity on a Q&A site: asking, answering, commenting, favouriting and editing are events of their own kinds.
alter table events drop constraint events_kind_check;
alter table events add constraint events_kind_check check (kind in ('impression', 'view', 'click', 'rating', 'complete', 'like',
    'not_interested', 'learned', 'too_easy', 'too_hard', 'quiz_correct', 'quiz_wrong', 'ask', 'answer', 'comment', 'favourite', 'edit'));
