-- Failed sign-ins are counted per login and client address, no longer per login alone: with a per-login lock anyone
-- who knew a login (the admin's, say) could keep its owner out by guessing wrong five times every quarter of an hour.
-- A guesser now locks only their own address out; the owner elsewhere signs in as before. The old per-login counts
-- (15 minutes' worth at most) are dropped rather than guessed onto an address.
drop table sign_in_failures;
create table sign_in_failures (
    login        text not null,
    client       text not null,
    failures     int not null,
    window_start timestamptz not null,
    locked_until timestamptz,
    primary key (login, client)
);
