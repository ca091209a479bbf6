-- 090_prying_roles.test.sql
-- What anon and authenticated (the API roles a browser holds) can reach, with the grants
-- hosted Supabase gives: pg_net's schema, tables and functions are open to every role (see
-- 003_net_and_cron_as_hosted), Vault and pg_cron are not.
--
-- Public is checked GENERICALLY: every table, view, sequence and function of the project in
-- schema public is looked up in the catalogs, and then actually tried as each role. Nothing
-- here names a table or a function to let it through except two short allowlists:
--   * readable: the catalog (works and its child tables) for both roles, plus sync_state
--     for authenticated only;
--   * executable: the pure freshness-policy helpers (is_stale and friends).
-- Everything else — present now or added by a later migration — must be closed to both
-- roles: no read of the queue, the logs, the invocations and the per-run view; no EXECUTE on
-- any SECURITY DEFINER function, any call_*(), get_service_role_key(), get_supabase_url(),
-- invoke_edge_function(), the queue functions or the ingest functions; no INSERT, UPDATE,
-- DELETE, TRUNCATE (nor REFERENCES, TRIGGER) on any relation. A new object that should be
-- public has to be added to an allowlist here, on purpose.
-- Also: every SECURITY DEFINER function in public has its search_path pinned, every table in
-- public has RLS on, no extension lives in public; Vault, pg_cron's jobs and the migration
-- history are out of reach; and what anon CAN read in net — the requests a cron call queues —
-- holds no credential: no key, no Vault secret, nothing that authenticates as service_role.
begin;
select plan(57);
set local client_min_messages = warning;

-- ---------------------------------------------------------------------------------------
-- Helpers (temporary: they vanish with the session)
-- ---------------------------------------------------------------------------------------

-- The project's objects in public: extension members (none should exist, see below) are
-- not the project's.
create temp view t_rel as
  select c.oid, c.relname::text as name, c.relkind
    from pg_class c
   where c.relnamespace = 'public'::regnamespace
     and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
     and not exists (select 1 from pg_depend d
                      where d.classid = 'pg_class'::regclass and d.objid = c.oid
                        and d.deptype = 'e');

create temp view t_fn as
  select p.oid, p.proname::text as name, p.oid::regprocedure::text as signature,
         p.prosecdef, p.proconfig, p.prokind, p.proargtypes
    from pg_proc p
   where p.pronamespace = 'public'::regnamespace
     and not exists (select 1 from pg_depend d
                      where d.classid = 'pg_proc'::regclass and d.objid = p.oid
                        and d.deptype = 'e');

-- What anon / authenticated may SELECT (everything else in public is private).
create temp table t_readable (role name, name text);
insert into t_readable
  select r, t
    from unnest(array['anon', 'authenticated']) as r,
         unnest(array['works', 'genres', 'work_genres', 'people', 'work_cast', 'work_crew',
                       'work_videos', 'work_release_dates']) as t
  union all
  select 'authenticated', 'sync_state';

-- What anon / authenticated may EXECUTE: pure, SECURITY INVOKER policy helpers only.
create temp table t_executable (name text);
insert into t_executable values
  ('min_refresh_interval'), ('max_refresh_interval'), ('refresh_interval'),
  ('compute_next_refresh_at'), ('is_stale');

-- Runs p_sql and returns 'ok', or the SQLSTATE it raised (its effects are rolled back with
-- the subtransaction; on 'ok' they would be rolled back with the test's transaction).
create function pg_temp.sqlstate_of(p_sql text) returns text
language plpgsql as $fn$
begin
  execute p_sql;
  return 'ok';
exception when others then
  return sqlstate;
end;
$fn$;

-- The statements a prying role tries, one row per (object, action), built from the catalogs.
create temp table t_probe (name text, action text, sql text, private boolean);
insert into t_probe
  -- read every relation (private ones must refuse)
  select r.name, 'select', format('select 1 from public.%I limit 0', r.name), true
    from t_rel r where r.relkind <> 'S'
  -- write every table
  union all
  select r.name, 'insert', format('insert into public.%I default values', r.name), true
    from t_rel r where r.relkind in ('r', 'p')
  union all
  select r.name, 'update',
         format('update public.%I set %I = %I where false', r.name, a.attname, a.attname), true
    from t_rel r
    cross join lateral (
      select a.attname from pg_attribute a
       where a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
         and a.attgenerated = '' and a.attidentity = ''
       order by a.attnum limit 1) a
   where r.relkind in ('r', 'p')
  union all
  select r.name, 'delete', format('delete from public.%I where false', r.name), true
    from t_rel r where r.relkind in ('r', 'p')
  union all
  select r.name, 'truncate', format('truncate public.%I', r.name), true
    from t_rel r where r.relkind in ('r', 'p')
  -- use every sequence
  union all
  select r.name, 'nextval', format('select nextval(%L)', 'public.' || quote_ident(r.name)), true
    from t_rel r where r.relkind = 'S'
  -- call every function with NULL arguments (EXECUTE is checked before the body runs)
  union all
  select f.signature, 'execute',
         format(case when f.prokind = 'p' then 'call public.%I(%s)' else 'select public.%I(%s)' end,
                f.name,
                coalesce((select string_agg(format('null::%s', t::regtype), ', ' order by o)
                            from unnest(f.proargtypes::oid[]) with ordinality as u(t, o)), '')),
         true
    from t_fn f where f.prokind in ('f', 'p');

-- Runs every probe as `p_role` and returns one line per probe that was NOT refused with
-- 42501 (insufficient_privilege) although it should be, e.g. 'select refresh_queue → ok'.
create function pg_temp.leaks(p_role text) returns setof text
language plpgsql as $fn$
declare
  v record;
  v_state text;
begin
  for v in
    select p.* from t_probe p
     where not (p.action = 'select'
                and exists (select 1 from t_readable r where r.role = p_role and r.name = p.name))
       and not (p.action = 'execute'
                and split_part(p.name, '(', 1) in (select e.name from t_executable e))
     order by p.action, p.name
  loop
    execute format('set local role %I', p_role);
    v_state := pg_temp.sqlstate_of(v.sql);
    reset role;
    if v_state <> '42501' then
      return next format('%s %s → %s', v.action, v.name, v_state);
    end if;
  end loop;
end;
$fn$;

grant select on t_probe, t_readable, t_executable to anon, authenticated;

-- ---------------------------------------------------------------------------------------
-- The shape of public: extensions, RLS, pinned search_path
-- ---------------------------------------------------------------------------------------

select is_empty(
  $$ select extname::text from pg_extension where extnamespace = 'public'::regnamespace $$,
  'no extension lives in public');
select is_empty(
  $$ select pg_describe_object(d.classid, d.objid, d.objsubid)
       from pg_depend d
       left join pg_class c on d.classid = 'pg_class'::regclass and c.oid = d.objid
       left join pg_proc p on d.classid = 'pg_proc'::regclass and p.oid = d.objid
       left join pg_type t on d.classid = 'pg_type'::regclass and t.oid = d.objid
      where d.deptype = 'e'
        and 'public'::regnamespace in (c.relnamespace, p.pronamespace, t.typnamespace) $$,
  'no extension object (function, table, type) lives in public');
select isnt_empty($$ select 1 from t_rel $$, 'the project has relations in public to check');
select isnt_empty($$ select 1 from t_fn $$, 'the project has functions in public to check');
select is_empty(
  $$ select name from t_rel where relkind in ('r', 'p')
       and not (select c.relrowsecurity from pg_class c where c.oid = t_rel.oid) $$,
  'every table in public has row level security enabled');
select is_empty(
  $$ select signature from t_fn
      where prosecdef
        and not exists (select 1 from unnest(coalesce(proconfig, '{}')) s
                         where s like 'search\_path=%') $$,
  'every SECURITY DEFINER function in public pins its search_path');
select is_empty(
  $$ select signature || ' ' || coalesce(array_to_string(proconfig, ','), '(no config)') from t_fn
      where prosecdef and not ('search_path=""' = any (coalesce(proconfig, '{}'))) $$,
  'every SECURITY DEFINER function in public uses search_path = '''' (docs/CONVENTIONS.md)');
select is_empty(
  $$ select signature from t_fn
      where not exists (select 1 from unnest(coalesce(proconfig, '{}')) s
                         where s like 'search\_path=%') $$,
  'every function in public pins its search_path (no mutable search_path, splinter 0011)');
select is_empty(
  $$ select name from t_executable e
      where not exists (select 1 from t_fn f where f.name = e.name and not f.prosecdef) $$,
  'the executable allowlist names existing SECURITY INVOKER functions only');
select is_empty(
  $$ select name from t_readable r where not exists (select 1 from t_rel t where t.name = r.name) $$,
  'the readable allowlist names existing relations only');

-- ---------------------------------------------------------------------------------------
-- Privileges, from the catalogs (column grants included)
-- ---------------------------------------------------------------------------------------

select is_empty(
  format($$ select r.name from t_rel r
             where r.relkind <> 'S'
               and has_any_column_privilege(%L, r.oid, 'SELECT')
               and r.name not in (select name from t_readable where role = %L) $$, role, role),
  format('%s can SELECT only the allowlisted relations of public', role))
  from unnest(array['anon', 'authenticated']) as role;

select is_empty(
  format($$ select r.name || ' ' || priv from t_rel r,
                  unnest(array['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) priv
             where r.relkind <> 'S'
               and (has_table_privilege(%L, r.oid, priv)
                    or (priv in ('INSERT', 'UPDATE', 'REFERENCES')
                        and has_any_column_privilege(%L, r.oid, priv))) $$, role, role),
  format('%s has no INSERT/UPDATE/DELETE/TRUNCATE/REFERENCES/TRIGGER on any relation of public', role))
  from unnest(array['anon', 'authenticated']) as role;

select is_empty(
  format($$ select r.name || ' ' || priv from t_rel r, unnest(array['USAGE', 'SELECT', 'UPDATE']) priv
             where r.relkind = 'S' and has_sequence_privilege(%L, r.oid, priv) $$, role),
  format('%s can neither read nor advance any sequence of public', role))
  from unnest(array['anon', 'authenticated']) as role;

select is_empty(
  format($$ select f.signature from t_fn f
             where has_function_privilege(%L, f.oid, 'EXECUTE')
               and f.name not in (select name from t_executable) $$, role),
  format('%s can EXECUTE only the allowlisted functions of public', role))
  from unnest(array['anon', 'authenticated']) as role;

select is_empty(
  $$ select f.signature || ' by ' || r
       from t_fn f, unnest(array['anon', 'authenticated']) r
      where f.prosecdef and has_function_privilege(r, f.oid, 'EXECUTE')
     union all
     select f.signature || ' by PUBLIC'
       from t_fn f, aclexplode(coalesce((select p.proacl from pg_proc p where p.oid = f.oid),
                                        acldefault('f', (select p.proowner from pg_proc p where p.oid = f.oid)))) a
      where f.prosecdef and a.grantee = 0 and a.privilege_type = 'EXECUTE' $$,
  'no SECURITY DEFINER function of public is executable by anon, authenticated or PUBLIC');

-- The functions the issue names, by name, so a rename cannot slip through the allowlist.
select is_empty(
  $$ select f.signature || ' by ' || r
       from t_fn f, unnest(array['anon', 'authenticated']) r
      where (f.name like 'call\_%' or f.name in ('get_service_role_key', 'get_supabase_url',
                                                 'invoke_edge_function'))
        and has_function_privilege(r, f.oid, 'EXECUTE') $$,
  'call_*(), get_service_role_key(), get_supabase_url(), invoke_edge_function(): no EXECUTE for anon/authenticated');
select is(
  (select count(*)::int from t_fn
    where name in ('call_scheduled_ingest', 'call_daily_refresh', 'call_refresh_worker',
                   'get_service_role_key', 'get_supabase_url', 'invoke_edge_function')),
  6, 'the six cron-side functions exist (so the check above checked something)');
select is_empty(
  $$ select f.signature || ' by ' || r
       from t_fn f, unnest(array['anon', 'authenticated']) r
      where (f.name like '%refresh%' or f.name like 'enqueue\_%' or f.name like '%ingest%'
             or f.name in ('mark_movie_not_found', 'classify_tmdb_ids', 'record_changes_sync',
                           'get_stale_movies', 'prune_old_rows', 'jsonb_or_null'))
        and f.name not in (select name from t_executable)
        and has_function_privilege(r, f.oid, 'EXECUTE') $$,
  'queue, ingest, run-log and housekeeping functions: no EXECUTE for anon/authenticated');
select cmp_ok(
  (select count(*)::int from t_fn
    where name in ('claim_refresh_batch', 'finish_refresh_batch', 'enqueue_refresh',
                   'enqueue_stale_movies', 'enqueue_changed_movies', 'refresh_queue_stats',
                   'ingest_movie', 'mark_movie_not_found', 'start_ingestion_run',
                   'finish_ingestion_run')),
  '>=', 10, 'the queue and ingest functions exist (so the check above checked something)');

-- The internal relations the issue names, one by one.
select ok(not has_table_privilege(r, format('public.%I', t), 'SELECT'),
          format('%s cannot read public.%s', r, t))
  from unnest(array['anon', 'authenticated']) as r,
       unnest(array['refresh_queue', 'tmdb_api_logs', 'scheduled_ingestion_log',
                    'edge_function_invocations', 'edge_function_runs']) as t;
select ok(not has_table_privilege('anon', 'public.sync_state', 'SELECT'),
          'anon cannot read public.sync_state');
select ok(has_table_privilege('authenticated', 'public.sync_state', 'SELECT')
          and not has_table_privilege('authenticated', 'public.sync_state', 'INSERT, UPDATE, DELETE, TRUNCATE'),
          'authenticated may only SELECT public.sync_state');

-- Schemas: nothing to create in public or net; Vault, pg_cron and the migration history out
-- of reach; net open, as on hosted Supabase.
select is_empty(
  $$ select r || ' ' || s || ' ' || priv
       from unnest(array['anon', 'authenticated']) r,
            unnest(array['vault', 'cron', 'supabase_migrations']) s,
            unnest(array['USAGE', 'CREATE']) priv
      where exists (select 1 from pg_namespace n where n.nspname = s)
        and has_schema_privilege(r, s, priv)
     union all
     select r || ' ' || s || ' CREATE' from unnest(array['anon', 'authenticated']) r,
                                            unnest(array['public', 'net']) s
      where has_schema_privilege(r, s, 'CREATE') $$,
  'anon/authenticated: no USAGE on vault, cron, supabase_migrations; no CREATE on public or net');
select is_empty(
  $$ select r || ' ' || c.oid::regclass::text
       from unnest(array['anon', 'authenticated']) r, pg_class c
      where c.relnamespace in (select oid from pg_namespace
                                where nspname in ('vault', 'cron', 'supabase_migrations'))
        and c.relkind in ('r', 'v', 'm', 'p', 'f')
        and has_any_column_privilege(r, c.oid, 'SELECT')
        and has_schema_privilege(r, c.relnamespace, 'USAGE')
     union all
     select r || ' ' || p.oid::regprocedure::text
       from unnest(array['anon', 'authenticated']) r, pg_proc p
      where p.pronamespace in (select oid from pg_namespace where nspname in ('vault', 'cron'))
        and has_function_privilege(r, p.oid, 'EXECUTE')
        and has_schema_privilege(r, p.pronamespace, 'USAGE') $$,
  'anon/authenticated can read no table of vault, cron or the migration history (secrets, job commands) nor call vault/cron functions');
select is(
  (select count(*)::int
     from unnest(array['anon', 'authenticated']) r,
          unnest(array['net.http_request_queue', 'net._http_response']) t
    where has_schema_privilege(r, 'net', 'USAGE') and has_table_privilege(r, t, 'SELECT')),
  4, 'as on hosted, anon/authenticated may read net.http_request_queue and net._http_response (so nothing secret may be queued there)');

-- ---------------------------------------------------------------------------------------
-- Behaviour: every probe actually tried as each role
-- ---------------------------------------------------------------------------------------

select cmp_ok((select count(*)::int from t_probe), '>=', 100,
  'probes were generated for every relation and function of public');

select is_empty(
  format('select * from pg_temp.leaks(%L)', role),
  format('as %s: every private relation refuses SELECT, every table refuses INSERT/UPDATE/DELETE/TRUNCATE, every sequence nextval, every non-allowlisted function EXECUTE (42501)', role))
  from unnest(array['anon', 'authenticated']) as role;

-- The allowlist works as promised (so the probes above are not refusing everything).
set local role anon;
select is(pg_temp.sqlstate_of('select 1 from public.works limit 0'), 'ok', 'anon can read works');
select is(pg_temp.sqlstate_of('select public.is_stale(null::bigint, now())'), 'ok',
  'anon can call is_stale()');
reset role;
set local role authenticated;
select is(pg_temp.sqlstate_of('select key from public.sync_state'), 'ok',
  'authenticated can read sync_state');
reset role;

-- The secrets and the jobs themselves, by name.
set local role anon;
select is(pg_temp.sqlstate_of('select decrypted_secret from vault.decrypted_secrets'), '42501',
  'anon cannot read vault.decrypted_secrets');
select is(pg_temp.sqlstate_of('select public.get_service_role_key()'), '42501',
  'anon cannot call get_service_role_key()');
select is(pg_temp.sqlstate_of('select command from cron.job'), '42501',
  'anon cannot read cron job commands');
select is(pg_temp.sqlstate_of($$select cron.schedule('pry', '* * * * *', 'select 1')$$), '42501',
  'anon cannot schedule a cron job');
select is(pg_temp.sqlstate_of('select count(*) from net.http_request_queue'), 'ok',
  'anon can read net.http_request_queue (hosted grants)');
reset role;
set local role authenticated;
select is(pg_temp.sqlstate_of('select decrypted_secret from vault.decrypted_secrets'), '42501',
  'authenticated cannot read vault.decrypted_secrets');
select is(pg_temp.sqlstate_of('select public.get_service_role_key()'), '42501',
  'authenticated cannot call get_service_role_key()');
select is(pg_temp.sqlstate_of('select command from cron.job'), '42501',
  'authenticated cannot read cron job commands');
select is(pg_temp.sqlstate_of('select count(*) from net._http_response'), 'ok',
  'authenticated can read net._http_response (hosted grants)');
reset role;

-- ---------------------------------------------------------------------------------------
-- What a cron call leaves in net, read as anon and as authenticated
-- ---------------------------------------------------------------------------------------

-- A real cron call, queued in this transaction (rolled back, never sent), with secrets of
-- known value in Vault, including a service key, so the checks below cannot pass vacuously.
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
select pg_temp.set_secret('project_url', 'https://pry-ref.supabase.co');
select pg_temp.set_secret('edge_invoke_secret', 'pry-invoke-secret-0123456789abcdef0123456789abcdef');
select pg_temp.set_secret('service_role_key',
  'eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.pry-service-key-signature');

create temp table t_call as select public.call_refresh_worker('cron') as request_id;
create temp table t_seen (role text, part text, value text);
grant select on t_call to anon, authenticated;
grant insert on t_seen to anon, authenticated;

create function pg_temp.look_at_the_call() returns void
language sql as $fn$
  insert into t_seen
  select current_user, 'url', q.url from net.http_request_queue q
   where q.id = (select request_id from t_call)
  union all
  select current_user, 'body', convert_from(q.body, 'UTF8') from net.http_request_queue q
   where q.id = (select request_id from t_call)
  union all
  select current_user, 'header ' || h.key, h.value
    from net.http_request_queue q, jsonb_each_text(q.headers) h
   where q.id = (select request_id from t_call)
$fn$;
set local role anon;
select pg_temp.look_at_the_call();
reset role;
set local role authenticated;
select pg_temp.look_at_the_call();
reset role;

select results_eq(
  $$ select role, part from t_seen order by role, part $$,
  $$ values ('anon', 'body'), ('anon', 'header Content-Type'), ('anon', 'header x-tmdb-sync-signature'),
            ('anon', 'url'),
            ('authenticated', 'body'), ('authenticated', 'header Content-Type'),
            ('authenticated', 'header x-tmdb-sync-signature'), ('authenticated', 'url') $$,
  'anon and authenticated read the queued cron call: its URL, body and headers (Content-Type and the signature only)');
select is_empty(
  $$ select s.role || ' ' || s.part || ' holds the Vault secret ' || v.name
       from t_seen s, vault.decrypted_secrets v
      where v.name <> 'project_url' and v.decrypted_secret <> ''
        and strpos(s.value, v.decrypted_secret) > 0 $$,
  'nothing they read holds a Vault secret (the service key, the invocation secret or any other)');
select is_empty(
  $$ select role || ' ' || part || ': ' || left(value, 40) from t_seen
      where lower(part) in ('header authorization', 'header apikey')
         or value ~* 'bearer|sb_secret_|sb_publishable_'
         or value ~ '[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}' $$,
  'nothing they read is a key: no Authorization or apikey header, no Bearer token, no sb_ key, no JWT');
select is(
  (select count(*)::int from t_seen
    where part = 'header x-tmdb-sync-signature' and value ~ '^t=[0-9]+,v1=[0-9a-f]{64}$'),
  2, 'the signature header is a time and an HMAC digest: it authenticates nothing but this one call, not as service_role anywhere');

select * from finish();
rollback;
