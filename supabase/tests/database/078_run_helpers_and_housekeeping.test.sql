-- 078_run_helpers_and_housekeeping.test.sql
-- The bookkeeping helpers of 021 and the pruning of 022: scheduled_ingestion_log runs are
-- opened once and closed once with their counters and duration; record_changes_sync()
-- never moves the change-feed watermark backwards, nor at all when given null (a partial
-- fetch); prune_old_rows() deletes only finished rows past their retention and reports
-- what it deleted.
begin;
select plan(24);

-- ---------------------------------------------------------------------------------------
-- start_ingestion_run / finish_ingestion_run
-- ---------------------------------------------------------------------------------------

create temp table t_run on commit drop as
  select '7b0e7a1c-0000-4000-8000-000000000001'::uuid as run_id,
         public.start_ingestion_run('7b0e7a1c-0000-4000-8000-000000000001', 'mixed_daily', 'cron', 30) as id;

select results_eq(
  $$ select l.id, l.source, l.trigger, l.requested, l.status, l.finished_at
       from public.scheduled_ingestion_log l where l.run_id = (select run_id from t_run) $$,
  $$ select (select id from t_run), 'mixed_daily'::text, 'cron'::text, 30, 'running'::text, null::timestamptz $$,
  'start_ingestion_run opens a running row and returns its id');
select throws_ok(
  $$ select public.start_ingestion_run('7b0e7a1c-0000-4000-8000-000000000001', 'mixed_daily', 'cron', 30) $$,
  '23505',
  format('ingestion run 7b0e7a1c-0000-4000-8000-000000000001 was already started (scheduled_ingestion_log id %s)',
         (select id from t_run)),
  'a run id can start only once (a re-delivered request does not run twice)');
select throws_ok(
  $$ select public.start_ingestion_run(null, 'mixed_daily', 'cron', 30) $$,
  '22023', 'p_run_id must not be null: pass the run_id the request body carried',
  'a null run id is refused');

select lives_ok(
  $$ select public.finish_ingestion_run('7b0e7a1c-0000-4000-8000-000000000001', 40, 12, 20, 2, 6,
                                        'partial', '2 movies failed', '{"pages": 2}') $$,
  'finish_ingestion_run closes the run');
select results_eq(
  $$ select found, ingested, unchanged, failed, skipped_fresh, status, error, details,
            finished_at >= created_at, duration_ms >= 0
       from public.scheduled_ingestion_log where run_id = (select run_id from t_run) $$,
  $$ values (40, 12, 20, 2, 6, 'partial'::text, '2 movies failed'::text, '{"pages": 2}'::jsonb, true, true) $$,
  '...with its counters, status, error, details, finished_at and duration_ms');
select throws_like(
  $$ select public.finish_ingestion_run('7b0e7a1c-0000-4000-8000-000000000001', 0, 0, 0, 0, 0, 'succeeded', null, null) $$,
  'ingestion run 7b0e7a1c-0000-4000-8000-000000000001 was already finished at %',
  'a run can be finished only once');
select throws_ok(
  $$ select public.finish_ingestion_run('7b0e7a1c-0000-4000-8000-0000000000ff', 0, 0, 0, 0, 0, 'succeeded') $$,
  'P0002', 'no ingestion run with run_id 7b0e7a1c-0000-4000-8000-0000000000ff: call start_ingestion_run first',
  'finishing an unknown run says so');
select throws_ok(
  $$ select public.finish_ingestion_run('7b0e7a1c-0000-4000-8000-000000000001', 0, 0, 0, 0, 0, 'running') $$,
  '22023', 'p_status must be one of succeeded, partial, failed: current value is ''running''',
  'a run cannot be finished as running');

-- ---------------------------------------------------------------------------------------
-- record_changes_sync: the watermark only moves forward
-- ---------------------------------------------------------------------------------------

select results_eq(
  $$ select key from public.sync_state where key = 'tmdb_movie_changes' $$,
  $$ values ('tmdb_movie_changes'::text) $$,
  'sync_state has the seeded tmdb_movie_changes row');

select public.record_changes_sync('pgtap_changes', '2026-01-10 00:00+00', '00000000-0000-4000-8000-000000000001', null);
select results_eq(
  $$ select changes_watermark, last_sync_at, last_run_id, last_error, updated_at
       from public.sync_state where key = 'pgtap_changes' $$,
  $$ values ('2026-01-10 00:00+00'::timestamptz, now(), '00000000-0000-4000-8000-000000000001'::uuid, null::text, now()) $$,
  'a complete sync sets the watermark, last_sync_at = now(), the run id');

select public.record_changes_sync('pgtap_changes', '2026-01-05 00:00+00', '00000000-0000-4000-8000-000000000002', null);
select results_eq(
  $$ select changes_watermark, last_run_id from public.sync_state where key = 'pgtap_changes' $$,
  $$ values ('2026-01-10 00:00+00'::timestamptz, '00000000-0000-4000-8000-000000000002'::uuid) $$,
  'an older watermark never moves it backwards (the run is still recorded)');

select public.record_changes_sync('pgtap_changes', null, '00000000-0000-4000-8000-000000000003', 'page 3 of 7 failed: HTTP 500');
select results_eq(
  $$ select changes_watermark, last_run_id, last_error from public.sync_state where key = 'pgtap_changes' $$,
  $$ values ('2026-01-10 00:00+00'::timestamptz, '00000000-0000-4000-8000-000000000003'::uuid,
             'page 3 of 7 failed: HTTP 500'::text) $$,
  'a partial fetch (null watermark) leaves the watermark and records the error');

select public.record_changes_sync('pgtap_changes', '2026-01-12 00:00+00', '00000000-0000-4000-8000-000000000004', null);
select results_eq(
  $$ select changes_watermark, last_error from public.sync_state where key = 'pgtap_changes' $$,
  $$ values ('2026-01-12 00:00+00'::timestamptz, null::text) $$,
  'the next complete sync moves it forward and clears the error');
select is((select count(*)::int from public.sync_state where key = 'pgtap_changes'), 1,
          'one row per key');

-- ---------------------------------------------------------------------------------------
-- prune_old_rows
-- ---------------------------------------------------------------------------------------

-- First clear whatever is already past retention, so the counts below are this test's.
create temp table t_first on commit drop as select public.prune_old_rows() as counts;

insert into public.works (tmdb_id, title, release_date, status, payload_hash, first_ingested_at, last_refreshed_at)
select 2100000100 + g, 'Prune ' || g, date '1990-01-01', 'Released', repeat('0', 64), now(), now()
  from generate_series(1, 5) g;

insert into public.refresh_queue (work_id, tmdb_id, status, reason, queued_at, completed_at, result, last_error)
select w.id, w.tmdb_id, v.status, 'manual', now() - interval '40 days', v.completed_at, v.result, v.last_error
  from (values (2100000101, 'completed', now() - interval '8 days', 'refreshed', null),
               (2100000102, 'failed', now() - interval '8 days', null, 'gone'),
               (2100000103, 'completed', now() - interval '6 days', 'unchanged', null),
               (2100000104, 'pending', null::timestamptz, null, null))
       as v(tmdb_id, status, completed_at, result, last_error)
  join public.works w on w.tmdb_id = v.tmdb_id;
insert into public.refresh_queue (work_id, tmdb_id, status, reason, queued_at, retry_count, locked_by, lease_expires_at, started_at)
select w.id, w.tmdb_id, 'processing', 'manual', now() - interval '40 days', 1, 'old-worker', now() - interval '39 days', now() - interval '39 days'
  from public.works w where w.tmdb_id = 2100000105;

insert into public.tmdb_api_logs (created_at, function_name, endpoint, duration_ms)
values (now() - interval '31 days', 'pgtap', '/movie/{id}', 10),
       (now() - interval '29 days', 'pgtap', '/movie/{id}', 10);
insert into public.scheduled_ingestion_log (created_at, run_id, source)
values (now() - interval '31 days', '00000000-0000-4000-8000-0000000000a1', 'pgtap'),
       (now() - interval '1 day', '00000000-0000-4000-8000-0000000000a2', 'pgtap');
insert into public.edge_function_invocations (request_id, run_id, function_name, trigger, body, timeout_ms,
                                              backend_pid, invoked_at)
values (-101, '00000000-0000-4000-8000-0000000000b1', 'refresh-worker', 'manual', '{}', 150000, 1, now() - interval '31 days'),
       (-102, '00000000-0000-4000-8000-0000000000b2', 'refresh-worker', 'manual', '{}', 150000, 1, now() - interval '1 day');
-- Explicit run ids: as on hosted, postgres may not advance cron.runid_seq.
insert into cron.job_run_details (runid, jobid, job_pid, database, username, command, status, return_message, start_time, end_time)
values (-1, -1, 1, 'postgres', current_user, 'select 1', 'succeeded', '1 row', now() - interval '8 days', now() - interval '8 days'),
       (-2, -1, 1, 'postgres', current_user, 'select 1', 'succeeded', '1 row', now() - interval '6 days', now() - interval '6 days'),
       (-3, -1, 1, 'postgres', current_user, 'select 1', 'running', null, now() - interval '30 days', null);

select is(public.prune_old_rows(),
          '{"refresh_queue": 2, "tmdb_api_logs": 1, "scheduled_ingestion_log": 1,
            "edge_function_invocations": 1, "tmdb_payload_drift": 0,
            "cron_job_run_details": 1}'::jsonb,
          'prune_old_rows deletes what is past retention and reports the counts');
select results_eq(
  $$ select w.tmdb_id, q.status from public.refresh_queue q join public.works w on w.id = q.work_id
      where w.tmdb_id between 2100000101 and 2100000105 order by w.tmdb_id $$,
  $$ values (2100000103, 'completed'::text), (2100000104, 'pending'::text), (2100000105, 'processing'::text) $$,
  'queue: finished rows older than 7 days go; recent finished rows and live (pending, processing) rows stay, whatever their age');
select is((select count(*)::int from public.tmdb_api_logs where function_name = 'pgtap'), 1,
          'tmdb_api_logs: the 29-day-old row stays');
select is((select count(*)::int from public.scheduled_ingestion_log where source = 'pgtap'), 1,
          'scheduled_ingestion_log: the 1-day-old row stays');
select is((select array_agg(request_id) from public.edge_function_invocations where request_id < 0), array[-102::bigint],
          'edge_function_invocations: the 1-day-old row stays');
select is((select array_agg(status order by start_time) from cron.job_run_details where jobid = -1),
          array['running', 'succeeded'],
          'cron.job_run_details: a recent run and a run still going stay');

select is(public.prune_old_rows('1 hour', '30 days', '7 days') -> 'refresh_queue', '1'::jsonb,
          'a shorter queue retention prunes the 6-day-old finished row too');
select is(public.prune_old_rows(), '{"refresh_queue": 0, "tmdb_api_logs": 0, "scheduled_ingestion_log": 0,
            "edge_function_invocations": 0, "tmdb_payload_drift": 0,
            "cron_job_run_details": 0}'::jsonb,
          'pruning again deletes nothing');
select throws_ok(
  $$ select public.prune_old_rows('0 seconds') $$, '22023',
  'retentions must be at least 1 hour: current values are queue_retention 00:00:00, log_retention 30 days, cron_history_retention 7 days',
  'a retention below one hour is refused, showing the values');
select throws_ok(
  $$ select public.prune_old_rows(null) $$, '22023',
  'retentions must be at least 1 hour: current values are queue_retention NULL, log_retention 30 days, cron_history_retention 7 days',
  'a null retention is refused');

select * from finish();
rollback;
