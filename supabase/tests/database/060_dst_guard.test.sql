-- 060_dst_guard.test.sql
-- public.is_intended_pacific_time(): each Pacific-time job is scheduled at both UTC hours its
-- local time can fall on, and the guard must let exactly ONE firing through per local day
-- (per Sunday for the weekly job), the one at the intended local time: every day of the
-- weeks around the 2026 DST changes (2026-03-08 spring forward, 2026-11-01 fall back) and
-- a normal summer week, for each job's UTC firings.
begin;
select plan(17);

-- Every day checked: the two weeks around each change and one normal week.
create temp table t_days on commit drop as
  select d::date as day
    from generate_series(date '2026-03-01', date '2026-03-15', interval '1 day') d
  union all
  select d::date from generate_series(date '2026-10-25', date '2026-11-08', interval '1 day') d
  union all
  select d::date from generate_series(date '2026-06-14', date '2026-06-20', interval '1 day') d;

-- job, local time, weekday (null = daily), UTC hours of its two firings (as in cron.job).
create temp table t_jobs (job text, local_time time, local_dow integer, utc_hours time[]) on commit drop;
insert into t_jobs values
  ('scheduled_ingest_daily', '03:00', null, array['10:00', '11:00']::time[]),
  ('daily_refresh_enqueue', '03:30', null, array['10:30', '11:30']::time[]),
  ('scheduled_ingest_weekly', '02:00', 0, array['09:00', '10:00']::time[]);

-- Every firing pg_cron makes on those days (the weekly job only fires on UTC Sundays).
create temp table t_firings on commit drop as
  select j.job, j.local_time, j.local_dow, f.at,
         (f.at at time zone 'America/Los_Angeles')::date as local_date,
         public.is_intended_pacific_time(j.local_time, f.at, j.local_dow) as passes
    from t_jobs j
    cross join t_days d
    cross join lateral (
      select (d.day + h) at time zone 'UTC' as at from unnest(j.utc_hours) h
    ) f
   where j.local_dow is null or extract(dow from d.day) = 0;

select is((select count(*)::int from t_firings where job = 'scheduled_ingest_daily'), 74,
          '37 days x 2 firings checked for the 03:00 job');
select is((select count(*)::int from t_firings where job = 'scheduled_ingest_weekly'), 14,
          '7 Sundays x 2 firings checked for the weekly job');

-- The firings of one job on one UTC day all fall on the same Los Angeles date.
select is_empty(
  $$ select job, (at at time zone 'UTC')::date from t_firings
      group by 1, 2 having count(distinct local_date) <> 1 $$,
  'both firings of a day fall on the same local date');

select is_empty(
  $$ select local_date, count(*) filter (where passes) as passing
       from t_firings where job = 'scheduled_ingest_daily'
      group by local_date having count(*) filter (where passes) <> 1 $$,
  'scheduled_ingest_daily: exactly one of 10:00/11:00 UTC passes on every local day');
select is_empty(
  $$ select local_date, at from t_firings
      where job = 'scheduled_ingest_daily' and passes
        and (at at time zone 'America/Los_Angeles')::time <> '03:00' $$,
  'scheduled_ingest_daily: the passing firing is 03:00 in Los Angeles');

select is_empty(
  $$ select local_date, count(*) filter (where passes) as passing
       from t_firings where job = 'daily_refresh_enqueue'
      group by local_date having count(*) filter (where passes) <> 1 $$,
  'daily_refresh_enqueue: exactly one of 10:30/11:30 UTC passes on every local day');
select is_empty(
  $$ select local_date, at from t_firings
      where job = 'daily_refresh_enqueue' and passes
        and (at at time zone 'America/Los_Angeles')::time <> '03:30' $$,
  'daily_refresh_enqueue: the passing firing is 03:30 in Los Angeles');

select is_empty(
  $$ select local_date, count(*) filter (where passes) as passing
       from t_firings where job = 'scheduled_ingest_weekly'
      group by local_date having count(*) filter (where passes) <> 1 $$,
  'scheduled_ingest_weekly: exactly one of 09:00/10:00 UTC passes on every Sunday');
select is_empty(
  $$ select local_date, at from t_firings
      where job = 'scheduled_ingest_weekly' and passes
        and (extract(dow from local_date) <> 0
             or at <> (local_date + time '02:00') at time zone 'America/Los_Angeles') $$,
  'scheduled_ingest_weekly: the passing firing is Sunday 02:00 in Los Angeles');

-- The transitions, spelled out.
select results_eq(
  $$ select at, passes from t_firings
      where job = 'scheduled_ingest_weekly' and local_date = '2026-03-08' order by at $$,
  $$ values ('2026-03-08 09:00+00'::timestamptz, false), ('2026-03-08 10:00+00'::timestamptz, true) $$,
  'spring forward (02:00 does not exist): 09:00 UTC = 01:00 PST is skipped, 10:00 UTC = 03:00 PDT runs');
select results_eq(
  $$ select at, passes from t_firings
      where job = 'scheduled_ingest_weekly' and local_date = '2026-11-01' order by at $$,
  $$ values ('2026-11-01 09:00+00'::timestamptz, false), ('2026-11-01 10:00+00'::timestamptz, true) $$,
  'fall back: 09:00 UTC = 01:00 PST (the second 01:00) is skipped, 10:00 UTC = 02:00 PST runs');
select results_eq(
  $$ select local_date, at from t_firings
      where job = 'scheduled_ingest_daily' and passes
        and local_date in ('2026-03-07', '2026-03-08', '2026-10-31', '2026-11-01')
      order by local_date $$,
  $$ values ('2026-03-07'::date, '2026-03-07 11:00+00'::timestamptz),
            ('2026-03-08'::date, '2026-03-08 10:00+00'::timestamptz),
            ('2026-10-31'::date, '2026-10-31 10:00+00'::timestamptz),
            ('2026-11-01'::date, '2026-11-01 11:00+00'::timestamptz) $$,
  'daily 03:00: 11:00 UTC in PST, 10:00 UTC in PDT, switching on the change days');

-- Tolerance and weekday.
select is(public.is_intended_pacific_time('03:00', '2026-06-15 10:29:59+00'), true,
          'within the tolerance (30 min) after the intended time: passes');
select is(public.is_intended_pacific_time('03:00', '2026-06-15 10:30:00+00'), false,
          'at intended + tolerance: does not pass');
select is(public.is_intended_pacific_time('03:00', '2026-06-15 09:59:59+00'), false,
          'a second early: does not pass');
select is(public.is_intended_pacific_time('02:00', '2026-06-15 09:00:00+00', 0), false,
          'weekday given: 02:00 on a Monday does not pass for Sunday');
select is(public.is_intended_pacific_time('03:00', '2026-06-15 10:05:00+00', null, '1 minute'), false,
          'a custom tolerance is honoured');

select * from finish();
rollback;
