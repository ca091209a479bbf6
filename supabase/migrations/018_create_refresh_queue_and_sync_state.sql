-- 018_create_refresh_queue_and_sync_state.sql
--
-- What this adds, and why:
--   * public.refresh_queue: the work queue of movies to re-fetch from TMDB. daily-refresh
--     fills it (stale movies, and movies TMDB's change feed lists); refresh-worker drains it
--     every 10 minutes. A row is leased to one worker at a time; a crashed worker's rows come
--     back when the lease expires; retries back off exponentially; finished rows are pruned
--     by prune_old_rows() (022).
--   * public.sync_state: one row per synchronisation feed (TMDB's movie change feed), with
--     the watermark of the last window fetched completely.
--   * the queue's functions. Every rule that must hold under concurrency (dedupe, claim,
--     lease ownership, retry) lives here, in SQL, so a worker needs exactly one round trip
--     per step: enqueue, claim a batch, finish a batch.
--
-- Vocabulary: retry_count counts ATTEMPTS MADE and is incremented when a row is claimed, so
-- the attempt number a worker holds is retry_count after its claim (1 for the first try).
-- max_retries is the maximum number of attempts (3 = first try + 2 retries).

-- ============================================================================
-- refresh_queue
-- ============================================================================

create table if not exists public.refresh_queue (
  id bigint generated always as identity,
  work_id bigint not null,
  status text not null default 'pending',
  priority smallint not null default 100,
  reason text not null default 'manual',
  retry_count integer not null default 0,
  max_retries integer not null default 3,
  next_attempt_at timestamptz not null default now(),
  lease_expires_at timestamptz,
  locked_by text,
  last_error text,
  result text,
  queued_at timestamptz not null default now(),
  started_at timestamptz,
  completed_at timestamptz,
  constraint refresh_queue_pkey primary key (id),
  constraint refresh_queue_work_id_fkey foreign key (work_id)
    references public.works (id) on delete cascade,
  constraint refresh_queue_status_check
    check (status in ('pending', 'processing', 'completed', 'failed')),
  constraint refresh_queue_reason_check check (reason in ('changed', 'stale', 'manual')),
  constraint refresh_queue_result_check check (result in ('refreshed', 'unchanged', 'not_found')),
  constraint refresh_queue_retry_count_check check (retry_count >= 0),
  constraint refresh_queue_max_retries_check check (max_retries between 1 and 100),
  constraint refresh_queue_processing_has_lease_check
    check (status <> 'processing' or (lease_expires_at is not null and locked_by is not null))
);

comment on table public.refresh_queue is
  'Movies to re-fetch from TMDB. Lower priority runs first (changed movies 10, stale 100). Leased to one worker at a time; see claim_refresh_batch().';
comment on column public.refresh_queue.retry_count is
  'Attempts made so far, incremented at claim: the attempt number the current holder works on.';
comment on column public.refresh_queue.max_retries is
  'Maximum number of attempts (first try included).';
comment on column public.refresh_queue.lease_expires_at is
  'While processing: when the holder''s lease ends and another worker may reclaim the row.';

-- Dedupe: at most one active (pending or processing) entry per movie; enqueue functions
-- insert with `on conflict do nothing` against this index.
create unique index if not exists refresh_queue_active_work_id_key
  on public.refresh_queue (work_id)
  where status in ('pending', 'processing');

-- Claiming reads ready rows in this order.
create index if not exists refresh_queue_claim_idx
  on public.refresh_queue (priority, next_attempt_at)
  where status = 'pending';

-- Finding expired leases.
create index if not exists refresh_queue_lease_idx
  on public.refresh_queue (lease_expires_at)
  where status = 'processing';

-- Pruning finished rows; also serves the foreign key's cascade (leading work_id).
create index if not exists refresh_queue_work_id_idx on public.refresh_queue (work_id);
create index if not exists refresh_queue_completed_at_idx
  on public.refresh_queue (completed_at)
  where status in ('completed', 'failed');

-- Internal: no API access at all. service_role (edge functions) and postgres bypass RLS.
alter table public.refresh_queue enable row level security;
revoke all on table public.refresh_queue from public, anon, authenticated;
grant select, insert, update, delete on table public.refresh_queue to service_role;

-- ============================================================================
-- sync_state
-- ============================================================================

create table if not exists public.sync_state (
  key text not null default 'tmdb_movie_changes',
  last_sync_at timestamptz,
  changes_watermark timestamptz,
  last_run_id uuid,
  last_error text,
  updated_at timestamptz not null default now(),
  constraint sync_state_pkey primary key (key)
);

comment on table public.sync_state is
  'Progress of each sync feed. changes_watermark = end of the last TMDB change-feed window fetched completely; only record_changes_sync() (021) moves it, forward only.';

insert into public.sync_state (key) values ('tmdb_movie_changes') on conflict (key) do nothing;

-- Signed-in users may see sync progress; anon sees nothing; service_role bypasses RLS.
alter table public.sync_state enable row level security;
revoke all on table public.sync_state from public, anon, authenticated;
grant select on table public.sync_state to authenticated;
grant select, insert, update, delete on table public.sync_state to service_role;

drop policy if exists sync_state_select_authenticated on public.sync_state;
create policy sync_state_select_authenticated on public.sync_state
  for select to authenticated using (true);

-- ============================================================================
-- Enqueueing
-- ============================================================================

-- Queues the given works (unknown ids are ignored: a movie may have been deleted since it
-- was selected). Returns the number of rows inserted; works that already have an active
-- entry are skipped by the partial unique index.
create or replace function public.enqueue_refresh(
  p_work_ids bigint[],
  p_reason text default 'manual',
  p_priority integer default 100
)
returns integer
language sql
volatile
security invoker
set search_path = ''
as $$
  with inserted as (
    insert into public.refresh_queue (work_id, reason, priority)
    select w.id, p_reason, p_priority::smallint
      from public.works w
     where w.id = any (p_work_ids)
     order by w.id
    on conflict (work_id) where status in ('pending', 'processing') do nothing
    returning 1
  )
  select count(*)::integer from inserted
$$;

comment on function public.enqueue_refresh(bigint[], text, integer) is
  'Queues works for refresh (reason changed|stale|manual, lower priority first); skips unknown works and works already queued. Returns rows inserted.';

revoke execute on function public.enqueue_refresh(bigint[], text, integer) from public, anon, authenticated;
grant execute on function public.enqueue_refresh(bigint[], text, integer) to service_role;

-- Queues up to p_limit stale works, most overdue first, read from the works.next_refresh_at
-- index (the catalog's freshness policy; see is_stale()). Works with an active entry are
-- skipped before the limit applies, so a full queue does not starve the next ones.
create or replace function public.enqueue_stale_movies(p_limit integer default 100)
returns integer
language sql
volatile
security invoker
set search_path = ''
as $$
  -- Selection here, insertion through enqueue_refresh(): one place writes queue rows.
  select public.enqueue_refresh(
    array(
      select w.id
        from public.works w
       where w.next_refresh_at <= now()
         and not exists (
           select 1 from public.refresh_queue q
            where q.work_id = w.id and q.status in ('pending', 'processing'))
       order by w.next_refresh_at
       limit greatest(coalesce(p_limit, 100), 0)
    ),
    'stale',
    100
  )
$$;

comment on function public.enqueue_stale_movies(integer) is
  'Queues up to p_limit works whose next_refresh_at has passed, most overdue first, reason stale, priority 100. Returns rows inserted.';

revoke execute on function public.enqueue_stale_movies(integer) from public, anon, authenticated;
grant execute on function public.enqueue_stale_movies(integer) to service_role;

-- Queues the works TMDB's change feed listed, ahead of stale ones (priority 10): only movies
-- we have, and not those refreshed within min_refresh_interval() (a movie edited many times
-- a day is fetched at most every 12 h).
create or replace function public.enqueue_changed_movies(
  p_tmdb_ids integer[],
  p_limit integer default 100
)
returns integer
language sql
volatile
security invoker
set search_path = ''
as $$
  select public.enqueue_refresh(
    array(
      select w.id
        from public.works w
       where w.tmdb_id = any (p_tmdb_ids)
         and (w.last_refreshed_at is null
              or w.last_refreshed_at <= now() - public.min_refresh_interval())
         and not exists (
           select 1 from public.refresh_queue q
            where q.work_id = w.id and q.status in ('pending', 'processing'))
       order by w.last_refreshed_at nulls first, w.id
       limit greatest(coalesce(p_limit, 100), 0)
    ),
    'changed',
    10
  )
$$;

comment on function public.enqueue_changed_movies(integer[], integer) is
  'Queues works whose TMDB ids the change feed listed (reason changed, priority 10), except those refreshed within min_refresh_interval() or already queued. Returns rows inserted.';

revoke execute on function public.enqueue_changed_movies(integer[], integer) from public, anon, authenticated;
grant execute on function public.enqueue_changed_movies(integer[], integer) to service_role;

-- ============================================================================
-- Claiming
-- ============================================================================

create or replace function public.claim_refresh_batch(
  p_worker text,
  p_batch_size integer default 10,
  p_lease_seconds integer default 120
)
returns table (queue_id bigint, work_id bigint, tmdb_id integer, attempt integer)
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if p_worker is null or btrim(p_worker) = '' then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_worker must be a non-empty worker id: current value is %L', p_worker);
  end if;
  if p_batch_size is null or p_batch_size not between 1 and 1000 then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_batch_size must be between 1 and 1000: current value is %s',
                       coalesce(p_batch_size::text, 'NULL'));
  end if;
  if p_lease_seconds is null or p_lease_seconds not between 1 and 3600 then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_lease_seconds must be between 1 and 3600: current value is %s',
                       coalesce(p_lease_seconds::text, 'NULL'));
  end if;

  -- Step 1, the reaper: rows whose holder's lease expired (the worker crashed or ran out of
  -- time) go back to 'pending' if they have attempts left, or fail, saying why, if that was
  -- their last allowed attempt. Doing this here, rather than letting step 2 also pick
  -- expired 'processing' rows, keeps step 2 a plain index scan of the claimable partial
  -- index (an OR across two statuses forces a scan and sort of the whole queue). SKIP
  -- LOCKED: a row locked right now is being finished or reaped by someone else.
  update public.refresh_queue q
     set status = case when q.retry_count >= q.max_retries then 'failed' else 'pending' end,
         completed_at = case when q.retry_count >= q.max_retries then now() end,
         lease_expires_at = null,
         locked_by = case when q.retry_count >= q.max_retries then q.locked_by end,
         last_error = case
           when q.retry_count >= q.max_retries
             then format('lease expired after attempt %s of %s (worker crashed or timed out)',
                         q.retry_count, q.max_retries)
           else format('lease expired during attempt %s of %s (worker crashed or timed out); retrying',
                       q.retry_count, q.max_retries)
         end
   where q.id in (
     select e.id
       from public.refresh_queue e
      where e.status = 'processing'
        and e.lease_expires_at < now()
      for update skip locked
   );

  -- Step 2, the claim. Concurrency: several workers may run this at once (READ COMMITTED).
  --  * FOR UPDATE SKIP LOCKED: a row another claimer has locked is skipped, not waited for,
  --    so concurrent claimers take disjoint rows and never block each other.
  --  * If another claimer locked, updated and committed a row after our snapshot was taken,
  --    FOR UPDATE locks the newest version and re-checks the WHERE clause on it: the row is
  --    now 'processing', fails the check and is dropped. So no row is ever handed to two
  --    workers; a claimer may just get fewer than p_batch_size rows.
  --  * MATERIALIZED: the CTE runs exactly once, so LIMIT bounds the rows locked and updated
  --    (an inlined CTE may be re-evaluated and update more than p_batch_size rows).
  --  * A reaped row's former holder finishes late: its complete/fail no longer matches
  --    (status processing, locked_by, attempt) and changes nothing.
  return query
  with candidates as materialized (
    select c.id
      from public.refresh_queue c
     where c.status = 'pending' and c.next_attempt_at <= now()
     order by c.priority, c.next_attempt_at
     limit p_batch_size
     for update skip locked
  ),
  claimed as (
    update public.refresh_queue q
       set status = 'processing',
           retry_count = q.retry_count + 1,
           locked_by = p_worker,
           lease_expires_at = now() + make_interval(secs => p_lease_seconds),
           started_at = now(),
           completed_at = null
      from candidates c
     where q.id = c.id
    returning q.id, q.work_id, q.retry_count, q.priority, q.next_attempt_at
  )
  select cl.id, cl.work_id, w.tmdb_id, cl.retry_count
    from claimed cl
    join public.works w on w.id = cl.work_id
   order by cl.priority, cl.next_attempt_at, cl.id;
end;
$$;

comment on function public.claim_refresh_batch(text, integer, integer) is
  'Leases up to p_batch_size ready rows to p_worker for p_lease_seconds (priority order) and returns (queue_id, work_id, tmdb_id, attempt). Rows whose lease expired go back to pending, or fail if that was their last attempt.';

revoke execute on function public.claim_refresh_batch(text, integer, integer) from public, anon, authenticated;
grant execute on function public.claim_refresh_batch(text, integer, integer) to service_role;

-- ============================================================================
-- Finishing: one implementation (batch), single-row forms are thin wrappers
-- ============================================================================

-- p_results: [{queue_id, attempt, ok, result?, error?, retryable?}, …]
--   ok = true  → result 'refreshed' | 'unchanged' | 'not_found' → 'completed'
--   ok = false → 'retry' (pending again after a capped exponential backoff with jitter:
--                least(3600, 30 * 2^(attempt-1)) s × 0.8–1.2) while attempts remain and
--                retryable (default true), else 'failed' keeping the error.
-- A row changes only while p_worker still holds it: status processing, locked_by = p_worker,
-- retry_count = attempt, lease not expired. Otherwise nothing changes and the item reports
-- 'lost_lease' (its lease expired, maybe another worker has it now, or it was finished).
-- The UPDATE re-checks those conditions on the locked row, so a reclaim committed a moment
-- earlier also makes the update a no-op.
-- Returns {"completed": n, "retried": n, "failed": n, "lost_lease": n,
--          "items": [{"queue_id", "outcome"}, …]} (items in input order; outcome is
--          'completed' | 'retry' | 'failed' | 'lost_lease').
create or replace function public.finish_refresh_batch(p_worker text, p_results jsonb)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_bad jsonb;
  v_dup text;
  v_out jsonb;
begin
  if p_worker is null or btrim(p_worker) = '' then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_worker must be a non-empty worker id: current value is %L', p_worker);
  end if;
  if p_results is null or jsonb_typeof(p_results) <> 'array' then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_results must be a JSON array: current value is %s', coalesce(p_results::text, 'NULL'));
  end if;

  -- Validate every item before changing anything (CASE: no cast is tried on a bad value).
  select e into v_bad
    from jsonb_array_elements(p_results) e
   where not case
           when jsonb_typeof(e) <> 'object' then false
           when coalesce(e ->> 'queue_id', '') !~ '^[0-9]{1,18}$' then false
           when coalesce(e ->> 'attempt', '') !~ '^[0-9]{1,9}$' then false
           when jsonb_typeof(e -> 'ok') is distinct from 'boolean' then false
           when e ? 'retryable' and jsonb_typeof(e -> 'retryable') not in ('boolean', 'null') then false
           when (e ->> 'ok')::boolean then coalesce(e ->> 'result' in ('refreshed', 'unchanged', 'not_found'), false)
           else true
         end
   limit 1;
  if v_bad is not null then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_results items must be {queue_id: int, attempt: int, ok: bool, result: refreshed|unchanged|not_found when ok, error?: text, retryable?: bool}: invalid item %s', v_bad);
  end if;

  select d.queue_id into v_dup
    from (select e ->> 'queue_id' as queue_id
            from jsonb_array_elements(p_results) e
           group by 1
          having count(*) > 1) d
   limit 1;
  if v_dup is not null then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_results lists queue_id %s more than once', v_dup);
  end if;

  with input as (
    select (e ->> 'queue_id')::bigint as queue_id,
           (e ->> 'attempt')::integer as attempt,
           (e ->> 'ok')::boolean as ok,
           e ->> 'result' as result,
           coalesce(nullif(e ->> 'error', ''), 'unknown error') as error,
           coalesce((e ->> 'retryable')::boolean, true) as retryable,
           t.ord
      from jsonb_array_elements(p_results) with ordinality as t(e, ord)
  ),
  updated as (
    update public.refresh_queue q
       set status = case
             when i.ok then 'completed'
             when i.retryable and q.retry_count < q.max_retries then 'pending'
             else 'failed'
           end,
           result = case when i.ok then i.result end,
           last_error = case when i.ok then q.last_error else left(i.error, 2000) end,
           next_attempt_at = case
             when not i.ok and i.retryable and q.retry_count < q.max_retries then
               now() + make_interval(secs =>
                 least(3600, 30 * power(2, q.retry_count - 1)) * (0.8 + 0.4 * random()))
             else q.next_attempt_at
           end,
           lease_expires_at = null,
           locked_by = case
             when not i.ok and i.retryable and q.retry_count < q.max_retries then null
             else q.locked_by
           end,
           completed_at = case
             when i.ok or not (i.retryable and q.retry_count < q.max_retries) then now()
           end
      from input i
     where q.id = i.queue_id
       and q.status = 'processing'
       and q.locked_by = p_worker
       and q.retry_count = i.attempt
       and q.lease_expires_at > now()
    returning q.id,
              case q.status when 'completed' then 'completed' when 'pending' then 'retry'
                            else 'failed' end as outcome
  ),
  outcomes as (
    select i.queue_id, coalesce(u.outcome, 'lost_lease') as outcome, i.ord
      from input i
      left join updated u on u.id = i.queue_id
  )
  select jsonb_build_object(
           'completed', count(*) filter (where o.outcome = 'completed'),
           'retried', count(*) filter (where o.outcome = 'retry'),
           'failed', count(*) filter (where o.outcome = 'failed'),
           'lost_lease', count(*) filter (where o.outcome = 'lost_lease'),
           'items', coalesce(jsonb_agg(jsonb_build_object('queue_id', o.queue_id, 'outcome', o.outcome)
                                       order by o.ord), '[]'::jsonb))
    into v_out
    from outcomes o;

  return v_out;
end;
$$;

comment on function public.finish_refresh_batch(text, jsonb) is
  'Finishes a claimed batch in one call: [{queue_id, attempt, ok, result?, error?, retryable?}] → {completed, retried, failed, lost_lease, items:[{queue_id, outcome}]}. Only rows p_worker still holds (same attempt, live lease) change.';

revoke execute on function public.finish_refresh_batch(text, jsonb) from public, anon, authenticated;
grant execute on function public.finish_refresh_batch(text, jsonb) to service_role;

-- True when the row was completed; false when p_worker no longer held it (nothing changed).
create or replace function public.complete_refresh(
  p_queue_id bigint,
  p_worker text,
  p_attempt integer,
  p_result text
)
returns boolean
language sql
volatile
security invoker
set search_path = ''
as $$
  select public.finish_refresh_batch(
           p_worker,
           jsonb_build_array(jsonb_build_object(
             'queue_id', p_queue_id, 'attempt', p_attempt, 'ok', true, 'result', p_result)))
         -> 'items' -> 0 ->> 'outcome' = 'completed'
$$;

comment on function public.complete_refresh(bigint, text, integer, text) is
  'Marks a held row completed with result refreshed|unchanged|not_found; false (and no change) when p_worker no longer holds that attempt.';

revoke execute on function public.complete_refresh(bigint, text, integer, text) from public, anon, authenticated;
grant execute on function public.complete_refresh(bigint, text, integer, text) to service_role;

-- 'retry' | 'failed' | 'lost_lease' (see finish_refresh_batch).
create or replace function public.fail_refresh(
  p_queue_id bigint,
  p_worker text,
  p_attempt integer,
  p_error text,
  p_retryable boolean default true
)
returns text
language sql
volatile
security invoker
set search_path = ''
as $$
  select public.finish_refresh_batch(
           p_worker,
           jsonb_build_array(jsonb_build_object(
             'queue_id', p_queue_id, 'attempt', p_attempt, 'ok', false, 'error', p_error,
             'retryable', coalesce(p_retryable, true))))
         -> 'items' -> 0 ->> 'outcome'
$$;

comment on function public.fail_refresh(bigint, text, integer, text, boolean) is
  'Records a failed attempt of a held row: ''retry'' (backoff, attempts left and retryable), ''failed'' (keeps p_error) or ''lost_lease'' (no change).';

revoke execute on function public.fail_refresh(bigint, text, integer, text, boolean) from public, anon, authenticated;
grant execute on function public.fail_refresh(bigint, text, integer, text, boolean) to service_role;

-- ============================================================================
-- Status
-- ============================================================================

-- {"pending", "processing", "completed", "failed", "ready" (pending and due now),
--  "expired_leases" (processing past their lease), "oldest_ready_at"}
create or replace function public.refresh_queue_stats()
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select jsonb_build_object(
    'pending', count(*) filter (where q.status = 'pending'),
    'processing', count(*) filter (where q.status = 'processing'),
    'completed', count(*) filter (where q.status = 'completed'),
    'failed', count(*) filter (where q.status = 'failed'),
    'ready', count(*) filter (where q.status = 'pending' and q.next_attempt_at <= now()),
    'expired_leases', count(*) filter (where q.status = 'processing' and q.lease_expires_at < now()),
    'oldest_ready_at', min(q.next_attempt_at) filter (where q.status = 'pending' and q.next_attempt_at <= now())
  )
  from public.refresh_queue q
$$;

comment on function public.refresh_queue_stats() is
  'Queue counts by status plus ready and expired-lease counts, as jsonb.';

revoke execute on function public.refresh_queue_stats() from public, anon, authenticated;
grant execute on function public.refresh_queue_stats() to service_role;
