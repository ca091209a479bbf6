-- 021_ingest_run_helpers.sql
--
-- What this adds, and why: the database side of the Edge Functions' bookkeeping, each a
-- single round trip so the functions hold no SQL of their own for it:
--   * classify_tmdb_ids(): for a list page of TMDB ids, which are new, due for a refresh or
--     still fresh (scheduled-ingest skips fresh ones and counts them as skipped_fresh).
--   * start_ingestion_run() / finish_ingestion_run(): a scheduled_ingestion_log row per run,
--     keyed by the run_id the cron call sent (016), with duration computed here.
--   * record_changes_sync(): daily-refresh's progress through TMDB's change feed. The
--     watermark only moves forward, and not at all after a partial fetch (the caller passes
--     null), so a failed window is fetched again next time instead of being skipped.

-- ============================================================================
-- classify_tmdb_ids
-- ============================================================================

-- One row per distinct non-null id, in first-appearance order:
--   'new'   no work has this tmdb_id
--   'due'   the work's next_refresh_at has passed (is_stale())
--   'fresh' otherwise (including works the freshness policy never schedules)
create or replace function public.classify_tmdb_ids(p_tmdb_ids integer[])
returns table (tmdb_id integer, state text)
language sql
stable
security invoker
set search_path = ''
as $$
  select u.id,
         case
           when w.id is null then 'new'
           when w.next_refresh_at <= now() then 'due'
           else 'fresh'
         end
    from (
      select x.id, min(x.ord) as ord
        from unnest(p_tmdb_ids) with ordinality as x(id, ord)
       where x.id is not null
       group by x.id
    ) u
    left join public.works w on w.tmdb_id = u.id
   order by u.ord
$$;

comment on function public.classify_tmdb_ids(integer[]) is
  'Classifies TMDB ids as new (not in works), due (next_refresh_at passed) or fresh; one row per distinct id, input order.';

revoke execute on function public.classify_tmdb_ids(integer[]) from public, anon, authenticated;
grant execute on function public.classify_tmdb_ids(integer[]) to service_role;

-- ============================================================================
-- scheduled_ingestion_log runs
-- ============================================================================

-- Opens the log row of a run (status 'running') and returns its id. A run id can start only
-- once: pg_net may deliver a request again, and a second run would spend the TMDB budget
-- twice, so a repeat raises unique_violation naming the existing row.
create or replace function public.start_ingestion_run(
  p_run_id uuid,
  p_source text,
  p_trigger text,
  p_requested integer
)
returns bigint
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_id bigint;
begin
  if p_run_id is null then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = 'p_run_id must not be null: pass the run_id the request body carried';
  end if;

  insert into public.scheduled_ingestion_log (run_id, source, trigger, requested, status)
  values (p_run_id, p_source, p_trigger, p_requested, 'running')
  on conflict (run_id) do nothing
  returning id into v_id;

  if v_id is null then
    select l.id into v_id from public.scheduled_ingestion_log l where l.run_id = p_run_id;
    raise exception using
      errcode = 'unique_violation',
      message = format('ingestion run %s was already started (scheduled_ingestion_log id %s)', p_run_id, v_id);
  end if;

  return v_id;
end;
$$;

comment on function public.start_ingestion_run(uuid, text, text, integer) is
  'Inserts the scheduled_ingestion_log row of a run (status running) and returns its id; raises unique_violation if the run_id already started.';

revoke execute on function public.start_ingestion_run(uuid, text, text, integer) from public, anon, authenticated;
grant execute on function public.start_ingestion_run(uuid, text, text, integer) to service_role;

-- Closes a run: counts, final status (succeeded | partial | failed), error, details,
-- finished_at and duration_ms (from the row's created_at). A run can be finished once.
create or replace function public.finish_ingestion_run(
  p_run_id uuid,
  p_found integer,
  p_ingested integer,
  p_unchanged integer,
  p_failed integer,
  p_skipped_fresh integer,
  p_status text,
  p_error text default null,
  p_details jsonb default null
)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_finished_at timestamptz;
begin
  if p_status is null or p_status not in ('succeeded', 'partial', 'failed') then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_status must be one of succeeded, partial, failed: current value is %L', p_status);
  end if;

  update public.scheduled_ingestion_log l
     set found = p_found,
         ingested = p_ingested,
         unchanged = p_unchanged,
         failed = p_failed,
         skipped_fresh = p_skipped_fresh,
         status = p_status,
         error = p_error,
         details = coalesce(p_details, l.details),
         finished_at = clock_timestamp(),
         duration_ms = greatest(0, round(extract(epoch from clock_timestamp() - l.created_at) * 1000))::integer
   where l.run_id = p_run_id
     and l.finished_at is null;

  if not found then
    select l.finished_at into v_finished_at from public.scheduled_ingestion_log l where l.run_id = p_run_id;
    if v_finished_at is null then
      raise exception using
        errcode = 'no_data_found',
        message = format('no ingestion run with run_id %s: call start_ingestion_run first', p_run_id);
    end if;
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('ingestion run %s was already finished at %s', p_run_id, v_finished_at);
  end if;
end;
$$;

comment on function public.finish_ingestion_run(uuid, integer, integer, integer, integer, integer, text, text, jsonb) is
  'Closes a scheduled_ingestion_log run: counts, status succeeded|partial|failed, error, details, finished_at, duration_ms.';

revoke execute on function public.finish_ingestion_run(uuid, integer, integer, integer, integer, integer, text, text, jsonb)
  from public, anon, authenticated;
grant execute on function public.finish_ingestion_run(uuid, integer, integer, integer, integer, integer, text, text, jsonb)
  to service_role;

-- ============================================================================
-- record_changes_sync
-- ============================================================================

-- Records a change-feed run: last_sync_at = now(), last_run_id, last_error (null on
-- success). changes_watermark = greatest(old, p_watermark) when p_watermark is not null,
-- unchanged otherwise: pass null after a partial fetch.
create or replace function public.record_changes_sync(
  p_key text,
  p_watermark timestamptz,
  p_run_id uuid,
  p_error text
)
returns void
language sql
volatile
security invoker
set search_path = ''
as $$
  insert into public.sync_state as s (key, last_sync_at, changes_watermark, last_run_id, last_error, updated_at)
  values (coalesce(p_key, 'tmdb_movie_changes'), now(), p_watermark, p_run_id, p_error, now())
  on conflict (key) do update
     set last_sync_at = excluded.last_sync_at,
         -- greatest() ignores nulls: a null p_watermark keeps the old one.
         changes_watermark = greatest(s.changes_watermark, excluded.changes_watermark),
         last_run_id = excluded.last_run_id,
         last_error = excluded.last_error,
         updated_at = excluded.updated_at
$$;

comment on function public.record_changes_sync(text, timestamptz, uuid, text) is
  'Records a change-feed sync: last_sync_at = now(); changes_watermark moves forward only, and not when p_watermark is null (partial fetch).';

revoke execute on function public.record_changes_sync(text, timestamptz, uuid, text) from public, anon, authenticated;
grant execute on function public.record_changes_sync(text, timestamptz, uuid, text) to service_role;
