-- 017_create_scheduled_ingest_cron_jobs.sql
--
-- What this adds, and why:
--   * public.is_intended_pacific_time(): the one DST guard. pg_cron evaluates schedules in
--     UTC and hosted projects cannot change cron.timezone, so a job meant for 03:00 Pacific is
--     scheduled at both UTC hours it can fall on (10:00 in PDT, 11:00 in PST) and its
--     function proceeds only in the firing that is the intended local time.
--   * public.call_scheduled_ingest(): calls the scheduled-ingest Edge Function through
--     invoke_edge_function() (016) with {source, limit}.
--   * the cron jobs scheduled_ingest_daily (03:00 PT, mixed_daily, 30 movies) and
--     scheduled_ingest_weekly (Sundays 02:00 PT, mixed_weekly, 80 movies).
--
-- cron.schedule(name, …) updates the job of that name if it exists, so applying this file
-- again never creates a second job.

-- ============================================================================
-- DST guard
-- ============================================================================

-- True when `at` lies in [intended, intended + tolerance), where intended is local_time on
-- the America/Los_Angeles date of `at` (and that date is weekday local_dow, 0 = Sunday, if
-- given). On the spring-forward Sunday 02:00–02:59 does not exist locally; PostgreSQL reads
-- such a time with the offset in force before the change (02:00 PST = 10:00 UTC), which is
-- the later of the two UTC firings: the job still runs exactly once that day.
create or replace function public.is_intended_pacific_time(
  local_time time,
  at timestamptz default now(),
  local_dow integer default null,
  tolerance interval default '30 minutes'
)
returns boolean
language sql
stable
set search_path = ''
as $$
  select (is_intended_pacific_time.local_dow is null
          or extract(dow from d.local_date) = is_intended_pacific_time.local_dow)
     and i.intended <= is_intended_pacific_time.at
     and is_intended_pacific_time.at < i.intended + is_intended_pacific_time.tolerance
  from (
    select (is_intended_pacific_time.at at time zone 'America/Los_Angeles')::date as local_date
  ) d
  cross join lateral (
    select (d.local_date + is_intended_pacific_time.local_time) at time zone 'America/Los_Angeles' as intended
  ) i
$$;

comment on function public.is_intended_pacific_time(time, timestamptz, integer, interval) is
  'DST guard for cron jobs scheduled at both candidate UTC hours: true only within tolerance after local_time (America/Los_Angeles) on the local date of at (weekday local_dow if given, 0 = Sunday).';

revoke execute on function public.is_intended_pacific_time(time, timestamptz, integer, interval)
  from public, anon, authenticated;
grant execute on function public.is_intended_pacific_time(time, timestamptz, integer, interval)
  to service_role;

-- ============================================================================
-- call_scheduled_ingest
-- ============================================================================

-- Returns the pg_net request id, or null when a cron firing is not the intended local time.
-- trigger 'cron' is for the two jobs below (mixed_weekly follows the weekly job's guard,
-- every other source the daily one's); anything run by hand or on another schedule uses
-- 'manual', which always runs. Security invoker: only the owner (postgres, who also owns
-- the cron jobs) may call it, because invoke_edge_function() is executable by postgres only.
create or replace function public.call_scheduled_ingest(
  source text default 'mixed_daily',
  limit_count integer default 30,
  trigger text default 'manual'
)
returns bigint
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  c_sources constant text[] := array['now_playing', 'popular', 'trending_day', 'trending_week',
                                     'mixed_daily', 'mixed_weekly'];
  v_weekly boolean := call_scheduled_ingest.source = 'mixed_weekly';
begin
  if call_scheduled_ingest.trigger is null or call_scheduled_ingest.trigger not in ('manual', 'cron') then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('trigger must be ''manual'' or ''cron'': current value is %L', call_scheduled_ingest.trigger);
  end if;
  if call_scheduled_ingest.source is null or not (call_scheduled_ingest.source = any (c_sources)) then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('source must be one of %s: current value is %L',
                       array_to_string(c_sources, ', '), call_scheduled_ingest.source);
  end if;
  if limit_count is null or limit_count not between 1 and 200 then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('limit_count must be between 1 and 200: current value is %s',
                       coalesce(limit_count::text, 'NULL'));
  end if;

  if call_scheduled_ingest.trigger = 'cron' then
    if v_weekly and not public.is_intended_pacific_time('02:00', now(), 0) then
      raise notice 'skipped: not Sunday 02:00 in America/Los_Angeles'
        using detail = format('local time is %s', now() at time zone 'America/Los_Angeles');
      return null;
    elsif not v_weekly and not public.is_intended_pacific_time('03:00') then
      raise notice 'skipped: not 03:00 in America/Los_Angeles'
        using detail = format('local time is %s', now() at time zone 'America/Los_Angeles');
      return null;
    end if;
  end if;

  return public.invoke_edge_function(
    function_name => 'scheduled-ingest',
    body => jsonb_build_object('source', call_scheduled_ingest.source, 'limit', limit_count),
    job_name => case
      when call_scheduled_ingest.trigger = 'manual' then null
      when v_weekly then 'scheduled_ingest_weekly'
      else 'scheduled_ingest_daily'
    end,
    trigger => call_scheduled_ingest.trigger,
    -- scheduled-ingest's own budget is 120 s; pg_net waits a little longer than that.
    timeout_ms => 150000
  );
end;
$$;

comment on function public.call_scheduled_ingest(text, integer, text) is
  'Calls the scheduled-ingest Edge Function with {source, limit}; returns the pg_net request id, or null for a cron firing outside the intended Pacific time.';

revoke execute on function public.call_scheduled_ingest(text, integer, text)
  from public, anon, authenticated, service_role;

-- ============================================================================
-- Cron jobs (UTC schedules; the function's guard picks the right firing)
-- ============================================================================

-- 03:00 America/Los_Angeles daily = 10:00 UTC (PDT) or 11:00 UTC (PST).
select cron.schedule(
  'scheduled_ingest_daily',
  '0 10,11 * * *',
  $cmd$select public.call_scheduled_ingest('mixed_daily', 30, 'cron')$cmd$
);

-- 02:00 America/Los_Angeles on Sundays = 09:00 UTC (PDT) or 10:00 UTC (PST), which is
-- Sunday in UTC too, so day-of-week 0 in the UTC schedule is right.
select cron.schedule(
  'scheduled_ingest_weekly',
  '0 9,10 * * 0',
  $cmd$select public.call_scheduled_ingest('mixed_weekly', 80, 'cron')$cmd$
);
