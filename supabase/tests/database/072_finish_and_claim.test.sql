-- 072_finish_and_claim.test.sql
-- finish_and_claim_refresh_batch() (023): finishes a batch and claims the next in one call,
-- with finish_refresh_batch()'s and claim_refresh_batch()'s rules unchanged: finished counts
-- and claimed rows (processing, attempt counted), an empty result list just claims, a batch
-- size of 0 just finishes, a late holder's result is lost_lease, no row is handed out twice
-- (nor the rows the call just finished), clear validation errors, and no EXECUTE for anon or
-- authenticated. Time is "injected" by moving a row's lease into the past.
begin;
select plan(23);

create function pg_temp.add_work(p_tmdb_id integer) returns bigint language sql as $fn$
  insert into public.works (tmdb_id, title, release_date, status, payload_hash, first_ingested_at,
                            last_refreshed_at)
  values (p_tmdb_id, 'Test movie ' || p_tmdb_id, date '1990-01-01', 'Released', repeat('0', 64),
          now() - interval '400 days', now() - interval '2 days')
  returning id
$fn$;

create function pg_temp.qid(p_tmdb_id integer) returns bigint language sql stable as $fn$
  select q.id from public.refresh_queue q
    join public.works w on w.id = q.work_id
   where w.tmdb_id = p_tmdb_id
   order by q.id desc limit 1
$fn$;

-- The claimed rows of a call's answer, as (queue_id, work_id, tmdb_id, attempt).
create function pg_temp.claimed(p_out jsonb)
returns table (queue_id bigint, work_id bigint, tmdb_id integer, attempt integer)
language sql immutable as $fn$
  select (c ->> 'queue_id')::bigint, (c ->> 'work_id')::bigint, (c ->> 'tmdb_id')::integer,
         (c ->> 'attempt')::integer
    from jsonb_array_elements(p_out -> 'claimed') c
$fn$;

-- Start from an empty queue so claims see only this test's rows.
delete from public.refresh_queue;

select pg_temp.add_work(t) from generate_series(991001, 991008) t;
select public.enqueue_refresh(array(select id from public.works
                                     where tmdb_id between 991001 and 991008 order by id));

-- ---------------------------------------------------------------------------------------
-- Empty results: just claims
-- ---------------------------------------------------------------------------------------

create temp table t_out (step text primary key, out jsonb) on commit drop;
insert into t_out select 'first', public.finish_and_claim_refresh_batch('worker-a', '[]', 3, 120);

select is((select out -> 'finished' from t_out where step = 'first'),
          '{"completed": 0, "retried": 0, "failed": 0, "lost_lease": 0, "items": []}'::jsonb,
          'an empty result list finishes nothing: zero counts, items []');
select results_eq(
  $$ select c.queue_id, c.tmdb_id, c.attempt from t_out o, pg_temp.claimed(o.out) c
      where o.step = 'first' order by c.queue_id $$,
  $$ values (pg_temp.qid(991001), 991001, 1), (pg_temp.qid(991002), 991002, 1),
            (pg_temp.qid(991003), 991003, 1) $$,
  '...and claims the first batch in queue order, attempt 1');
select results_eq(
  $$ select q.status, q.locked_by, q.retry_count, q.lease_expires_at = now() + interval '120 seconds'
       from public.refresh_queue q
      where q.id in (select c.queue_id from t_out o, pg_temp.claimed(o.out) c where o.step = 'first')
      order by q.id $$,
  $$ values ('processing'::text, 'worker-a'::text, 1, true), ('processing', 'worker-a', 1, true),
            ('processing', 'worker-a', 1, true) $$,
  '...the claimed rows are processing, held by the worker for the lease, attempt counted');
select ok((select (c ->> 'work_id')::bigint = q.work_id
             from t_out o, jsonb_array_elements(o.out -> 'claimed') c, public.refresh_queue q
            where o.step = 'first' and q.id = (c ->> 'queue_id')::bigint
            limit 1),
          '...each claimed item carries its work_id');

-- ---------------------------------------------------------------------------------------
-- Finish + claim in one call
-- ---------------------------------------------------------------------------------------

insert into t_out select 'second', public.finish_and_claim_refresh_batch('worker-a', jsonb_build_array(
  jsonb_build_object('queue_id', pg_temp.qid(991001), 'attempt', 1, 'ok', true, 'result', 'refreshed'),
  jsonb_build_object('queue_id', pg_temp.qid(991002), 'attempt', 1, 'ok', false, 'error', 'timeout'),
  jsonb_build_object('queue_id', pg_temp.qid(991003), 'attempt', 1, 'ok', false, 'error', '401',
                     'retryable', false)), 3, 120);

select is((select out -> 'finished' from t_out where step = 'second'),
          jsonb_build_object(
            'completed', 1, 'retried', 1, 'failed', 1, 'lost_lease', 0,
            'items', jsonb_build_array(
              jsonb_build_object('queue_id', pg_temp.qid(991001), 'outcome', 'completed'),
              jsonb_build_object('queue_id', pg_temp.qid(991002), 'outcome', 'retry'),
              jsonb_build_object('queue_id', pg_temp.qid(991003), 'outcome', 'failed'))),
          'finish + claim: finished is what finish_refresh_batch reports (counts and items)');
select results_eq(
  $$ select status from public.refresh_queue
      where id in (pg_temp.qid(991001), pg_temp.qid(991002), pg_temp.qid(991003)) order by id $$,
  $$ values ('completed'::text), ('pending'::text), ('failed'::text) $$,
  '...each finished row is in the state its outcome says');
select results_eq(
  $$ select c.queue_id, c.tmdb_id, c.attempt from t_out o, pg_temp.claimed(o.out) c
      where o.step = 'second' order by c.queue_id $$,
  $$ values (pg_temp.qid(991004), 991004, 1), (pg_temp.qid(991005), 991005, 1),
            (pg_temp.qid(991006), 991006, 1) $$,
  '...and the same call claims the next batch');
select is_empty(
  $$ select c.queue_id from t_out o, pg_temp.claimed(o.out) c
      where o.step = 'second'
        and c.queue_id in (pg_temp.qid(991001), pg_temp.qid(991002), pg_temp.qid(991003)) $$,
  '...which holds none of the rows the call just finished (the retried one waits its backoff)');
select is((select count(*)::int from public.refresh_queue
            where status = 'processing' and locked_by = 'worker-a' and retry_count = 1),
          3, '...and the worker now holds exactly the new batch');

-- ---------------------------------------------------------------------------------------
-- No row handed to two workers
-- ---------------------------------------------------------------------------------------

insert into t_out select 'other', public.finish_and_claim_refresh_batch('worker-b', '[]', 10, 120);
select results_eq(
  $$ select c.queue_id from t_out o, pg_temp.claimed(o.out) c where o.step = 'other' order by 1 $$,
  $$ values (pg_temp.qid(991007)), (pg_temp.qid(991008)) $$,
  'another worker''s call gets only the rows nobody holds');
select is((select count(*)::int - count(distinct c.queue_id)::int
             from t_out o, pg_temp.claimed(o.out) c),
          0, 'no queue row appears in two claims (nor twice in one)');

-- ---------------------------------------------------------------------------------------
-- Batch size 0: just finishes
-- ---------------------------------------------------------------------------------------

select is(
  public.finish_and_claim_refresh_batch('worker-b', jsonb_build_array(
    jsonb_build_object('queue_id', pg_temp.qid(991007), 'attempt', 1, 'ok', true, 'result', 'unchanged')),
    0, 120),
  jsonb_build_object(
    'finished', jsonb_build_object(
      'completed', 1, 'retried', 0, 'failed', 0, 'lost_lease', 0,
      'items', jsonb_build_array(
        jsonb_build_object('queue_id', pg_temp.qid(991007), 'outcome', 'completed'))),
    'claimed', '[]'::jsonb),
  'batch size 0 finishes and claims nothing');
select is((select status from public.refresh_queue where id = pg_temp.qid(991008)),
          'processing', '...the worker''s other row is still held, nothing new is claimed');

-- ---------------------------------------------------------------------------------------
-- Lost lease: a late holder's result changes nothing
-- ---------------------------------------------------------------------------------------

-- worker-b's lease on 991008 expires; worker-c's call reaps and reclaims it as attempt 2.
update public.refresh_queue set lease_expires_at = now() - interval '1 second'
 where id = pg_temp.qid(991008);
insert into t_out select 'reclaim', public.finish_and_claim_refresh_batch('worker-c', '[]', 10, 60);
select results_eq(
  $$ select c.queue_id, c.attempt from t_out o, pg_temp.claimed(o.out) c where o.step = 'reclaim' $$,
  $$ values (pg_temp.qid(991008), 2) $$,
  'an expired lease is reclaimed by another worker''s call as attempt 2');
select is(
  public.finish_and_claim_refresh_batch('worker-b', jsonb_build_array(
    jsonb_build_object('queue_id', pg_temp.qid(991008), 'attempt', 1, 'ok', true, 'result', 'refreshed')),
    10, 120) -> 'finished',
  jsonb_build_object(
    'completed', 0, 'retried', 0, 'failed', 0, 'lost_lease', 1,
    'items', jsonb_build_array(
      jsonb_build_object('queue_id', pg_temp.qid(991008), 'outcome', 'lost_lease'))),
  'the late holder''s result is lost_lease');
select results_eq(
  $$ select status, locked_by, retry_count from public.refresh_queue where id = pg_temp.qid(991008) $$,
  $$ values ('processing'::text, 'worker-c'::text, 2) $$,
  '...and the row is still worker-c''s attempt 2, untouched');

-- ---------------------------------------------------------------------------------------
-- Validation
-- ---------------------------------------------------------------------------------------

select throws_ok(
  $$ select public.finish_and_claim_refresh_batch('worker-a', '[]', -1, 120) $$,
  '22023', 'p_batch_size must be between 0 (finish only) and 1000: current value is -1',
  'a negative batch size is refused');
select throws_ok(
  $$ select public.finish_and_claim_refresh_batch('', '[]', 10, 120) $$,
  '22023', 'p_worker must be a non-empty worker id: current value is ''''',
  'an empty worker id is refused (as finish_refresh_batch says it)');
select throws_ok(
  $$ select public.finish_and_claim_refresh_batch('worker-a', '{"queue_id": 1}', 10, 120) $$,
  '22023', 'p_results must be a JSON array: current value is {"queue_id": 1}',
  'results that are not an array are refused (as finish_refresh_batch says it)');

-- ---------------------------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------------------------

select is_empty(
  $$ select r from unnest(array['anon', 'authenticated']) r
      where has_function_privilege(r, 'public.finish_and_claim_refresh_batch(text, jsonb, integer, integer)',
                                   'execute') $$,
  'anon and authenticated have no EXECUTE on finish_and_claim_refresh_batch');
select ok(has_function_privilege('service_role',
                                 'public.finish_and_claim_refresh_batch(text, jsonb, integer, integer)',
                                 'execute'),
          'service_role (the edge functions) may execute it');
set local role anon;
select throws_ok($$ select public.finish_and_claim_refresh_batch('anon', '[]', 10, 120) $$, '42501',
                 'permission denied for function finish_and_claim_refresh_batch',
                 'anon cannot call finish_and_claim_refresh_batch');
reset role;
set local role authenticated;
select throws_ok($$ select public.finish_and_claim_refresh_batch('user', '[]', 10, 120) $$, '42501',
                 'permission denied for function finish_and_claim_refresh_batch',
                 'authenticated cannot call finish_and_claim_refresh_batch');
reset role;

select * from finish();
rollback;
