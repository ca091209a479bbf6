-- pg_net and pg_cron as hosted Supabase runs them, which is what the migrations must work
-- with (locally: the pg_net stand-in and the Debian pg_cron, granted as hosted; see
-- docs/hosted-standins.md):
--   * net is open to every role: USAGE on the schema, ALL on its tables and sequence for
--     PUBLIC, request functions SECURITY INVOKER and executable by PUBLIC. Anything written
--     into net.http_request_queue can be read, changed or deleted by anon.
--   * pg_net's interface: method is the domain net.http_method, headers nullable; http_post
--     raises unless Content-Type is application/json (and adds it when absent); a null body
--     is queued as no body; http_delete takes a body; query parameters are URL-encoded.
--   * postgres may only SELECT cron.job and changes jobs through cron.schedule /
--     cron.unschedule / cron.alter_job; it has no TRIGGER on cron.job_run_details and cannot
--     advance pg_cron's sequences; anon and authenticated have no USAGE on cron.
begin;
select plan(30);

-- ---------------------------------------------------------------------------------------
-- net: grants
-- ---------------------------------------------------------------------------------------

select is(
  (select array_agg(a.privilege_type::text order by a.privilege_type)
     from pg_namespace n, aclexplode(n.nspacl) a
    where n.nspname = 'net' and a.grantee = 0),
  array['USAGE'], 'PUBLIC has USAGE on schema net');
select is(
  (select count(*)::int from unnest(array['postgres', 'anon', 'authenticated', 'service_role']) r
    where has_schema_privilege(r, 'net', 'USAGE') and not has_schema_privilege(r, 'net', 'CREATE')),
  4, 'postgres, anon, authenticated and service_role may use net, none may create in it');
select is(
  (select array_agg(c.relname::text || ':' || a.privilege_type::text
                    order by c.relname, a.privilege_type)
     from pg_class c, aclexplode(c.relacl) a
    where c.relnamespace = 'net'::regnamespace and c.relkind in ('r', 'S') and a.grantee = 0),
  array['_http_response:DELETE', '_http_response:INSERT', '_http_response:REFERENCES',
        '_http_response:SELECT', '_http_response:TRIGGER', '_http_response:TRUNCATE',
        '_http_response:UPDATE',
        'http_request_queue:DELETE', 'http_request_queue:INSERT', 'http_request_queue:REFERENCES',
        'http_request_queue:SELECT', 'http_request_queue:TRIGGER', 'http_request_queue:TRUNCATE',
        'http_request_queue:UPDATE',
        'http_request_queue_id_seq:SELECT', 'http_request_queue_id_seq:UPDATE',
        'http_request_queue_id_seq:USAGE'],
  'PUBLIC has ALL on net.http_request_queue, net._http_response and the request id sequence');
select is(
  (select array_agg(p.proname::text order by p.proname)
     from pg_proc p
    where p.pronamespace = 'net'::regnamespace
      and p.proname in ('http_get', 'http_post', 'http_delete')
      and not p.prosecdef
      and has_function_privilege('anon', p.oid, 'EXECUTE')
      and exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                   where a.grantee = 0 and a.privilege_type = 'EXECUTE')),
  array['http_delete', 'http_get', 'http_post'],
  'http_get, http_post and http_delete are SECURITY INVOKER and executable by PUBLIC');

-- ---------------------------------------------------------------------------------------
-- net: column types and signatures
-- ---------------------------------------------------------------------------------------

select is(
  (select format_type(a.atttypid, a.atttypmod) || ' ' || (t.typtype::text) || ' over '
          || format_type(t.typbasetype, null)
     from pg_attribute a join pg_type t on t.oid = a.atttypid
    where a.attrelid = 'net.http_request_queue'::regclass and a.attname = 'method'),
  'net.http_method d over text', 'http_request_queue.method is the domain net.http_method over text');
select col_is_null('net', 'http_request_queue', 'headers', 'http_request_queue.headers is nullable');
select col_type_is('net', 'http_request_queue', 'body', 'bytea', 'http_request_queue.body is bytea');
select has_function('net', 'http_delete', array['text', 'jsonb', 'jsonb', 'integer', 'jsonb'],
                    'http_delete(url, params, headers, timeout_milliseconds, body)');
select has_function('net', 'http_post', array['text', 'jsonb', 'jsonb', 'jsonb', 'integer'],
                    'http_post(url, body, params, headers, timeout_milliseconds)');

-- ---------------------------------------------------------------------------------------
-- net: behaviour (queued in this transaction, rolled back, never sent)
-- ---------------------------------------------------------------------------------------

select throws_ok(
  $$ select net.http_post('http://127.0.0.1:9/x', '{}', headers => '{"Content-Type": "text/plain"}') $$,
  'P0001', 'Content-Type header must be "application/json"',
  'http_post refuses a Content-Type other than application/json');
select throws_ok(
  $$ select net.http_post('http://127.0.0.1:9/x', '{}',
                          headers => '{"content-type": "application/json; charset=utf-8"}') $$,
  'P0001', 'Content-Type header must be "application/json"',
  '...even application/json with parameters (the header name is matched in any case)');

create temp table t_ids on commit drop as
  select net.http_post('http://127.0.0.1:9/a', '{"k": "v"}', headers => '{"X-One": "1"}') as no_ct,
         net.http_post('http://127.0.0.1:9/b', null) as null_body,
         net.http_post('http://127.0.0.1:9/c', '{}', headers => null) as null_headers,
         net.http_delete('http://127.0.0.1:9/d', body => '{"gone": true}') as delete_body,
         net.http_delete('http://127.0.0.1:9/e') as delete_no_body,
         net.http_get('http://127.0.0.1:9/f?x=1', params => '{"q": "a b&c/é"}') as get_params;
grant select on t_ids to anon;

select is((select headers from net.http_request_queue where id = (select no_ct from t_ids)),
          '{"X-One": "1", "Content-Type": "application/json"}'::jsonb,
          'http_post adds Content-Type: application/json to headers that have none');
select is((select body from net.http_request_queue where id = (select null_body from t_ids)),
          null, 'http_post with a null body queues no body');
select is((select headers from net.http_request_queue where id = (select null_headers from t_ids)),
          null, 'http_post with null headers queues null headers');
select is((select method || ' ' || convert_from(body, 'UTF8') from net.http_request_queue
            where id = (select delete_body from t_ids)),
          'DELETE {"gone": true}', 'http_delete queues its body');
select is((select body from net.http_request_queue where id = (select delete_no_body from t_ids)),
          null, 'http_delete without a body queues none');
select is((select url from net.http_request_queue where id = (select get_params from t_ids)),
          'http://127.0.0.1:9/f?x=1&q=a%20b%26c%2F%C3%A9',
          'query parameters are percent-encoded (UTF-8) and appended with & after an existing query');

-- Any role can queue, read and rewrite requests: nothing put there is private.
set local role anon;
select lives_ok($$ select net.http_get('http://127.0.0.1:9/anon') $$, 'anon can queue a request');
select is((select count(*)::int from net.http_request_queue where id in (select no_ct from t_ids)),
          1, 'anon can read the queued requests of other roles');
select lives_ok(
  $$ update net.http_request_queue set url = 'http://127.0.0.1:9/elsewhere' where id = (select no_ct from t_ids) $$,
  'anon can redirect a queued request of another role');
reset role;

-- ---------------------------------------------------------------------------------------
-- cron
-- ---------------------------------------------------------------------------------------

select ok(has_table_privilege('postgres', 'cron.job', 'SELECT')
          and not has_table_privilege('postgres', 'cron.job', 'INSERT')
          and not has_table_privilege('postgres', 'cron.job', 'UPDATE')
          and not has_table_privilege('postgres', 'cron.job', 'DELETE')
          and not has_table_privilege('postgres', 'cron.job', 'TRUNCATE'),
          'postgres may only SELECT cron.job');
select throws_ok($$ update cron.job set active = active where false $$, '42501', null,
                 'a direct UPDATE of cron.job is refused');
select ok(has_table_privilege('postgres', 'cron.job_run_details', 'SELECT, INSERT, UPDATE, DELETE')
          and not has_table_privilege('postgres', 'cron.job_run_details', 'TRIGGER'),
          'postgres may read and write cron.job_run_details, but not create triggers on it');
select ok(not has_sequence_privilege('postgres', 'cron.runid_seq', 'USAGE')
          and not has_sequence_privilege('postgres', 'cron.jobid_seq', 'USAGE'),
          'postgres cannot advance pg_cron''s sequences');

select lives_ok($$ select cron.schedule('pgtap_hosted_job', '0 0 1 1 *', 'select 1') $$,
                'cron.schedule works for postgres');
select lives_ok(
  $$ select cron.alter_job((select jobid from cron.job where jobname = 'pgtap_hosted_job'), active => false) $$,
  'cron.alter_job works for postgres');
select is((select active from cron.job where jobname = 'pgtap_hosted_job'), false,
          '...and changed the job');
select lives_ok($$ select cron.unschedule('pgtap_hosted_job') $$, 'cron.unschedule works for postgres');
select is((select count(*)::int from cron.job where jobname = 'pgtap_hosted_job'), 0,
          '...and removed the job');
select is(
  (select count(*)::int from unnest(array['anon', 'authenticated']) r
    where has_schema_privilege(r, 'cron', 'USAGE')),
  0, 'anon and authenticated have no USAGE on cron');

select * from finish();
rollback;
