-- 034_overdue_sweep_on_refresh_worker_cron.sql
--
-- What this changes, and why: overdue movies reached the queue only through daily-refresh,
-- once a day and at most its `limit` (default 100, at most 1,000). A whole-catalog mirror
-- (~1.1 M movies, issue "the whole catalog") needs ~150,000 tier refreshes a day, so most
-- overdue movies would never be queued: silently stale. Now every cron firing of
-- refresh_worker (every 10 minutes) first queues up to
-- refresh_worker_settings.overdue_per_firing overdue movies, most overdue first
-- (enqueue_stale_movies: reason stale, priority 100, so ahead of new movies while seeding),
-- then starts chains as before (026). The default, 2,000 per firing, is 288,000 a day: about
-- twice what the freshness tiers need at catalog size, and a twelfth of what TMDB's 40/s
-- allows in the same 10 minutes. 0 turns the sweep off (daily-refresh still tops up).
-- A manual call_refresh_worker() does not sweep: it only starts a run.

alter table public.refresh_worker_settings
  add column if not exists overdue_per_firing integer not null default 2000;

do $$
begin
  if not exists (select 1 from pg_constraint
                  where conname = 'refresh_worker_settings_overdue_per_firing_range') then
    alter table public.refresh_worker_settings
      add constraint refresh_worker_settings_overdue_per_firing_range
      check (overdue_per_firing between 0 and 50000);
  end if;
end;
$$;

comment on column public.refresh_worker_settings.overdue_per_firing is
  'Overdue movies (next_refresh_at passed) a cron firing of refresh_worker queues before it starts chains (0..50000, default 2000; 0: none).';

-- Same signature and answers as 026; a cron firing that is not paused sweeps first.
create or replace function public.call_refresh_worker(trigger text default 'manual')
returns bigint
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_settings public.refresh_worker_settings%rowtype;
  v_in_flight integer;
  v_runs integer := 1;
  v_first bigint;
  v_id bigint;
begin
  if call_refresh_worker.trigger is null or call_refresh_worker.trigger not in ('manual', 'cron') then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('trigger must be ''manual'' or ''cron'': current value is %L', call_refresh_worker.trigger);
  end if;

  if call_refresh_worker.trigger = 'cron' then
    select * into v_settings from public.refresh_worker_settings where id;
    if v_settings.paused then
      raise notice 'skipped: refresh_worker_settings.paused is true';
      return null;
    end if;
    -- The sweep runs even when max_chains runs are in flight: they drain what it queues.
    if v_settings.overdue_per_firing > 0 then
      perform public.enqueue_stale_movies(v_settings.overdue_per_firing);
    end if;
    v_in_flight := public.refresh_worker_runs_in_flight();
    if v_in_flight >= v_settings.max_chains then
      raise notice 'skipped: % refresh-worker run(s) in flight (max_chains %)',
        v_in_flight, v_settings.max_chains;
      return null;
    end if;
    if (select count(*) from (select from public.refresh_queue q
                               where q.status = 'pending' and q.next_attempt_at <= now()
                               limit 200) ready) >= 200 then
      v_runs := v_settings.max_chains - v_in_flight;
    end if;
  end if;

  for i in 1 .. v_runs loop
    v_id := public.invoke_edge_function(
      function_name => 'refresh-worker',
      body => '{}'::jsonb,
      job_name => case when call_refresh_worker.trigger = 'cron' then 'refresh_worker' end,
      trigger => call_refresh_worker.trigger,
      -- refresh-worker's own budget is 110 s (it stops claiming before that).
      timeout_ms => 150000
    );
    v_first := coalesce(v_first, v_id);
  end loop;
  return v_first;
end;
$$;

comment on function public.call_refresh_worker(text) is
  'Calls the refresh-worker Edge Function (drains refresh_queue); a cron firing first queues up to overdue_per_firing overdue movies, then starts chains up to max_chains when 200 items are ready. Returns the (first) pg_net request id, or null for a cron firing while paused or while max_chains runs are in flight.';

revoke execute on function public.call_refresh_worker(text) from public, anon, authenticated, service_role;
