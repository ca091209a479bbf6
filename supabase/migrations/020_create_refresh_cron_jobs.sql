-- 020_create_refresh_cron_jobs.sql
--
-- What this adds, and why:
--   * public.call_daily_refresh(): calls the daily-refresh Edge Function, which reads TMDB's
--     change feed and queues changed and stale movies into refresh_queue (018/021).
--   * public.call_refresh_worker(): calls the refresh-worker Edge Function, which claims a
--     batch from refresh_queue, re-fetches those movies and finishes the batch.
--   * the cron jobs daily_refresh_enqueue (03:30 PT daily, after scheduled_ingest_daily) and
--     refresh_worker (every 10 minutes).
--
-- Both go through invoke_edge_function() (016): request id, run id and outcome land in
-- edge_function_invocations / edge_function_runs. cron.schedule(name, …) updates an
-- existing job of that name, so applying this file again never duplicates a job.

-- ============================================================================
-- call_daily_refresh
-- ============================================================================

-- Returns the pg_net request id, or null for a cron firing that is not 03:30 Pacific (the
-- job is scheduled at both candidate UTC hours, see is_intended_pacific_time() in 017).
create or replace function public.call_daily_refresh(trigger text default 'manual')
returns bigint
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if call_daily_refresh.trigger is null or call_daily_refresh.trigger not in ('manual', 'cron') then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('trigger must be ''manual'' or ''cron'': current value is %L', call_daily_refresh.trigger);
  end if;

  if call_daily_refresh.trigger = 'cron' and not public.is_intended_pacific_time('03:30') then
    raise notice 'skipped: not 03:30 in America/Los_Angeles'
      using detail = format('local time is %s', now() at time zone 'America/Los_Angeles');
    return null;
  end if;

  return public.invoke_edge_function(
    function_name => 'daily-refresh',
    body => '{}'::jsonb,
    job_name => case when call_daily_refresh.trigger = 'cron' then 'daily_refresh_enqueue' end,
    trigger => call_daily_refresh.trigger,
    -- daily-refresh's own budget is 60 s; pg_net waits 150 s, the Edge Function wall clock.
    timeout_ms => 150000
  );
end;
$$;

comment on function public.call_daily_refresh(text) is
  'Calls the daily-refresh Edge Function; returns the pg_net request id, or null for a cron firing outside 03:30 America/Los_Angeles.';

revoke execute on function public.call_daily_refresh(text) from public, anon, authenticated, service_role;

-- ============================================================================
-- call_refresh_worker
-- ============================================================================

-- No time-of-day guard: it runs every 10 minutes in any time zone.
create or replace function public.call_refresh_worker(trigger text default 'manual')
returns bigint
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if call_refresh_worker.trigger is null or call_refresh_worker.trigger not in ('manual', 'cron') then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('trigger must be ''manual'' or ''cron'': current value is %L', call_refresh_worker.trigger);
  end if;

  return public.invoke_edge_function(
    function_name => 'refresh-worker',
    body => '{}'::jsonb,
    job_name => case when call_refresh_worker.trigger = 'cron' then 'refresh_worker' end,
    trigger => call_refresh_worker.trigger,
    -- refresh-worker's own budget is 110 s (it stops claiming before that).
    timeout_ms => 150000
  );
end;
$$;

comment on function public.call_refresh_worker(text) is
  'Calls the refresh-worker Edge Function (drains refresh_queue); returns the pg_net request id.';

revoke execute on function public.call_refresh_worker(text) from public, anon, authenticated, service_role;

-- ============================================================================
-- Cron jobs (UTC schedules)
-- ============================================================================

-- 03:30 America/Los_Angeles daily = 10:30 UTC (PDT) or 11:30 UTC (PST); the guard picks one.
select cron.schedule(
  'daily_refresh_enqueue',
  '30 10,11 * * *',
  $cmd$select public.call_daily_refresh('cron')$cmd$
);

-- Every 10 minutes. The SQL only queues the HTTP request; refresh-worker's 110 s budget
-- ends long before the next firing, and leases keep overlapping runs apart anyway.
select cron.schedule(
  'refresh_worker',
  '*/10 * * * *',
  $cmd$select public.call_refresh_worker('cron')$cmd$
);
