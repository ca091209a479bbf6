-- 080_cron_queue_access.test.sql
-- Who may do what with the objects of 016–022: the API roles (anon, authenticated) cannot
-- read the queue, the invocation log, the per-run view or the logs, nor execute any function
-- that reads secrets, calls Edge Functions or works the queue; signed-in users may read
-- sync_state and nothing else of it. service_role gets exactly what the Edge Functions
-- use. Every SECURITY DEFINER function in public pins its search_path, and no extension
-- lives in public (Supabase's advisors flag both).
begin;
select plan(43);

-- ---------------------------------------------------------------------------------------
-- Tables and the view, as anon and as authenticated
-- ---------------------------------------------------------------------------------------

set local role anon;
select throws_ok($$ select * from public.refresh_queue $$, '42501',
                 'permission denied for table refresh_queue', 'anon cannot read refresh_queue');
select throws_ok($$ select * from public.edge_function_invocations $$, '42501',
                 'permission denied for table edge_function_invocations', 'anon cannot read edge_function_invocations');
select throws_ok($$ select * from public.edge_function_runs $$, '42501',
                 'permission denied for view edge_function_runs', 'anon cannot read edge_function_runs');
select throws_ok($$ select * from public.tmdb_api_logs $$, '42501',
                 'permission denied for table tmdb_api_logs', 'anon cannot read tmdb_api_logs');
select throws_ok($$ select * from public.scheduled_ingestion_log $$, '42501',
                 'permission denied for table scheduled_ingestion_log', 'anon cannot read scheduled_ingestion_log');
select throws_ok($$ select * from public.sync_state $$, '42501',
                 'permission denied for table sync_state', 'anon cannot read sync_state');
reset role;

set local role authenticated;
select throws_ok($$ select * from public.refresh_queue $$, '42501',
                 'permission denied for table refresh_queue', 'authenticated cannot read refresh_queue');
select throws_ok($$ insert into public.refresh_queue (work_id) values (1) $$, '42501',
                 'permission denied for table refresh_queue', 'authenticated cannot write refresh_queue');
select throws_ok($$ select * from public.edge_function_invocations $$, '42501',
                 'permission denied for table edge_function_invocations', 'authenticated cannot read edge_function_invocations');
select throws_ok($$ select * from public.edge_function_runs $$, '42501',
                 'permission denied for view edge_function_runs', 'authenticated cannot read edge_function_runs');
select throws_ok($$ select * from public.tmdb_api_logs $$, '42501',
                 'permission denied for table tmdb_api_logs', 'authenticated cannot read tmdb_api_logs');
select throws_ok($$ select * from public.scheduled_ingestion_log $$, '42501',
                 'permission denied for table scheduled_ingestion_log', 'authenticated cannot read scheduled_ingestion_log');
select results_eq($$ select key from public.sync_state where key = 'tmdb_movie_changes' $$,
                  $$ values ('tmdb_movie_changes'::text) $$,
                  'authenticated can read sync_state (policy sync_state_select_authenticated)');
select throws_ok($$ update public.sync_state set last_error = 'x' $$, '42501',
                 'permission denied for table sync_state', 'authenticated cannot change sync_state');
reset role;

-- ---------------------------------------------------------------------------------------
-- Functions: executing as the API roles fails with a permission error
-- ---------------------------------------------------------------------------------------

set local role anon;
select throws_ok($$ select public.get_service_role_key() $$, '42501',
                 'permission denied for function get_service_role_key', 'anon cannot read the service key');
select throws_ok($$ select public.get_supabase_url() $$, '42501',
                 'permission denied for function get_supabase_url', 'anon cannot call get_supabase_url');
select throws_ok($$ select public.invoke_edge_function('refresh-worker', '{}', null, 'manual', 150000) $$, '42501',
                 'permission denied for function invoke_edge_function', 'anon cannot call invoke_edge_function');
select throws_ok($$ select public.call_scheduled_ingest('mixed_daily', 5, 'manual') $$, '42501',
                 'permission denied for function call_scheduled_ingest', 'anon cannot call call_scheduled_ingest');
select throws_ok($$ select * from public.claim_refresh_batch('anon', 10, 120) $$, '42501',
                 'permission denied for function claim_refresh_batch', 'anon cannot claim from the queue');
reset role;

set local role authenticated;
select throws_ok($$ select public.get_service_role_key() $$, '42501',
                 'permission denied for function get_service_role_key', 'authenticated cannot read the service key');
select throws_ok($$ select public.call_daily_refresh() $$, '42501',
                 'permission denied for function call_daily_refresh', 'authenticated cannot call call_daily_refresh');
select throws_ok($$ select public.call_refresh_worker() $$, '42501',
                 'permission denied for function call_refresh_worker', 'authenticated cannot call call_refresh_worker');
select throws_ok($$ select public.finish_refresh_batch('me', '[]') $$, '42501',
                 'permission denied for function finish_refresh_batch', 'authenticated cannot finish batches');
reset role;

-- ---------------------------------------------------------------------------------------
-- Function privileges, exhaustively
-- ---------------------------------------------------------------------------------------

create temp table t_fns (sig regprocedure, service_role_may boolean) on commit drop;
insert into t_fns values
  ('public.get_supabase_url()', false),
  ('public.get_service_role_key()', false),
  ('public.invoke_edge_function(text, jsonb, text, text, integer)', false),
  ('public.call_scheduled_ingest(text, integer, text)', false),
  ('public.call_daily_refresh(text)', false),
  ('public.call_refresh_worker(text)', false),
  ('public.prune_old_rows(interval, interval, interval)', false),
  ('public.is_intended_pacific_time(time, timestamptz, integer, interval)', true),
  ('public.jsonb_or_null(text)', true),
  ('public.enqueue_refresh(bigint[], text, integer)', true),
  ('public.enqueue_stale_movies(integer)', true),
  ('public.enqueue_changed_movies(integer[], integer)', true),
  ('public.claim_refresh_batch(text, integer, integer)', true),
  ('public.finish_refresh_batch(text, jsonb)', true),
  ('public.refresh_queue_stats()', true),
  ('public.get_stale_movies(integer)', true),
  ('public.classify_tmdb_ids(integer[])', true),
  ('public.start_ingestion_run(uuid, text, text, integer)', true),
  ('public.finish_ingestion_run(uuid, integer, integer, integer, integer, integer, text, text, jsonb)', true),
  ('public.record_changes_sync(text, timestamptz, uuid, text)', true);

select is_empty(
  $$ select f.sig::text, r.role from t_fns f cross join (values ('anon'), ('authenticated')) r(role)
      where has_function_privilege(r.role, f.sig, 'execute') $$,
  'no function of 016–022 is executable by anon or authenticated');
select is_empty(
  $$ select f.sig::text from t_fns f
      where has_function_privilege('service_role', f.sig, 'execute') <> f.service_role_may $$,
  'service_role may execute the queue and run helpers, not the secret readers, callers or pruning');
select is_empty(
  $$ select f.sig::text from t_fns f where not has_function_privilege('postgres', f.sig, 'execute') $$,
  'postgres (owner, runs the cron jobs) may execute all of them');

-- The SECURITY DEFINER ones, one by one (function_privs_are).
select function_privs_are('public', 'get_service_role_key', array[]::name[], 'anon', array[]::text[],
                          'anon has no privilege on get_service_role_key()');
select function_privs_are('public', 'get_service_role_key', array[]::name[], 'authenticated', array[]::text[],
                          'authenticated has no privilege on get_service_role_key()');
select function_privs_are('public', 'get_service_role_key', array[]::name[], 'service_role', array[]::text[],
                          'service_role has no privilege on get_service_role_key()');
select function_privs_are('public', 'get_supabase_url', array[]::name[], 'anon', array[]::text[],
                          'anon has no privilege on get_supabase_url()');
select function_privs_are('public', 'get_supabase_url', array[]::name[], 'authenticated', array[]::text[],
                          'authenticated has no privilege on get_supabase_url()');
select function_privs_are('public', 'invoke_edge_function', array['text', 'jsonb', 'text', 'text', 'integer'],
                          'anon', array[]::text[], 'anon has no privilege on invoke_edge_function()');
select function_privs_are('public', 'invoke_edge_function', array['text', 'jsonb', 'text', 'text', 'integer'],
                          'authenticated', array[]::text[], 'authenticated has no privilege on invoke_edge_function()');

-- ---------------------------------------------------------------------------------------
-- Table privileges and RLS
-- ---------------------------------------------------------------------------------------

select is_empty(
  $$ select t.tbl, r.role, p.priv
       from (values ('public.refresh_queue'), ('public.edge_function_invocations'),
                    ('public.edge_function_runs'), ('public.sync_state')) t(tbl)
       cross join (values ('anon'), ('authenticated')) r(role)
       cross join (values ('select'), ('insert'), ('update'), ('delete')) p(priv)
      where has_table_privilege(r.role, t.tbl, p.priv)
        and not (t.tbl = 'public.sync_state' and r.role = 'authenticated' and p.priv = 'select') $$,
  'the API roles hold no table privilege here except authenticated''s select on sync_state');
select ok(has_table_privilege('service_role', 'public.refresh_queue', 'select, insert, update, delete')
          and has_table_privilege('service_role', 'public.sync_state', 'select, insert, update, delete')
          and has_table_privilege('service_role', 'public.edge_function_invocations', 'select'),
          'service_role may use refresh_queue and sync_state and read edge_function_invocations');
select ok(not has_table_privilege('service_role', 'public.edge_function_invocations', 'insert')
          and not has_table_privilege('service_role', 'public.edge_function_runs', 'select'),
          'service_role cannot forge invocations nor read the per-run view (it joins pg_net and pg_cron)');
select is(
  (select array_agg(relname::text order by relname) from pg_class
    where oid in ('public.refresh_queue'::regclass, 'public.sync_state'::regclass,
                  'public.edge_function_invocations'::regclass)
      and relrowsecurity),
  array['edge_function_invocations', 'refresh_queue', 'sync_state'],
  'RLS is enabled on refresh_queue, sync_state and edge_function_invocations');
select policies_are('public', 'sync_state', array['sync_state_select_authenticated'],
                    'sync_state has just the authenticated read policy');
select policies_are('public', 'refresh_queue', array[]::name[],
                    'refresh_queue has no policy (no API role may see it)');

-- ---------------------------------------------------------------------------------------
-- Advisors' rules
-- ---------------------------------------------------------------------------------------

select is_empty(
  $$ select p.oid::regprocedure::text from pg_proc p
      where p.pronamespace = 'public'::regnamespace and p.prosecdef
        and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%') $$,
  'every SECURITY DEFINER function in public sets its search_path');
select is_empty(
  $$ select p.oid::regprocedure::text from pg_proc p
      where p.pronamespace = 'public'::regnamespace and p.prosecdef
        and (has_function_privilege('anon', p.oid, 'execute')
             or has_function_privilege('authenticated', p.oid, 'execute'))
        and p.oid in (select sig from t_fns) $$,
  'none of this change''s SECURITY DEFINER functions is executable by the API roles');
select is_empty(
  $$ select extname from pg_extension where extnamespace = 'public'::regnamespace $$,
  'no extension is installed in schema public');
select is_empty(
  $$ select p.oid::regprocedure::text from pg_proc p join t_fns f on f.sig = p.oid
      where not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%') $$,
  'every function of this change pins its search_path');

select * from finish();
rollback;
