-- 026_refresh_worker_chains.sql
--
-- What this adds, and why: a refresh-worker run fits the edge runtime's 2 s of CPU per
-- request by stopping with margin (its CPU budget) or at its wall-clock budget. When it
-- stops for a budget and due work remains, the next run should start at once rather than at
-- the next 10-minute cron tick: the run's last SQL call, public.continue_refresh_worker(),
-- queues the next invocation through pg_net (trigger 'continuation', visible in
-- edge_function_runs). A run and its continuations form a chain.
--
-- Bounds (public.refresh_worker_settings, one row, for operators):
--   * max_chains (default 2): no continuation while that many other refresh-worker runs are
--     in flight (invoked in the last 15 minutes, no response recorded yet); a cron firing
--     starts chains up to it when at least a run's worth of items is ready (one otherwise),
--     and restarts a chain that died. They share one TMDB token bucket (027), so more chains
--     never mean more than the rate: two fill the gap while one hands over to its next run,
--     and at TMDB's latency either alone keeps the bucket busy.
--   * max_continuations_per_hour: a cap on continuations queued in any hour.
--   * paused: no continuation, and the cron job starts nothing; a manual call still runs.
-- A chain also stops when no item is ready, and when a run stopped for anything but a
-- budget (TMDB failing trips the worker's breaker: it does not continue). A link killed by
-- the runtime (546) or a crash queues nothing: its leased items come back when the lease
-- expires and cron starts the next chain. docs/functions.md explains how to stop a chain.

-- ============================================================================
-- refresh_worker_settings
-- ============================================================================

create table if not exists public.refresh_worker_settings (
  id boolean not null default true,
  max_chains integer not null default 2,
  max_continuations_per_hour integer not null default 240,
  paused boolean not null default false,
  updated_at timestamptz not null default now(),
  constraint refresh_worker_settings_pkey primary key (id),
  constraint refresh_worker_settings_one_row check (id),
  constraint refresh_worker_settings_max_chains_range check (max_chains between 1 and 20),
  constraint refresh_worker_settings_max_continuations_range
    check (max_continuations_per_hour between 0 and 10000)
);

comment on table public.refresh_worker_settings is
  'How refresh-worker runs continue each other (one row): max_chains at once, '
  'max_continuations_per_hour, paused. Change it with UPDATE as the database owner.';

insert into public.refresh_worker_settings (id) values (true) on conflict (id) do nothing;

-- Internal: RLS on, no policies; service_role may read it, postgres (owner) changes it.
alter table public.refresh_worker_settings enable row level security;
revoke all on table public.refresh_worker_settings from public, anon, authenticated;
grant select on table public.refresh_worker_settings to service_role;

-- ============================================================================
-- refresh_worker_runs_in_flight
-- ============================================================================

-- refresh-worker calls made through pg_net in the last 15 minutes (longer than any run can
-- last: 400 s wall clock at most) that have no response yet, except p_except_run_id's.
create or replace function public.refresh_worker_runs_in_flight(p_except_run_id uuid default null)
returns integer
language sql
stable
security invoker
set search_path = ''
as $$
  select count(*)::integer
    from public.edge_function_invocations i
   where i.function_name = 'refresh-worker'
     and i.invoked_at > now() - interval '15 minutes'
     and i.run_id is distinct from p_except_run_id
     and not exists (select from net._http_response r where r.id = i.request_id)
$$;

comment on function public.refresh_worker_runs_in_flight(uuid) is
  'refresh-worker calls queued or running (invoked in the last 15 minutes, no pg_net response yet), except the given run.';

revoke execute on function public.refresh_worker_runs_in_flight(uuid) from public, anon, authenticated;
grant execute on function public.refresh_worker_runs_in_flight(uuid) to service_role;

-- ============================================================================
-- continue_refresh_worker
-- ============================================================================

-- Called by a refresh-worker run that stopped for its budget. Queues the next run (trigger
-- 'continuation', body p_body + chain_id + chain_link + 1) unless a bound says no, and says
-- which: {"continued": true, "reason": "queued", "request_id": n, "run_id": uuid} or
-- {"continued": false, "reason": "paused" | "queue_empty" | "chain_limit" | "hourly_cap"}.
-- Security invoker: only the owner (postgres, the functions' database role) may call it,
-- because invoke_edge_function() is executable by postgres only.
create or replace function public.continue_refresh_worker(
  p_run_id uuid,
  p_chain_id uuid,
  p_chain_link integer,
  p_body jsonb default '{}'::jsonb
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_settings public.refresh_worker_settings%rowtype;
  v_request_id bigint;
begin
  if p_run_id is null or p_chain_id is null then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_run_id and p_chain_id are required: current values are %s, %s',
                       coalesce(p_run_id::text, 'NULL'), coalesce(p_chain_id::text, 'NULL'));
  end if;
  if p_chain_link is null or p_chain_link < 1 then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_chain_link must be a positive integer: current value is %s',
                       coalesce(p_chain_link::text, 'NULL'));
  end if;
  if p_body is null or jsonb_typeof(p_body) <> 'object' then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_body must be a JSON object: current value is %s', coalesce(p_body::text, 'NULL'));
  end if;

  -- The settings row is locked for the decision: two runs finishing at once cannot both
  -- see room for one more chain.
  select * into v_settings from public.refresh_worker_settings where id for update;

  if v_settings.paused then
    return jsonb_build_object('continued', false, 'reason', 'paused');
  end if;
  if not exists (
    select from public.refresh_queue q
     where q.status = 'pending' and q.next_attempt_at <= now()
  ) then
    return jsonb_build_object('continued', false, 'reason', 'queue_empty');
  end if;
  if public.refresh_worker_runs_in_flight(p_run_id) >= v_settings.max_chains then
    return jsonb_build_object('continued', false, 'reason', 'chain_limit');
  end if;
  if (select count(*) from public.edge_function_invocations i
       where i.function_name = 'refresh-worker' and i.trigger = 'continuation'
         and i.invoked_at > now() - interval '1 hour') >= v_settings.max_continuations_per_hour then
    return jsonb_build_object('continued', false, 'reason', 'hourly_cap');
  end if;

  v_request_id := public.invoke_edge_function(
    function_name => 'refresh-worker',
    body => p_body || jsonb_build_object('chain_id', p_chain_id, 'chain_link', p_chain_link + 1),
    job_name => null,
    trigger => 'continuation',
    timeout_ms => 150000
  );
  return jsonb_build_object(
    'continued', true,
    'reason', 'queued',
    'request_id', v_request_id,
    'run_id', (select i.run_id from public.edge_function_invocations i where i.request_id = v_request_id)
  );
end;
$$;

comment on function public.continue_refresh_worker(uuid, uuid, integer, jsonb) is
  'Queues the next refresh-worker run of a chain (trigger continuation) unless paused, no item is ready, max_chains other runs are in flight or the hourly cap is reached; returns {continued, reason, request_id?, run_id?}.';

revoke execute on function public.continue_refresh_worker(uuid, uuid, integer, jsonb)
  from public, anon, authenticated, service_role;

-- ============================================================================
-- call_refresh_worker: cron starts a chain only when there is room for one
-- ============================================================================

-- Same signature as 020. A cron firing is skipped (null, with a notice) while the worker is
-- paused or max_chains runs are in flight; otherwise it starts one run, and more (up to
-- max_chains runs in flight) when at least 200 items are ready, returning the first one's
-- request id. A manual call always starts exactly one run.
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
  'Calls the refresh-worker Edge Function (drains refresh_queue); a cron firing starts chains up to max_chains when 200 items are ready. Returns the (first) pg_net request id, or null for a cron firing while paused or while max_chains runs are in flight.';

revoke execute on function public.call_refresh_worker(text) from public, anon, authenticated, service_role;
