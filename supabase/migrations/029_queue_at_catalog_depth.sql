-- 029_queue_at_catalog_depth.sql
--
-- What this changes, and why: the queue is to carry the whole catalog (issue 12): about
-- 1.1 million movies found in TMDB's daily id export, most of them not yet in `works`.
--   * refresh_queue.tmdb_id (not null, backfilled from works): a row names the movie to
--     fetch by its TMDB id; work_id is null for a movie the catalog does not hold yet.
--   * Two reasons: 'new' (an id of the export that the catalog lacks; refresh-worker's
--     /movie/{id} answer inserts the work, a 404 finishes the row not_found and writes
--     nothing) and 'recheck' (a catalog movie absent from two exports: one /movie/{id}
--     request decides, a 404 marks it missing through mark_movie_not_found()).
--   * One active (pending or processing) row per tmdb_id, instead of per work_id.
--   * public.new_movie_priority(popularity), public.enqueue_new_movies(ids, popularities)
--     and public.enqueue_recheck(ids).
--   * claim_refresh_batch() returns the row's own tmdb_id (no join to works, so rows without
--     a work are claimed and returned like the others); finish_and_claim_refresh_batch() and
--     refresh_worker_step() call it and are unchanged.
--   * Depth: the claim and the finish read indexes only (partial indexes on the live
--     states, the primary key), rows are appended in claim order, and the table's
--     fillfactor and autovacuum settings suit a table whose every row is updated twice.
--
-- Priorities (lower runs first): changed 10, stale 100, manual 100 (018's defaults),
-- recheck 150, new 1000–5000 by popularity (new_movie_priority). Existing movies stay fresh
-- while the catalog seeds: a day's changed and stale rows run before the seeding backlog.

-- ============================================================================
-- refresh_queue: tmdb_id, nullable work_id, new reasons
-- ============================================================================

alter table public.refresh_queue add column if not exists tmdb_id integer;

-- Every existing row has a work (018 required one); works.tmdb_id never changes.
update public.refresh_queue q
   set tmdb_id = w.tmdb_id
  from public.works w
 where w.id = q.work_id
   and q.tmdb_id is null;

alter table public.refresh_queue alter column tmdb_id set not null;
alter table public.refresh_queue alter column work_id drop not null;

alter table public.refresh_queue drop constraint if exists refresh_queue_reason_check;
alter table public.refresh_queue add constraint refresh_queue_reason_check
  check (reason in ('changed', 'stale', 'manual', 'new', 'recheck'));
alter table public.refresh_queue add constraint refresh_queue_tmdb_id_check check (tmdb_id > 0);
-- Only a movie new to the catalog is queued without its work.
alter table public.refresh_queue add constraint refresh_queue_work_id_required_check
  check (work_id is not null or reason = 'new');

comment on table public.refresh_queue is
  'Movies to fetch from TMDB by tmdb_id. Lower priority runs first (changed 10, stale and manual 100, recheck 150, new 1000–5000 by popularity). Leased to one worker at a time; see claim_refresh_batch().';
comment on column public.refresh_queue.tmdb_id is
  'The TMDB movie to fetch (/movie/{tmdb_id}); one active (pending or processing) row per tmdb_id.';
comment on column public.refresh_queue.work_id is
  'The catalog work, or null for a row queued as new (the movie was not in works when queued; its first answer inserts the work).';

-- Dedupe by TMDB id: at most one active entry per movie, whether the catalog holds it or
-- not. It replaces 018's index on work_id (same rows for movies in works); every enqueue
-- function inserts with `on conflict (tmdb_id) where status in (…) do nothing`.
drop index if exists public.refresh_queue_active_work_id_key;
create unique index if not exists refresh_queue_active_tmdb_id_key
  on public.refresh_queue (tmdb_id)
  where status in ('pending', 'processing');

-- The foreign key's cascade (delete a work → its rows) looks rows up by work_id; rows queued
-- as new have none, so they stay out of this index (a million of them while seeding).
drop index if exists public.refresh_queue_work_id_idx;
create index if not exists refresh_queue_work_id_idx
  on public.refresh_queue (work_id)
  where work_id is not null;

-- Storage and autovacuum, for a queue a million rows deep (see docs/schema.md):
--   * fillfactor 80: a claim and a finish each write a new version of the row, and never as
--     a HOT update (status is in the partial indexes' predicates). Postgres puts the new
--     version on the same page when there is room, so 20 % free space per page keeps a
--     row's versions together and lets page pruning reclaim the dead ones between vacuums,
--     instead of every update extending the table.
--   * autovacuum after 1 % of the rows (+1,000) are dead, not the default 20 % (+50): at
--     1 M rows that is ~11,000 dead versions instead of ~200,000. Until vacuum removes them,
--     dead versions cost every claim heap visits through the claim index and bloat the
--     table and its indexes; vacuuming often keeps each vacuum short.
--   * analyze after 2 % changed rows: the claim's plan (index scan of the claimable partial
--     index) relies on statistics that know how many rows are pending.
--   * vacuum after inserts of 5 % of the table: a bulk enqueue of new ids gets its pages
--     marked all-visible and frozen soon, not in one long anti-wraparound vacuum later.
alter table public.refresh_queue set (
  fillfactor = 80,
  autovacuum_vacuum_scale_factor = 0.01,
  autovacuum_vacuum_threshold = 1000,
  autovacuum_analyze_scale_factor = 0.02,
  autovacuum_analyze_threshold = 1000,
  autovacuum_vacuum_insert_scale_factor = 0.05
);

-- ============================================================================
-- Enqueueing works (018's functions, deduped by tmdb_id)
-- ============================================================================

-- Same signature and rules as 018; the row gets the work's tmdb_id.
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
    insert into public.refresh_queue (work_id, tmdb_id, reason, priority)
    select w.id, w.tmdb_id, p_reason, p_priority::smallint
      from public.works w
     where w.id = any (p_work_ids)
     order by w.id
    on conflict (tmdb_id) where status in ('pending', 'processing') do nothing
    returning 1
  )
  select count(*)::integer from inserted
$$;

comment on function public.enqueue_refresh(bigint[], text, integer) is
  'Queues works for refresh (reason changed|stale|manual|recheck, lower priority first); skips unknown works and movies already queued. Returns rows inserted.';

revoke execute on function public.enqueue_refresh(bigint[], text, integer) from public, anon, authenticated;
grant execute on function public.enqueue_refresh(bigint[], text, integer) to service_role;

-- Same signature and rules as 018; a movie already queued (also as new) is skipped before
-- the limit applies.
create or replace function public.enqueue_stale_movies(p_limit integer default 100)
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
       where w.next_refresh_at <= now()
         and not exists (
           select 1 from public.refresh_queue q
            where q.tmdb_id = w.tmdb_id and q.status in ('pending', 'processing'))
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

-- Same signature and rules as 018, deduped by tmdb_id.
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
            where q.tmdb_id = w.tmdb_id and q.status in ('pending', 'processing'))
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
-- New movies and rechecks (from the daily export)
-- ============================================================================

-- 1000 + 1000 × (4 − log10(1 + popularity)), clamped to 1000..5000: one step per 1/1000 of
-- a decade, so more popular movies run first (popularity ≥ 9,999 → 1000; 99 → 3000;
-- 0, negative, NaN or unknown → 5000). Always after changed (10), stale (100) and recheck
-- (150) rows: seeding never delays keeping the catalog fresh.
create or replace function public.new_movie_priority(popularity double precision)
returns smallint
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
  select case
           when popularity is null or popularity = 'NaN'::double precision or popularity <= 0
             then 5000
           when popularity >= 9999 then 1000
           else 1000 + round(1000 * (4 - log(1 + popularity)))
         end::smallint
$$;

comment on function public.new_movie_priority(double precision) is
  'Queue priority of a movie new to the catalog from its export popularity: 1000 (most popular, ≥ 9,999) to 5000 (0 or unknown), log scale; after changed (10), stale (100) and recheck (150).';

revoke execute on function public.new_movie_priority(double precision) from public, anon, authenticated;
grant execute on function public.new_movie_priority(double precision) to service_role;

-- Queues TMDB ids the catalog does not hold (reason new, work_id null, priority from
-- p_popularity, which pairs with p_tmdb_ids by position; null = all unknown). Skips ids
-- already in works and ids already queued; an id listed twice counts once (its highest
-- popularity). Rows are inserted in claim order (priority, then id), so the claim reads
-- the table's pages in the order they were written. Returns rows inserted.
create or replace function public.enqueue_new_movies(
  p_tmdb_ids bigint[],
  p_popularity double precision[]
)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_bad text;
  v_rows integer;
begin
  if p_tmdb_ids is null then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = 'p_tmdb_ids must be an array of TMDB ids: current value is NULL';
  end if;
  if p_popularity is not null
     and coalesce(cardinality(p_popularity), 0) <> coalesce(cardinality(p_tmdb_ids), 0) then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_popularity must have one value per id (or be null): %s ids, %s popularities',
                       cardinality(p_tmdb_ids), cardinality(p_popularity));
  end if;
  select coalesce(i::text, 'NULL') into v_bad
    from unnest(p_tmdb_ids) i
   where i is null or i not between 1 and 2147483647
   limit 1;
  if found then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_tmdb_ids must hold TMDB ids between 1 and 2147483647: invalid id %s', v_bad);
  end if;

  insert into public.refresh_queue (tmdb_id, reason, priority)
  select n.tmdb_id, 'new', public.new_movie_priority(n.popularity)
    from (select distinct on (t.id) t.id::integer as tmdb_id, t.popularity
            from unnest(p_tmdb_ids, p_popularity) as t(id, popularity)
           order by t.id, t.popularity desc nulls last) n
   where not exists (select from public.works w where w.tmdb_id = n.tmdb_id)
   order by public.new_movie_priority(n.popularity), n.tmdb_id
  on conflict (tmdb_id) where status in ('pending', 'processing') do nothing;
  get diagnostics v_rows = row_count;
  return v_rows;
end;
$$;

comment on function public.enqueue_new_movies(bigint[], double precision[]) is
  'Queues TMDB ids not in works (reason new, no work, priority new_movie_priority(popularity)); skips ids in works or already queued. Returns rows inserted.';

revoke execute on function public.enqueue_new_movies(bigint[], double precision[]) from public, anon, authenticated;
grant execute on function public.enqueue_new_movies(bigint[], double precision[]) to service_role;

-- Queues catalog movies that two exports in a row did not list (reason recheck, priority
-- 150): one /movie/{id} request decides; a 404 marks the movie missing
-- (mark_movie_not_found), an answer refreshes it. Skips ids not in works (nothing to mark),
-- movies already marked missing (the freshness policy asks about them again after 180
-- days) and movies already queued (that row's request decides the same way). Returns rows
-- inserted.
create or replace function public.enqueue_recheck(p_tmdb_ids bigint[])
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_bad text;
  v_rows integer;
begin
  if p_tmdb_ids is null then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = 'p_tmdb_ids must be an array of TMDB ids: current value is NULL';
  end if;
  select coalesce(i::text, 'NULL') into v_bad
    from unnest(p_tmdb_ids) i
   where i is null or i not between 1 and 2147483647
   limit 1;
  if found then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_tmdb_ids must hold TMDB ids between 1 and 2147483647: invalid id %s', v_bad);
  end if;

  insert into public.refresh_queue (work_id, tmdb_id, reason, priority)
  select w.id, w.tmdb_id, 'recheck', 150
    from public.works w
   where w.tmdb_id = any (p_tmdb_ids::integer[])
     and w.tmdb_missing_at is null
   order by w.tmdb_id
  on conflict (tmdb_id) where status in ('pending', 'processing') do nothing;
  get diagnostics v_rows = row_count;
  return v_rows;
end;
$$;

comment on function public.enqueue_recheck(bigint[]) is
  'Queues catalog movies absent from two exports (reason recheck, priority 150) for one /movie/{id} request: a 404 marks them missing. Skips unknown ids, movies already missing or queued. Returns rows inserted.';

revoke execute on function public.enqueue_recheck(bigint[]) from public, anon, authenticated;
grant execute on function public.enqueue_recheck(bigint[]) to service_role;

-- ============================================================================
-- Claiming: the row's own tmdb_id
-- ============================================================================

-- Same signature, checks, reaper and claim as 018 (its comments on the concurrency hold
-- unchanged); the answer's tmdb_id is the row's, and work_id is null for a row queued as
-- new, so a movie the catalog does not hold yet is claimed like any other. Both steps read
-- partial indexes only (refresh_queue_lease_idx, refresh_queue_claim_idx), whose entries are
-- the processing and the pending rows: their cost does not grow with finished rows, and the
-- claim stops after p_batch_size rows of the claimable index however deep the queue is.
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

  -- Step 1, the reaper (018): expired leases go back to pending, or fail on their last
  -- attempt. SKIP LOCKED: a row locked right now is being finished or reaped by someone else.
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

  -- Step 2, the claim (018): FOR UPDATE SKIP LOCKED, so concurrent claimers take disjoint
  -- rows without waiting, and a row another claimer committed meanwhile fails the re-check
  -- of the WHERE clause on its newest version and is dropped: no row goes to two workers.
  -- MATERIALIZED: the CTE runs once, so LIMIT bounds the rows locked and updated.
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
    returning q.id, q.work_id, q.tmdb_id, q.retry_count, q.priority, q.next_attempt_at
  )
  select cl.id, cl.work_id, cl.tmdb_id, cl.retry_count
    from claimed cl
   order by cl.priority, cl.next_attempt_at, cl.id;
end;
$$;

comment on function public.claim_refresh_batch(text, integer, integer) is
  'Leases up to p_batch_size ready rows to p_worker for p_lease_seconds (priority order) and returns (queue_id, work_id (null for a row queued as new), tmdb_id, attempt). Rows whose lease expired go back to pending, or fail if that was their last attempt.';

revoke execute on function public.claim_refresh_batch(text, integer, integer) from public, anon, authenticated;
grant execute on function public.claim_refresh_batch(text, integer, integer) to service_role;
