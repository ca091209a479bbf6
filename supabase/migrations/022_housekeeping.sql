-- 022_housekeeping.sql
--
-- What this adds, and why: nothing in this system prunes itself except pg_net (responses
-- are kept pg_net.ttl, 6 h). pg_cron never prunes cron.job_run_details, and the
-- refresh_worker job alone adds 144 rows a day there, plus a finished refresh_queue row per
-- refresh and a tmdb_api_logs row per TMDB call. public.prune_old_rows() deletes what is
-- past its retention, and the cron job housekeeping_daily runs it once a day.
--
-- The design summary's checklist lists four cron jobs; this is a fifth. To change the
-- retention, schedule the job again with arguments (same name, so it is updated):
--   select cron.schedule('housekeeping_daily', '15 12 * * *',
--     $$select public.prune_old_rows('14 days', '90 days', '7 days')$$);

create or replace function public.prune_old_rows(
  queue_retention interval default '7 days',
  log_retention interval default '30 days',
  cron_history_retention interval default '7 days'
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_queue bigint;
  v_api_logs bigint;
  v_ingestion_log bigint;
  v_invocations bigint;
  v_cron bigint;
begin
  if queue_retention is null or queue_retention < interval '1 hour'
     or log_retention is null or log_retention < interval '1 hour'
     or cron_history_retention is null or cron_history_retention < interval '1 hour' then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('retentions must be at least 1 hour: current values are queue_retention %s, log_retention %s, cron_history_retention %s',
                       coalesce(queue_retention::text, 'NULL'), coalesce(log_retention::text, 'NULL'),
                       coalesce(cron_history_retention::text, 'NULL'));
  end if;

  -- Only finished rows: pending and processing rows are live work whatever their age.
  delete from public.refresh_queue q
   where q.status in ('completed', 'failed')
     and q.completed_at < now() - queue_retention;
  get diagnostics v_queue = row_count;

  delete from public.tmdb_api_logs l where l.created_at < now() - log_retention;
  get diagnostics v_api_logs = row_count;

  delete from public.scheduled_ingestion_log l where l.created_at < now() - log_retention;
  get diagnostics v_ingestion_log = row_count;

  delete from public.edge_function_invocations i where i.invoked_at < now() - log_retention;
  get diagnostics v_invocations = row_count;

  -- pg_cron's history of the caller's own jobs (its policy shows a role only its rows).
  -- A run still going has no end_time and is kept.
  delete from cron.job_run_details d where d.end_time < now() - cron_history_retention;
  get diagnostics v_cron = row_count;

  return jsonb_build_object(
    'refresh_queue', v_queue,
    'tmdb_api_logs', v_api_logs,
    'scheduled_ingestion_log', v_ingestion_log,
    'edge_function_invocations', v_invocations,
    'cron_job_run_details', v_cron
  );
end;
$$;

comment on function public.prune_old_rows(interval, interval, interval) is
  'Deletes finished refresh_queue rows, tmdb_api_logs, scheduled_ingestion_log and edge_function_invocations older than their retention, and cron.job_run_details history; returns the counts. (net._http_response is pruned by pg_net.)';

revoke execute on function public.prune_old_rows(interval, interval, interval)
  from public, anon, authenticated, service_role;

-- 12:15 UTC daily (04:15 or 05:15 in Los Angeles): after the night's jobs, no DST guard
-- needed since the exact hour does not matter.
select cron.schedule(
  'housekeeping_daily',
  '15 12 * * *',
  $cmd$select public.prune_old_rows()$cmd$
);
