-- A topic's title: the name a person reads where the topic's name is an identifier ("Quantum Computing" for
-- "quantumcomputing"). Null reads the name itself (a sub-topic without its parent's name in front).
alter table topics add column title text;
