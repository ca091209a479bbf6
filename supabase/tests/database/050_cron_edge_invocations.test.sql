-- 050_cron_edge_invocations.test.sql
-- Migrations 016, 017, 020, 022, 024 as the design summary's verification checklist sees
-- them (extensions, the cron jobs, tables, functions), then what a call_* function really
-- does: where the configuration comes from (Vault first, app.settings fallback for the URL,
-- clear errors naming the missing secret), the pg_net request it queues (URL, a signature
-- header and no key, body, timeout), the invocation row it records (request id, never a
-- secret), the validation of its arguments, and the per-run view edge_function_runs.
begin;
select plan(64);
-- The skipped cron firings below raise a NOTICE saying why; keep the test output quiet.
set local client_min_messages = warning;

-- Secrets are set inside this transaction (rolled back at the end), whatever the database
-- already holds, and the app.settings fallback is blanked so only what the test sets counts.
create function pg_temp.set_secret(p_name text, p_value text) returns void
language plpgsql as $fn$
begin
  if exists (select 1 from vault.decrypted_secrets where name = p_name) then
    perform vault.update_secret((select id from vault.decrypted_secrets where name = p_name), p_value);
  else
    perform vault.create_secret(p_value, p_name);
  end if;
end;
$fn$;

set local app.settings.supabase_url = '';
set local app.settings.service_role_key = '';

-- The signature a request must carry: HMAC-SHA256 over "<t>.<function>.<body>", computed
-- here independently of invoke_edge_function().
create function pg_temp.expected_signature(p_secret text, p_function text, p_header text, p_body bytea)
returns text
language sql as $fn$
  select format('t=%s,v1=%s', split_part(split_part(p_header, ',', 1), '=', 2), encode(extensions.hmac(
    convert_to(split_part(split_part(p_header, ',', 1), '=', 2) || '.' || p_function || '.', 'UTF8') || p_body,
    convert_to(p_secret, 'UTF8'), 'sha256'), 'hex'))
$fn$;

-- ---------------------------------------------------------------------------------------
-- The verification checklist (docs: design summary, "Verification Checklist")
-- ---------------------------------------------------------------------------------------

select results_eq(
  $$ select extname::text collate "default" from pg_extension where extname in ('pg_cron', 'pg_net') order by extname $$,
  $$ values ('pg_cron'), ('pg_net') $$,
  'checklist 1: pg_cron and pg_net are installed');

select results_eq(
  $$ select jobname::text collate "default", schedule::text, command::text, active
       from cron.job
      where jobname in ('scheduled_ingest_daily', 'scheduled_ingest_weekly', 'daily_refresh_enqueue',
                        'refresh_worker', 'housekeeping_daily')
      order by jobname $$,
  $$ values
       ('daily_refresh_enqueue', '30 10,11 * * *', 'select public.call_daily_refresh(''cron'')', true),
       ('housekeeping_daily', '15 12 * * *', 'select public.prune_old_rows()', true),
       ('refresh_worker', '*/10 * * * *', 'select public.call_refresh_worker(''cron'')', true),
       ('scheduled_ingest_daily', '0 10,11 * * *', 'select public.call_scheduled_ingest(''mixed_daily'', 30, ''cron'')', true),
       ('scheduled_ingest_weekly', '0 9,10 * * 0', 'select public.call_scheduled_ingest(''mixed_weekly'', 80, ''cron'')', true) $$,
  'checklist 2: the four design jobs (plus housekeeping_daily) exist with their UTC schedules and commands');

select is(
  (select count(*)::int from cron.job
    where jobname in ('scheduled_ingest_daily', 'scheduled_ingest_weekly', 'daily_refresh_enqueue',
                      'refresh_worker', 'housekeeping_daily')),
  5, 'each job exists exactly once (cron.schedule updates by name)');

select results_eq(
  $$ select table_name::text collate "default" from information_schema.tables
      where table_schema = 'public' and table_name in ('refresh_queue', 'sync_state')
      order by table_name $$,
  $$ values ('refresh_queue'), ('sync_state') $$,
  'checklist 3: refresh_queue and sync_state exist');

select results_eq(
  $$ select routine_name::text collate "default" from information_schema.routines
      where routine_schema = 'public'
        and routine_name in ('get_service_role_key', 'get_supabase_url', 'call_scheduled_ingest',
                             'call_daily_refresh', 'call_refresh_worker', 'get_stale_movies')
      order by routine_name $$,
  $$ values ('call_daily_refresh'), ('call_refresh_worker'), ('call_scheduled_ingest'),
            ('get_service_role_key'), ('get_stale_movies'), ('get_supabase_url') $$,
  'checklist 4: the six design functions exist');

select has_table('public', 'edge_function_invocations', 'edge_function_invocations exists');
select has_view('public', 'edge_function_runs', 'edge_function_runs exists');

-- ---------------------------------------------------------------------------------------
-- Configuration: missing, Vault, fallback
-- ---------------------------------------------------------------------------------------

delete from vault.secrets where name in ('project_url', 'service_role_key', 'edge_invoke_secret');

select throws_ok(
  $$ select public.get_supabase_url() $$,
  '55000',
  'project_url is not configured: run select vault.create_secret(''https://<project-ref>.supabase.co'', ''project_url'');',
  'no project URL anywhere: the error names the secret and the command that sets it');
select throws_ok(
  $$ select public.get_service_role_key() $$,
  '55000',
  'service_role_key is not configured: run select vault.create_secret(''<service-role or sb_secret key>'', ''service_role_key'');',
  'no key anywhere: the error names the secret and the command that sets it');
select throws_ok(
  $$ select public.call_scheduled_ingest('mixed_daily', 5, 'manual') $$,
  '55000',
  'project_url is not configured: run select vault.create_secret(''https://<project-ref>.supabase.co'', ''project_url'');',
  'call_scheduled_ingest without configuration fails with the same clear error');

select pg_temp.set_secret('project_url', 'https://ref.supabase.co');
select throws_ok(
  $$ select public.call_refresh_worker('manual') $$,
  '55000',
  'edge_invoke_secret is not configured: set one secret in both places: select vault.create_secret(''<secret>'', ''edge_invoke_secret''); '
    || '(or vault.update_secret(id, ''<secret>'') if it exists) and supabase secrets set EDGE_INVOKE_SECRET=<secret> (locally: supabase/functions/.env)',
  'URL set but no invocation secret: call_refresh_worker names the secret and both places to set it');
select is((select count(*)::int from public.edge_function_invocations i
            where i.invoked_at = now()),
          0, 'a failed call records no invocation');
select pg_temp.set_secret('edge_invoke_secret', 'too-short-secret');
select throws_ok(
  $$ select public.call_refresh_worker('manual') $$,
  '22023',
  'edge_invoke_secret is too short (16 characters, at least 32): set one secret in both places: select vault.create_secret(''<secret>'', ''edge_invoke_secret''); '
    || '(or vault.update_secret(id, ''<secret>'') if it exists) and supabase secrets set EDGE_INVOKE_SECRET=<secret> (locally: supabase/functions/.env)',
  'a short invocation secret is refused, showing its length, not its value');
select pg_temp.set_secret('edge_invoke_secret', 'pgtap-invoke-secret-0123456789abcdef0123456789abcdef');

select pg_temp.set_secret('project_url', 'not a url');
select throws_ok(
  $$ select public.get_supabase_url() $$,
  '22023',
  'project_url must start with https:// (or http:// locally): current value is ''not a url''',
  'a project_url that is not an http(s) URL is refused, showing the (non-secret) value');

-- The app.settings fallback (self-hosted databases where a superuser could set them).
delete from vault.secrets where name in ('project_url', 'service_role_key');
set local app.settings.supabase_url = 'https://fallback.example.com/';
set local app.settings.service_role_key = 'fallback-key-0001';
select is(public.get_supabase_url(), 'https://fallback.example.com',
          'fallback: app.settings.supabase_url, trailing slash removed');
select is(public.get_service_role_key(), 'fallback-key-0001',
          'fallback: app.settings.service_role_key');

-- Vault wins over the settings.
select pg_temp.set_secret('project_url', 'https://vault-ref.supabase.co//');
select pg_temp.set_secret('service_role_key', 'sb_secret_TESTKEY_1234567890');
select is(public.get_supabase_url(), 'https://vault-ref.supabase.co',
          'Vault project_url is preferred to the setting; trailing slashes removed');
select is(public.get_service_role_key(), 'sb_secret_TESTKEY_1234567890',
          'Vault service_role_key is preferred to the setting');
set local app.settings.supabase_url = '';
set local app.settings.service_role_key = '';

-- ---------------------------------------------------------------------------------------
-- call_scheduled_ingest: the request and the invocation row
-- ---------------------------------------------------------------------------------------

create temp table t_req on commit drop as
  select public.call_scheduled_ingest('mixed_daily', 5, 'manual') as request_id;

select isnt((select request_id from t_req), null, 'the seed''s manual test returns a pg_net request id');

select is(
  (select q.url from net.http_request_queue q where q.id = (select request_id from t_req)),
  'https://vault-ref.supabase.co/functions/v1/scheduled-ingest',
  'the request goes to <project_url>/functions/v1/scheduled-ingest');
select is(
  (select q.method from net.http_request_queue q where q.id = (select request_id from t_req)),
  'POST', 'it is a POST');
select is(
  (select array_agg(k order by k) from net.http_request_queue q, jsonb_object_keys(q.headers) k
    where q.id = (select request_id from t_req)),
  array['Content-Type', 'x-tmdb-sync-signature'],
  'headers: the JSON content type and the signature, no Authorization or apikey');
select is(
  (select q.headers ->> 'x-tmdb-sync-signature' from net.http_request_queue q
    where q.id = (select request_id from t_req)),
  (select pg_temp.expected_signature('pgtap-invoke-secret-0123456789abcdef0123456789abcdef',
                                     'scheduled-ingest', q.headers ->> 'x-tmdb-sync-signature', q.body)
     from net.http_request_queue q where q.id = (select request_id from t_req)),
  'the signature is HMAC-SHA256(edge_invoke_secret, "<t>.scheduled-ingest.<the bytes pg_net sends>")');
select ok(
  (select abs(split_part(split_part(q.headers ->> 'x-tmdb-sync-signature', ',', 1), '=', 2)::bigint
              - extract(epoch from clock_timestamp())) < 60
     from net.http_request_queue q where q.id = (select request_id from t_req)),
  'the signature''s time t is now (unix seconds)');
select is(
  (select count(*)::int from net.http_request_queue q
    where q::text like '%TESTKEY%' or q::text like '%pgtap-invoke-secret%' or q::text ilike '%bearer%'),
  0, 'neither the service key (still in Vault) nor the invocation secret is in pg_net''s queue');
select is(
  (select q.timeout_milliseconds from net.http_request_queue q where q.id = (select request_id from t_req)),
  150000, 'pg_net waits 150 s (scheduled-ingest''s budget is 120 s)');

create temp table t_body on commit drop as
  select convert_from(q.body, 'UTF8')::jsonb as body
    from net.http_request_queue q where q.id = (select request_id from t_req);

select is((select body - 'run_id' from t_body),
          '{"source": "mixed_daily", "limit": 5, "trigger": "manual", "job_name": null}'::jsonb,
          'body: source, limit, trigger and (manual run) no job name');
select matches((select body ->> 'run_id' from t_body),
               '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
               'body: a run_id uuid');

select results_eq(
  $$ select i.function_name, i.job_name, i.trigger, i.timeout_ms, i.backend_pid, i.cron_jobid,
            i.run_id::text, i.body
       from public.edge_function_invocations i
      where i.request_id = (select request_id from t_req) $$,
  $$ select 'scheduled-ingest'::text, null::text, 'manual'::text, 150000, pg_backend_pid(), null::bigint,
            (select body ->> 'run_id' from t_body), (select body from t_body) $$,
  'the invocation row holds the request id, run id, function, trigger, timeout, pid and the sent body');
select is(
  (select count(*)::int from public.edge_function_invocations i
    where i::text like '%TESTKEY%' or i::text like '%Bearer%'),
  0, 'the key appears nowhere in the invocation rows');

-- The cron trigger follows the DST guard: a request only at the intended local time.
select is(
  public.call_scheduled_ingest('mixed_daily', 30, 'cron') is null,
  not public.is_intended_pacific_time('03:00'),
  'call_scheduled_ingest(..., ''cron'') returns null exactly when it is not 03:00 in Los Angeles');
select is(
  public.call_scheduled_ingest('mixed_weekly', 80, 'cron') is null,
  not public.is_intended_pacific_time('02:00', now(), 0),
  'the weekly source follows the Sunday 02:00 guard');
select is(
  public.call_daily_refresh('cron') is null,
  not public.is_intended_pacific_time('03:30'),
  'call_daily_refresh(''cron'') returns null exactly when it is not 03:30 in Los Angeles');
select is(
  (select count(*)::int from public.edge_function_invocations i where i.invoked_at = now()),
  1 + (public.is_intended_pacific_time('03:00'))::int
    + (public.is_intended_pacific_time('02:00', now(), 0))::int
    + (public.is_intended_pacific_time('03:30'))::int,
  'a skipped cron firing records no invocation');

-- ---------------------------------------------------------------------------------------
-- call_daily_refresh / call_refresh_worker
-- ---------------------------------------------------------------------------------------

-- The cron call first: while a refresh-worker run is in flight, cron starts no other (026);
-- runs the stack's own cron made are out of the way (rolled back with the rest).
update public.edge_function_invocations set invoked_at = now() - interval '1 day';
create temp table t_req2 on commit drop as
  select public.call_refresh_worker('cron') as worker_cron, public.call_daily_refresh() as daily,
         public.call_refresh_worker() as worker;

select results_eq(
  $$ select q.url, q.timeout_milliseconds,
            q.headers ->> 'x-tmdb-sync-signature'
              = pg_temp.expected_signature('pgtap-invoke-secret-0123456789abcdef0123456789abcdef',
                                           split_part(q.url, '/', 6), q.headers ->> 'x-tmdb-sync-signature', q.body),
            q.headers ? 'Authorization',
            convert_from(q.body, 'UTF8')::jsonb - 'run_id'
       from net.http_request_queue q
      where q.id in (select daily from t_req2 union all select worker from t_req2
                     union all select worker_cron from t_req2)
      order by q.id $$,
  $$ values
       ('https://vault-ref.supabase.co/functions/v1/refresh-worker', 150000, true, false,
        '{"trigger": "cron", "job_name": "refresh_worker"}'::jsonb),
       ('https://vault-ref.supabase.co/functions/v1/daily-refresh', 150000, true, false,
        '{"trigger": "manual", "job_name": null}'::jsonb),
       ('https://vault-ref.supabase.co/functions/v1/refresh-worker', 150000, true, false,
        '{"trigger": "manual", "job_name": null}'::jsonb) $$,
  'daily-refresh and refresh-worker requests: URL, 150 s timeout, signed for their function, no key, {run_id, trigger, job_name}');
select is(
  (select i.cron_jobid from public.edge_function_invocations i
    where i.request_id = (select worker_cron from t_req2)),
  (select jobid from cron.job where jobname = 'refresh_worker'),
  'a cron invocation records the cron job id of its job');

-- ---------------------------------------------------------------------------------------
-- Validation
-- ---------------------------------------------------------------------------------------

select throws_ok(
  $$ select public.call_scheduled_ingest('bogus', 5, 'manual') $$, '22023',
  'source must be one of now_playing, popular, trending_day, trending_week, mixed_daily, mixed_weekly: current value is ''bogus''',
  'an unknown source is refused, listing the valid ones');
select throws_ok(
  $$ select public.call_scheduled_ingest(null, 5, 'manual') $$, '22023',
  'source must be one of now_playing, popular, trending_day, trending_week, mixed_daily, mixed_weekly: current value is NULL',
  'a null source is refused');
select throws_ok(
  $$ select public.call_scheduled_ingest('popular', 0, 'manual') $$, '22023',
  'limit_count must be between 1 and 200: current value is 0',
  'limit 0 is refused, naming the value');
select throws_ok(
  $$ select public.call_scheduled_ingest('popular', 201, 'manual') $$, '22023',
  'limit_count must be between 1 and 200: current value is 201',
  'limit 201 is refused, naming the value');
select throws_ok(
  $$ select public.call_scheduled_ingest('popular', null, 'manual') $$, '22023',
  'limit_count must be between 1 and 200: current value is NULL',
  'a null limit is refused');
select throws_ok(
  $$ select public.call_scheduled_ingest('popular', 10, 'hourly') $$, '22023',
  'trigger must be ''manual'' or ''cron'': current value is ''hourly''',
  'call_scheduled_ingest refuses an unknown trigger');
select throws_ok(
  $$ select public.call_daily_refresh('hourly') $$, '22023',
  'trigger must be ''manual'' or ''cron'': current value is ''hourly''',
  'call_daily_refresh refuses an unknown trigger');
select throws_ok(
  $$ select public.call_refresh_worker(null) $$, '22023',
  'trigger must be ''manual'' or ''cron'': current value is NULL',
  'call_refresh_worker refuses a null trigger');
select throws_ok(
  $$ select public.invoke_edge_function('../auth/v1/admin', '{}', null, 'manual', 150000) $$, '22023',
  'function_name must be an Edge Function name like scheduled-ingest: current value is ''../auth/v1/admin''',
  'invoke_edge_function refuses a function name that is not a plain name');
select throws_ok(
  $$ select public.invoke_edge_function('refresh-worker', '{}', null, 'hourly', 150000) $$, '22023',
  'trigger must be one of ''cron'', ''manual'', ''continuation'': current value is ''hourly''',
  'invoke_edge_function refuses an unknown trigger, listing the valid ones');
select throws_ok(
  $$ select public.invoke_edge_function('refresh-worker', '{}', null, 'manual', 10) $$, '22023',
  'timeout_ms must be between 1000 and 900000: current value is 10',
  'invoke_edge_function refuses a silly timeout');
select throws_ok(
  $$ select public.invoke_edge_function('refresh-worker', '[1]', null, 'manual', 150000) $$, '22023',
  'body must be a JSON object: current value is [1]',
  'invoke_edge_function refuses a body that is not an object');

-- ---------------------------------------------------------------------------------------
-- edge_function_runs: one row per call with its outcome
-- ---------------------------------------------------------------------------------------

create temp table t_runs on commit drop as
  select public.call_refresh_worker() as queued,
         public.call_refresh_worker() as done,
         public.call_refresh_worker() as unauthorized,
         public.call_refresh_worker() as timed_out,
         public.call_refresh_worker() as conn_error,
         public.call_refresh_worker() as not_json;

insert into net._http_response (id, status_code, content_type, headers, content, timed_out, error_msg)
select done, 200, 'application/json', '{}'::jsonb, '{"claimed": 3, "completed": 3}', false, null from t_runs
union all
select unauthorized, 401, 'application/json', '{}'::jsonb, '{"error": "unauthorized", "message": "bad key"}', false, null from t_runs
union all
select timed_out, null, null, null, null, true, 'Timeout of 150000 ms reached' from t_runs
union all
select conn_error, null, null, null, null, false, 'Couldn''t connect to server' from t_runs
union all
select not_json, 502, 'text/html', '{}'::jsonb, '<html>Bad gateway</html>', false, null from t_runs;

select results_eq(
  $$ select r.state, r.status_code, r.timed_out, r.error_msg, r.response, r.response_text,
            r.responded_at is not null
       from public.edge_function_runs r, t_runs t
      where r.request_id in (t.queued, t.done, t.unauthorized, t.timed_out, t.conn_error, t.not_json)
      order by r.request_id $$,
  $$ values
       ('queued', null::integer, null::boolean, null::text, null::jsonb, null::text, false),
       ('done', 200, false, null, '{"claimed": 3, "completed": 3}'::jsonb, '{"claimed": 3, "completed": 3}', true),
       ('http_error', 401, false, null, '{"error": "unauthorized", "message": "bad key"}'::jsonb,
        '{"error": "unauthorized", "message": "bad key"}', true),
       ('timed_out', null, true, 'Timeout of 150000 ms reached', null, null, true),
       ('error', null, false, 'Couldn''t connect to server', null, null, true),
       ('http_error', 502, false, null, null, '<html>Bad gateway</html>', true) $$,
  'edge_function_runs: queued / done / http_error / timed_out / error, JSON parsed only when it is JSON');

select results_eq(
  $$ select r.function_name, r.trigger, r.run_id
       from public.edge_function_runs r where r.request_id = (select done from t_runs) $$,
  $$ select i.function_name, i.trigger, i.run_id
       from public.edge_function_invocations i where i.request_id = (select done from t_runs) $$,
  'a run row carries the invocation''s function, trigger and run id');

select is(public.jsonb_or_null('{"a": '), null, 'jsonb_or_null: truncated JSON gives null, not an error');
select is(public.jsonb_or_null('[1, 2]'), '[1, 2]'::jsonb, 'jsonb_or_null: a JSON array is parsed');

-- A cron run is matched with its cron.job_run_details row (job id, backend pid, time).
create temp table t_cron on commit drop as
  select public.invoke_edge_function('refresh-worker', '{}', 'refresh_worker', 'cron', 150000) as request_id;

-- Explicit run ids: as on hosted, postgres may not advance cron.runid_seq.
insert into cron.job_run_details (runid, jobid, job_pid, database, username, command, status, return_message,
                                  start_time, end_time)
select -11, j.jobid, pg_backend_pid() + 1, 'postgres', 'postgres', j.command, 'failed', 'another session',
       now() - interval '1 second', now() + interval '1 second'
  from cron.job j where j.jobname = 'refresh_worker'
union all
select -12, j.jobid, pg_backend_pid(), 'postgres', 'postgres', j.command, 'succeeded', '1 row',
       now() - interval '1 second', now() + interval '1 second'
  from cron.job j where j.jobname = 'refresh_worker'
union all
select -13, j.jobid, pg_backend_pid(), 'postgres', 'postgres', j.command, 'failed', 'an earlier run',
       now() - interval '2 hours', now() - interval '1 hour'
  from cron.job j where j.jobname = 'refresh_worker';

select results_eq(
  $$ select r.job_name, r.trigger, r.cron_status, r.cron_return_message
       from public.edge_function_runs r where r.request_id = (select request_id from t_cron) $$,
  $$ values ('refresh_worker'::text, 'cron'::text, 'succeeded'::text, '1 row'::text) $$,
  'a cron run shows its own cron.job_run_details status (same job, pid and time window)');
select is(
  (select r.cron_status from public.edge_function_runs r where r.request_id = (select done from t_runs)),
  null, 'a manual run has no cron status');

-- ---------------------------------------------------------------------------------------
-- Re-applying a job definition never duplicates it
-- ---------------------------------------------------------------------------------------

select lives_ok(
  $$ select cron.schedule('refresh_worker', '*/10 * * * *', 'select public.call_refresh_worker(''cron'')') $$,
  'scheduling refresh_worker again (as a migration re-run would) works');
select is((select count(*)::int from cron.job where jobname = 'refresh_worker'), 1,
          '...and still leaves one refresh_worker job');

-- ---------------------------------------------------------------------------------------
-- Function properties
-- ---------------------------------------------------------------------------------------

select is(
  (select array_agg(p.proname::text order by p.proname)
     from pg_proc p
    where p.pronamespace = 'public'::regnamespace
      and p.proname in ('get_supabase_url', 'get_service_role_key', 'get_edge_invoke_secret',
                        'invoke_edge_function')
      and p.prosecdef
      and 'search_path=""' = any (p.proconfig)),
  array['get_edge_invoke_secret', 'get_service_role_key', 'get_supabase_url', 'invoke_edge_function'],
  'the secret readers and invoke_edge_function are SECURITY DEFINER with search_path = ''''');
select is(
  (select array_agg(p.proname::text order by p.proname)
     from pg_proc p
    where p.pronamespace = 'public'::regnamespace
      and p.proname in ('call_scheduled_ingest', 'call_daily_refresh', 'call_refresh_worker', 'prune_old_rows')
      and not p.prosecdef),
  array['call_daily_refresh', 'call_refresh_worker', 'call_scheduled_ingest', 'prune_old_rows'],
  'the call_* functions and prune_old_rows run as their caller (security invoker)');
select is(
  (select relrowsecurity from pg_class where oid = 'public.edge_function_invocations'::regclass),
  true, 'edge_function_invocations has RLS enabled');
select is(
  (select reloptions from pg_class where oid = 'public.edge_function_runs'::regclass),
  array['security_invoker=true'], 'edge_function_runs is a security_invoker view');
select col_is_unique('public', 'edge_function_invocations', array['request_id'], 'request_id is unique');
select col_is_unique('public', 'edge_function_invocations', array['run_id'], 'run_id is unique');
select col_not_null('public', 'edge_function_invocations', 'request_id', 'request_id is required');
select hasnt_column('public', 'edge_function_invocations', 'headers', 'invocations keep no headers (no key)');

select * from finish();
rollback;
