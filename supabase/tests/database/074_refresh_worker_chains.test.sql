-- 074_refresh_worker_chains.test.sql
-- Migration 026: refresh-worker runs that hand over to the next run of their chain
-- (continue_refresh_worker), the bounds that stop a chain (paused, nothing ready, too many
-- runs in flight, the hourly cap), and call_refresh_worker('cron') starting a chain only when
-- there is room. Everything is queued inside this transaction and rolled back: pg_net never
-- sends it.
begin;
select plan(31);
set local client_min_messages = warning;

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
select pg_temp.set_secret('project_url', 'http://functions.test');
select pg_temp.set_secret('edge_invoke_secret', repeat('s', 40));

-- Nothing else in flight or queued while the test runs.
delete from public.refresh_queue;
update public.edge_function_invocations set invoked_at = now() - interval '1 day';

-- One ready item.
insert into public.works (tmdb_id, title, payload_hash) values (740001, 'Chain', repeat('0', 64));
select public.enqueue_refresh(array[(select id from public.works where tmdb_id = 740001)], 'manual', 100);

-- ---------------------------------------------------------------------------------------
-- settings
-- ---------------------------------------------------------------------------------------

select results_eq(
  $$ select max_chains, max_continuations_per_hour, paused from public.refresh_worker_settings $$,
  $$ values (2, 240, false) $$,
  'one settings row: two chains, 240 continuations an hour, not paused'
);
select throws_ok(
  $$ insert into public.refresh_worker_settings (id) values (false) $$,
  '23514', null, 'there is only ever one settings row'
);
select throws_ok(
  $$ update public.refresh_worker_settings set max_chains = 0 $$,
  '23514', null, 'max_chains is at least 1'
);
-- The chain tests below count on one chain at a time.
update public.refresh_worker_settings set max_chains = 1;
set local role anon;
select throws_ok($$ select * from public.refresh_worker_settings $$, '42501', null,
  'anon cannot read the settings');
reset role;
set local role authenticated;
select throws_ok($$ select * from public.refresh_worker_settings $$, '42501', null,
  'authenticated cannot read the settings');
reset role;

-- ---------------------------------------------------------------------------------------
-- continue_refresh_worker
-- ---------------------------------------------------------------------------------------

create temporary table r (name text primary key, val jsonb);
insert into r select 'first', public.continue_refresh_worker(
  '00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000c1', 3,
  '{"batch_size": 20, "cpu_budget_ms": 1500}');

select is((select val ->> 'reason' from r where name = 'first'), 'queued',
  'with an item ready and no other run in flight, the next run is queued');
select results_eq(
  $$ select function_name, trigger, job_name,
            body - 'run_id' - 'trigger' - 'job_name'
       from public.edge_function_invocations
      where request_id = (select (val ->> 'request_id')::bigint from r where name = 'first') $$,
  $$ values ('refresh-worker'::text, 'continuation'::text, null::text,
             '{"batch_size": 20, "cpu_budget_ms": 1500, "chain_id": "00000000-0000-4000-8000-0000000000c1", "chain_link": 4}'::jsonb) $$,
  '… as a continuation of the chain, link 4, with the budgets the run passed on'
);
select is(
  (select val ->> 'run_id' from r where name = 'first'),
  (select run_id::text from public.edge_function_invocations
    where request_id = (select (val ->> 'request_id')::bigint from r where name = 'first')),
  '… and the answer names the next run'
);
select ok(
  (select headers ? 'x-tmdb-sync-signature' and not headers ? 'Authorization'
     from net.http_request_queue
    where id = (select (val ->> 'request_id')::bigint from r where name = 'first')),
  '… signed like every call from SQL, with no key'
);

select is(public.refresh_worker_runs_in_flight(), 1, 'that run is in flight (no response yet)');
select is(public.refresh_worker_runs_in_flight(
  (select run_id from public.edge_function_invocations where trigger = 'continuation' order by id desc limit 1)), 0,
  '… except for itself');

select is(
  public.continue_refresh_worker('00000000-0000-4000-8000-0000000000a2',
    '00000000-0000-4000-8000-0000000000c2', 1) ->> 'reason',
  'chain_limit',
  'another chain does not continue while max_chains runs are in flight'
);

-- The next run answered: it is no longer in flight.
insert into net._http_response (id, status_code, content, timed_out)
select (val ->> 'request_id')::bigint, 200, '{}', false from r where name = 'first';
select is(public.refresh_worker_runs_in_flight(), 0, 'a run with a response is not in flight');

update public.refresh_worker_settings set paused = true;
select is(
  public.continue_refresh_worker('00000000-0000-4000-8000-0000000000a3',
    '00000000-0000-4000-8000-0000000000c3', 1) ->> 'reason',
  'paused', 'paused: no continuation'
);
update public.refresh_worker_settings set paused = false;

update public.refresh_worker_settings set max_continuations_per_hour = 1;
select is(
  public.continue_refresh_worker('00000000-0000-4000-8000-0000000000a4',
    '00000000-0000-4000-8000-0000000000c4', 1) ->> 'reason',
  'hourly_cap', 'the hourly cap stops a chain (one continuation already this hour)'
);
update public.refresh_worker_settings set max_continuations_per_hour = 240;

update public.refresh_queue set next_attempt_at = now() + interval '1 hour';
select is(
  public.continue_refresh_worker('00000000-0000-4000-8000-0000000000a5',
    '00000000-0000-4000-8000-0000000000c5', 1) ->> 'reason',
  'queue_empty', 'nothing ready (only items waiting out a backoff): no continuation'
);
update public.refresh_queue set next_attempt_at = now();

select is(
  (select count(*) from public.edge_function_invocations where trigger = 'continuation'),
  1::bigint,
  'only the first call queued anything'
);

select throws_ok(
  $$ select public.continue_refresh_worker(null, '00000000-0000-4000-8000-0000000000c6', 1) $$,
  '22023',
  'p_run_id and p_chain_id are required: current values are NULL, 00000000-0000-4000-8000-0000000000c6',
  'a run id is required'
);
select throws_ok(
  $$ select public.continue_refresh_worker('00000000-0000-4000-8000-0000000000a6',
       '00000000-0000-4000-8000-0000000000c6', 0) $$,
  '22023', 'p_chain_link must be a positive integer: current value is 0',
  'the link is a positive integer'
);
select throws_ok(
  $$ select public.continue_refresh_worker('00000000-0000-4000-8000-0000000000a6',
       '00000000-0000-4000-8000-0000000000c6', 1, '[]') $$,
  '22023', 'p_body must be a JSON object: current value is []',
  'the body is an object'
);

-- ---------------------------------------------------------------------------------------
-- call_refresh_worker: cron starts a chain only when there is room
-- ---------------------------------------------------------------------------------------

select isnt(public.call_refresh_worker('cron'), null, 'cron starts a run when none is in flight');
select is(public.call_refresh_worker('cron'), null, '… but not a second one while that one runs');
select isnt(public.call_refresh_worker(), null, 'a manual call always runs');
update public.refresh_worker_settings set max_chains = 3;
select isnt(public.call_refresh_worker('cron'), null, 'with max_chains 3, cron starts a third run');
select is(
  (select count(*)::int from public.edge_function_invocations
    where function_name = 'refresh-worker' and invoked_at > now() - interval '1 minute'
      and trigger = 'cron'), 2,
  'with one item ready, each cron firing started one run');

-- A run's worth of ready items: cron fills every free chain at once.
insert into public.works (tmdb_id, title, payload_hash)
  select 750000 + g, 'Many ' || g, repeat('0', 64) from generate_series(1, 250) g;
select public.enqueue_refresh(array(select id from public.works where tmdb_id > 750000), 'manual', 100);
update public.refresh_worker_settings set max_chains = 6;
create temp table t_before as
  select count(*)::int as n, public.refresh_worker_runs_in_flight() as in_flight
    from public.edge_function_invocations where trigger = 'cron';
select is((select in_flight from t_before), 3, 'three runs in flight (two cron, one manual)');
select isnt(public.call_refresh_worker('cron'), null, 'with 250 items ready and max_chains 6 …');
select is(
  (select count(*)::int from public.edge_function_invocations where trigger = 'cron') - (select n from t_before),
  3, '… one cron firing starts the 3 runs that fill max_chains');
select is(public.call_refresh_worker('cron'), null, '… and then none while 6 are in flight');

update public.refresh_worker_settings set paused = true, max_chains = 20;
select is(public.call_refresh_worker('cron'), null, 'paused: cron starts nothing');

select function_privs_are('public', 'continue_refresh_worker', array['uuid', 'uuid', 'integer', 'jsonb'],
  'service_role', array[]::text[], 'service_role cannot queue calls (only the owner can)');

select * from finish();
rollback;
