-- 030_freshness_policy.test.sql
-- The tiered refresh policy (refresh_interval, compute_next_refresh_at) at each tier
-- boundary with injected times, its bounds (never < 12 hours, never > 180 days), its
-- independence from the session time zone, the generated works.next_refresh_at agreeing
-- with it, and is_stale() agreeing with next_refresh_at.
begin;
select plan(42);

-- Every as_of below is 2026-06-15 12:00 UTC unless a test says otherwise.
create function pg_temp.tier(p_status text, p_days_ago integer) returns interval
language sql as $$
  select public.refresh_interval(
    p_status,
    case when p_days_ago is null then null
      else date '2026-06-15' - p_days_ago end,
    '2026-06-15 12:00:00+00')
$$;

-- ---------------------------------------------------------------------------------------
-- bounds
-- ---------------------------------------------------------------------------------------

select is(public.min_refresh_interval(), interval '12 hours',
  'min_refresh_interval() is 12 hours');
select is(public.max_refresh_interval(), interval '180 days',
  'max_refresh_interval() is 180 days');

-- ---------------------------------------------------------------------------------------
-- tiers of released movies, at the boundaries
-- ---------------------------------------------------------------------------------------

select is(pg_temp.tier('Released', 0), interval '1 day', 'released today: 1 day');
select is(pg_temp.tier('Released', 29), interval '1 day', 'released 29 days ago: 1 day');
select is(pg_temp.tier('Released', 30), interval '1 day',
  'released 30 days ago: 1 day (the 30-day window is inclusive)');
select is(pg_temp.tier('Released', 31), interval '7 days', 'released 31 days ago: 7 days');
select is(pg_temp.tier('Released', 364), interval '7 days', 'released 364 days ago: 7 days');
select is(pg_temp.tier('Released', 365), interval '7 days',
  'released 365 days ago: 7 days (the 365-day window is inclusive)');
select is(pg_temp.tier('Released', 366), interval '30 days', 'released 366 days ago: 30 days');
select is(pg_temp.tier('Released', 9000), interval '30 days', 'released 25 years ago: 30 days');
select is(pg_temp.tier(null, 400), interval '30 days',
  'an unknown status is decided by the release date alone');

-- ---------------------------------------------------------------------------------------
-- announced / unreleased
-- ---------------------------------------------------------------------------------------

select is(pg_temp.tier('Released', -1), interval '1 day',
  'release date tomorrow: 1 day (unreleased)');
select is(pg_temp.tier('Released', -400), interval '1 day',
  'release date next year: 1 day (unreleased)');
select is(pg_temp.tier('Released', null), interval '1 day', 'no release date: 1 day');
select is(pg_temp.tier('Planned', 3000), interval '1 day',
  'status Planned: 1 day even with an old release date');
select is(
  (select array_agg(distinct pg_temp.tier(s, 3000)) from unnest(array[
    'Rumored', 'Planned', 'In Production', 'Post Production']) as s),
  array[interval '1 day'],
  'every announced status (Rumored, Planned, In Production, Post Production) is daily'
);
select is(pg_temp.tier('Canceled', null), interval '30 days',
  'status Canceled: 30 days, even without a release date');
select is(public.refresh_interval('Released', date '2000-01-01', null), null::interval,
  'no as_of: no interval');

-- ---------------------------------------------------------------------------------------
-- days are UTC calendar days, whatever the session time zone
-- ---------------------------------------------------------------------------------------

-- 2026-06-15 23:30 in New York is 2026-06-16 03:30 UTC: "today" is 2026-06-16.
set local timezone = 'America/New_York';
select is(
  public.refresh_interval('Released', date '2026-06-16', '2026-06-15 23:30:00-04'),
  interval '1 day',
  'a date that is today in UTC (but tomorrow in New York) counts as released today'
);
select is(
  public.refresh_interval('Released', date '2026-05-16', '2026-06-15 23:30:00-04'),
  interval '7 days',
  'days since release are counted to the UTC date (31 days, not 30)'
);
-- US DST starts 2026-03-08: a local "1 day" would be 23 hours.
set local timezone = 'America/Los_Angeles';
select is(
  public.compute_next_refresh_at('Released', date '2026-03-01', '2026-03-07 12:00:00+00', null),
  '2026-03-08 12:00:00+00'::timestamptz,
  'one day is 24 hours in every session time zone, across a DST change'
);
select is(
  public.compute_next_refresh_at('Released', date '2026-03-01', '2026-03-07 12:00:00+00', null)
    - '2026-03-07 12:00:00+00'::timestamptz,
  interval '24 hours',
  '… (the difference is exactly 24 hours)'
);
set local timezone = 'UTC';

-- ---------------------------------------------------------------------------------------
-- compute_next_refresh_at
-- ---------------------------------------------------------------------------------------

select is(
  public.compute_next_refresh_at('Released', date '2000-01-01', null, null),
  '-infinity'::timestamptz,
  'never refreshed: due now (-infinity)'
);
select is(
  public.compute_next_refresh_at('Released', date '2026-06-14', null, '2026-06-15 00:00:00+00'),
  '-infinity'::timestamptz,
  'never refreshed wins over missing'
);
select is(
  public.compute_next_refresh_at('Released', date '2026-06-14', '2026-06-15 12:00:00+00',
    '2026-06-01 00:00:00+00'),
  '2026-12-12 12:00:00+00'::timestamptz,
  'missing on TMDB: last_refreshed_at + 180 days, whatever the tier'
);
select is(
  public.compute_next_refresh_at('Released', date '2026-05-17', '2026-06-15 12:00:00+00', null),
  '2026-06-16 12:00:00+00'::timestamptz,
  'released 29 days before the refresh: next refresh 1 day later'
);
select is(
  public.compute_next_refresh_at('Released', date '2026-05-15', '2026-06-15 12:00:00+00', null),
  '2026-06-22 12:00:00+00'::timestamptz,
  'released 31 days before the refresh: next refresh 7 days later'
);
select is(
  public.compute_next_refresh_at('Released', date '2025-06-16', '2026-06-15 12:00:00+00', null),
  '2026-06-22 12:00:00+00'::timestamptz,
  'released 364 days before the refresh: next refresh 7 days later'
);
select is(
  public.compute_next_refresh_at('Released', date '2025-06-14', '2026-06-15 12:00:00+00', null),
  '2026-07-15 12:00:00+00'::timestamptz,
  'released 366 days before the refresh: next refresh 30 days later'
);
select is(
  public.compute_next_refresh_at('Post Production', date '2027-01-01', '2026-06-15 12:00:00+00', null),
  '2026-06-16 12:00:00+00'::timestamptz,
  'announced: next refresh 1 day later'
);

-- Every tier, over a grid of statuses, dates and refresh times, stays within the bounds.
select is_empty(
  $$ select s, d, t
       from unnest(array['Rumored', 'Planned', 'In Production', 'Post Production',
                         'Released', 'Canceled', null]) as s,
            generate_series(-800, 800, 7) as d,
            unnest(array['2026-06-15 12:00:00+00', '2026-03-08 09:00:00+00',
                         '2026-11-01 07:30:00+00']::timestamptz[]) as t,
            lateral (select public.compute_next_refresh_at(s, (t at time zone 'UTC')::date - d,
                                                           t, null) - t as gap) as g
      where g.gap < public.min_refresh_interval() or g.gap > public.max_refresh_interval() $$,
  'no status or release date refreshes more often than every 12 hours or less often than every 180 days'
);

-- ---------------------------------------------------------------------------------------
-- the generated column agrees with the policy
-- ---------------------------------------------------------------------------------------

insert into public.works (tmdb_id, title, status, release_date, last_refreshed_at,
                          tmdb_missing_at, payload_hash, first_ingested_at)
values
  (900001, 'Never refreshed', 'Released', '2020-01-01', null, null, repeat('a', 64), now()),
  (900002, 'In cinemas', 'Released', '2026-06-01', '2026-06-15 12:00:00+00', null, repeat('a', 64), now()),
  (900003, 'Last year', 'Released', '2025-09-01', '2026-06-15 12:00:00+00', null, repeat('a', 64), now()),
  (900004, 'Classic', 'Released', '1960-01-01', '2026-06-15 12:00:00+00', null, repeat('a', 64), now()),
  (900005, 'Announced', 'Planned', null, '2026-06-15 12:00:00+00', null, repeat('a', 64), now()),
  (900006, 'Gone', 'Released', '1999-01-01', '2026-06-15 12:00:00+00', '2026-06-15 12:00:00+00', repeat('a', 64), now());

select results_eq(
  $$ select tmdb_id, next_refresh_at from public.works where tmdb_id > 900000 order by tmdb_id $$,
  $$ values (900001, '-infinity'::timestamptz),
            (900002, '2026-06-16 12:00:00+00'::timestamptz),
            (900003, '2026-06-22 12:00:00+00'::timestamptz),
            (900004, '2026-07-15 12:00:00+00'::timestamptz),
            (900005, '2026-06-16 12:00:00+00'::timestamptz),
            (900006, '2026-12-12 12:00:00+00'::timestamptz) $$,
  'works.next_refresh_at holds each tier''s due time'
);

update public.works set last_refreshed_at = '2026-07-01 00:00:00+00', status = 'Released',
    release_date = '2026-06-30'
  where tmdb_id = 900005;
select is(
  (select next_refresh_at from public.works where tmdb_id = 900005),
  '2026-07-02 00:00:00+00'::timestamptz,
  'next_refresh_at is recomputed when the row changes'
);

select is_empty(
  $$ select tmdb_id from public.works
      where next_refresh_at is distinct from public.compute_next_refresh_at(
        status, release_date, last_refreshed_at, tmdb_missing_at) $$,
  'next_refresh_at equals compute_next_refresh_at() for every work'
);

select throws_ok(
  $$ update public.works set next_refresh_at = now() where tmdb_id = 900001 $$,
  '428C9',
  null,
  'next_refresh_at cannot be written directly'
);

-- ---------------------------------------------------------------------------------------
-- is_stale agrees with next_refresh_at
-- ---------------------------------------------------------------------------------------

select ok(
  public.is_stale(w, '1900-01-01 00:00:00+00'),
  'a never-refreshed work is always stale'
) from public.works as w where w.tmdb_id = 900001;

select ok(
  not public.is_stale(w, '2026-06-16 11:59:59.999999+00'),
  'a work is fresh until its next_refresh_at'
) from public.works as w where w.tmdb_id = 900002;

select ok(
  public.is_stale(w, '2026-06-16 12:00:00+00'),
  'a work is stale from its next_refresh_at on'
) from public.works as w where w.tmdb_id = 900002;

select is(
  (select public.is_stale(id, '2026-06-20 00:00:00+00') from public.works where tmdb_id = 900003),
  false,
  'is_stale(work_id) is false before the due time'
);
select is(
  (select public.is_stale(id, '2026-06-22 12:00:00+00') from public.works where tmdb_id = 900003),
  true,
  'is_stale(work_id) is true at the due time'
);
select is(public.is_stale(-1::bigint), null::boolean, 'is_stale(work_id) of no work is null');

select is_empty(
  $$ select w.tmdb_id, a.as_of
       from public.works as w,
            unnest(array['-infinity', '2026-06-15 12:00:00+00', '2026-06-16 12:00:00+00',
                         '2026-06-22 12:00:00+00', '2026-07-15 12:00:00+00',
                         '2026-12-12 12:00:00+00', 'infinity']::timestamptz[]) as a(as_of)
      where public.is_stale(w, a.as_of) is distinct from (w.next_refresh_at <= a.as_of)
         or public.is_stale(w.id, a.as_of) is distinct from (w.next_refresh_at <= a.as_of) $$,
  'both is_stale() overloads agree with next_refresh_at <= as_of for every work and time'
);

select * from finish();
rollback;
