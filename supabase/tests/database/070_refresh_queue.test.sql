-- 070_refresh_queue.test.sql
-- The refresh queue (018): dedupe of active entries, claims bounded by the batch size and
-- in priority order, the attempt counted at claim, completion and failure only by the
-- current holder of the current attempt with a live lease (a late finisher whose lease
-- expired and was re-claimed changes nothing), retries with capped exponential backoff,
-- the final failure keeping the last error, expired leases reclaimed (or failed on the
-- last attempt), not_found completing, the batch form, and the 12 h floor for changed
-- movies. Time is "injected" by moving a row's lease or next attempt into the past.
begin;
select plan(56);

-- One row finished through finish_refresh_batch(), the way a worker's step finishes it.
create function pg_temp.complete(p_queue_id bigint, p_worker text, p_attempt integer, p_result text)
returns boolean language sql as $$
  select public.finish_refresh_batch(p_worker, jsonb_build_array(jsonb_build_object(
           'queue_id', p_queue_id, 'attempt', p_attempt, 'ok', true, 'result', p_result)))
         -> 'items' -> 0 ->> 'outcome' = 'completed'
$$;
create function pg_temp.fail(p_queue_id bigint, p_worker text, p_attempt integer, p_error text,
                             p_retryable boolean default true)
returns text language sql as $$
  select public.finish_refresh_batch(p_worker, jsonb_build_array(jsonb_build_object(
           'queue_id', p_queue_id, 'attempt', p_attempt, 'ok', false, 'error', p_error,
           'retryable', p_retryable)))
         -> 'items' -> 0 ->> 'outcome'
$$;


-- Works with given TMDB ids and refresh times (next_refresh_at follows from the policy).
create function pg_temp.add_work(p_tmdb_id integer, p_last_refreshed_at timestamptz,
                                 p_release_date date default date '1990-01-01')
returns bigint language sql as $fn$
  insert into public.works (tmdb_id, title, release_date, status, payload_hash, first_ingested_at,
                            last_refreshed_at)
  values (p_tmdb_id, 'Test movie ' || p_tmdb_id, p_release_date, 'Released', repeat('0', 64),
          now() - interval '400 days', p_last_refreshed_at)
  returning id
$fn$;

create function pg_temp.wid(p_tmdb_id integer) returns bigint language sql stable as $fn$
  select id from public.works where tmdb_id = p_tmdb_id
$fn$;

create function pg_temp.qid(p_tmdb_id integer) returns bigint language sql stable as $fn$
  select q.id from public.refresh_queue q
   where q.work_id = pg_temp.wid(p_tmdb_id)
   order by q.id desc limit 1
$fn$;

-- Start from an empty queue so counts and claims see only this test's rows.
delete from public.refresh_queue;

select pg_temp.add_work(990001, now() - interval '2 days');
select pg_temp.add_work(990002, now() - interval '2 days');
select pg_temp.add_work(990003, now() - interval '2 days');
select pg_temp.add_work(990004, now() - interval '2 days');
select pg_temp.add_work(990005, now() - interval '2 days');
select pg_temp.add_work(990006, now() - interval '2 days');

-- ---------------------------------------------------------------------------------------
-- Enqueue and dedupe
-- ---------------------------------------------------------------------------------------

select is(public.enqueue_refresh(array[pg_temp.wid(990001)], 'manual', 100::smallint), 1,
          'enqueue_refresh inserts a new entry');
select is(public.enqueue_refresh(array[pg_temp.wid(990001)], 'manual', 100::smallint), 0,
          'enqueueing the same work again inserts nothing');
select is((select count(*)::int from public.refresh_queue
            where work_id = pg_temp.wid(990001) and status in ('pending', 'processing')),
          1, 'one active entry per work');
select is(public.enqueue_refresh(array[pg_temp.wid(990002), pg_temp.wid(990002), -1]), 1,
          'duplicates within a call and unknown work ids are skipped');
select results_eq(
  $$ select status, priority, reason, retry_count, max_retries, next_attempt_at = now(), result
       from public.refresh_queue where id = pg_temp.qid(990002) $$,
  $$ values ('pending'::text, 100::smallint, 'manual'::text, 0, 3, true, null::text) $$,
  'a new entry: pending, priority 100, reason manual, 0 attempts of 3, ready now');
select throws_ok(
  $$ select public.enqueue_refresh(array[pg_temp.wid(990003)], 'whim') $$, '23514', null,
  'an unknown reason is refused by refresh_queue_reason_check');

-- ---------------------------------------------------------------------------------------
-- Claim
-- ---------------------------------------------------------------------------------------

select is(public.enqueue_refresh(array[pg_temp.wid(990003), pg_temp.wid(990004)], 'changed', 10::smallint), 2,
          'two changed movies enqueued at priority 10');

create temp table t_claim1 on commit drop as
  select * from public.claim_refresh_batch('worker-a', 3, 120);

select is((select count(*)::int from t_claim1), 3, 'claim returns at most the batch size (3 of 4 ready)');
select is((select array_agg(tmdb_id order by tmdb_id) from t_claim1
            where tmdb_id in (990003, 990004)),
          array[990003, 990004], 'priority 10 entries are claimed before priority 100');
select is((select array_agg(distinct attempt) from t_claim1), array[1],
          'the first claim is attempt 1');
select results_eq(
  $$ select q.status, q.retry_count, q.locked_by, q.lease_expires_at = now() + interval '120 seconds',
            q.started_at = now()
       from public.refresh_queue q join t_claim1 c on c.queue_id = q.id
      order by q.id $$,
  $$ values ('processing'::text, 1, 'worker-a'::text, true, true),
            ('processing'::text, 1, 'worker-a'::text, true, true),
            ('processing'::text, 1, 'worker-a'::text, true, true) $$,
  'claimed rows: processing, attempt counted at claim, locked by the worker, lease = now + 120 s');
select is_empty(
  $$ select c.* from t_claim1 c
       join public.refresh_queue q on q.id = c.queue_id
       join public.works w on w.id = q.work_id
      where c.work_id <> q.work_id or c.tmdb_id <> w.tmdb_id $$,
  'claim returns each row''s work id and TMDB id');
select is((select count(*)::int from public.claim_refresh_batch('worker-b', 10, 120)), 1,
          'another worker gets only the remaining ready row, never a leased one');
select is((select count(*)::int from public.claim_refresh_batch('worker-c', 10, 120)), 0,
          'nothing left to claim: an empty result');
select is(public.enqueue_refresh(array[pg_temp.wid(990003)], 'manual'), 0,
          'a processing entry also blocks a second enqueue');

-- ---------------------------------------------------------------------------------------
-- Complete: only the holder, same attempt, live lease
-- ---------------------------------------------------------------------------------------

select is(pg_temp.complete(pg_temp.qid(990003), 'worker-b', 1, 'refreshed'), false,
          'another worker cannot complete a row it does not hold');
select is(pg_temp.complete(pg_temp.qid(990003), 'worker-a', 2, 'refreshed'), false,
          'the holder cannot complete a different attempt');
select is((select status from public.refresh_queue where id = pg_temp.qid(990003)), 'processing',
          '...and those refused completions changed nothing');
select is(pg_temp.complete(pg_temp.qid(990003), 'worker-a', 1, 'refreshed'), true,
          'the holder completes its attempt');
select results_eq(
  $$ select status, result, completed_at = now(), lease_expires_at from public.refresh_queue
      where id = pg_temp.qid(990003) $$,
  $$ values ('completed'::text, 'refreshed'::text, true, null::timestamptz) $$,
  'completed: result kept, completed_at set, lease released');
select is(pg_temp.complete(pg_temp.qid(990003), 'worker-a', 1, 'refreshed'), false,
          'completing twice: the second call reports false');
select is(public.enqueue_refresh(array[pg_temp.wid(990003)], 'manual'), 1,
          'a completed work can be queued again');

select is(pg_temp.complete(pg_temp.qid(990004), 'worker-a', 1, 'not_found'), true,
          'a not_found result completes the row');
select is((select result from public.refresh_queue where id = pg_temp.qid(990004)), 'not_found',
          '...with result not_found');
select throws_ok(
  $$ select pg_temp.complete(1, 'worker-a', 1, 'great') $$, '22023',
  'p_results items must be {queue_id: int, attempt: int, ok: bool, result: refreshed|unchanged|not_found when ok, error?: text, retryable?: bool}: invalid item {"ok": true, "result": "great", "attempt": 1, "queue_id": 1}',
  'an unknown result is refused, showing the item');

-- ---------------------------------------------------------------------------------------
-- Expired lease: reclaimed by another worker; the late holder changes nothing
-- ---------------------------------------------------------------------------------------

-- The row worker-a claimed for 990001 or 990002 (whichever it got), and worker-b's row.
create temp table t_held on commit drop as
  select q.id, q.locked_by from public.refresh_queue q
   where q.status = 'processing' and q.work_id in (pg_temp.wid(990001), pg_temp.wid(990002));

update public.refresh_queue set lease_expires_at = now() - interval '1 second'
 where id = (select id from t_held where locked_by = 'worker-a');

create temp table t_reclaim on commit drop as
  select * from public.claim_refresh_batch('worker-d', 10, 60);

select results_eq(
  $$ select queue_id, attempt from t_reclaim where queue_id in (select id from t_held) $$,
  $$ select id, 2 from t_held where locked_by = 'worker-a' $$,
  'an expired lease is reclaimed by another worker as attempt 2 (the live one is not)');
select is(pg_temp.complete((select id from t_held where locked_by = 'worker-a'), 'worker-a', 1, 'refreshed'),
          false, 'the late holder''s completion is refused');
select is(pg_temp.fail((select id from t_held where locked_by = 'worker-a'), 'worker-a', 1, 'boom'),
          'lost_lease', 'the late holder''s failure reports lost_lease');
select results_eq(
  $$ select status, locked_by, retry_count, last_error from public.refresh_queue
      where id = (select id from t_held where locked_by = 'worker-a') $$,
  $$ values ('processing'::text, 'worker-d'::text, 2,
            'lease expired during attempt 1 of 3 (worker crashed or timed out); retrying'::text) $$,
  '...and the row is still worker-d''s attempt 2, untouched (the reaper noted the lost lease)');

-- A holder whose lease expired cannot finish even if nobody reclaimed the row yet.
update public.refresh_queue set lease_expires_at = now() - interval '1 second'
 where id = (select id from t_held where locked_by = 'worker-b');
select is(pg_temp.complete((select id from t_held where locked_by = 'worker-b'), 'worker-b', 1, 'refreshed'),
          false, 'a completion after the lease expired is refused');

select is(pg_temp.complete((select id from t_held where locked_by = 'worker-a'), 'worker-d', 2, 'unchanged'),
          true, 'the new holder completes its attempt');

-- ---------------------------------------------------------------------------------------
-- Failures: retry with backoff, then failed with the last error
-- ---------------------------------------------------------------------------------------

delete from public.refresh_queue;
select public.enqueue_refresh(array[pg_temp.wid(990005)]);

create temp table t_attempt on commit drop as select * from public.claim_refresh_batch('worker-a', 1, 120);
select is(pg_temp.fail(pg_temp.qid(990005), 'worker-a', 1, 'TMDB 500 (1)'), 'retry',
          'failure 1 of 3: retry');
select results_eq(
  $$ select status, locked_by, lease_expires_at, last_error, completed_at,
            next_attempt_at between now() + interval '24 seconds' and now() + interval '36 seconds'
       from public.refresh_queue where id = pg_temp.qid(990005) $$,
  $$ values ('pending'::text, null::text, null::timestamptz, 'TMDB 500 (1)'::text, null::timestamptz, true) $$,
  'after failure 1: pending, unlocked, error kept, next attempt in 30 s +-20 %');
select is((select count(*)::int from public.claim_refresh_batch('worker-a', 1, 120)), 0,
          'a row waiting for its backoff is not claimed');

update public.refresh_queue set next_attempt_at = now() where id = pg_temp.qid(990005);
select is((select attempt from public.claim_refresh_batch('worker-a', 1, 120)), 2,
          'once due it is claimed as attempt 2');
select is(pg_temp.fail(pg_temp.qid(990005), 'worker-a', 2, 'TMDB 500 (2)'), 'retry',
          'failure 2 of 3: retry');
select ok((select next_attempt_at between now() + interval '48 seconds' and now() + interval '72 seconds'
             from public.refresh_queue where id = pg_temp.qid(990005)),
          'after failure 2 the backoff doubles: 60 s +-20 %');

update public.refresh_queue set next_attempt_at = now() where id = pg_temp.qid(990005);
select is((select attempt from public.claim_refresh_batch('worker-a', 1, 120)), 3,
          'claimed as attempt 3');
select is(pg_temp.fail(pg_temp.qid(990005), 'worker-a', 3, 'TMDB 500 (3)'), 'failed',
          'failure 3 of 3: failed');
select results_eq(
  $$ select status, retry_count, last_error, completed_at = now()
       from public.refresh_queue where id = pg_temp.qid(990005) $$,
  $$ values ('failed'::text, 3, 'TMDB 500 (3)'::text, true) $$,
  'failed for good with the last error');
select is((select count(*)::int from public.claim_refresh_batch('worker-a', 10, 120)), 0,
          'a failed row is never claimed again');

select public.enqueue_refresh(array[pg_temp.wid(990005)]);
select is((select attempt from public.claim_refresh_batch('worker-a', 1, 120)), 1,
          'a failed work can be queued again as a fresh entry');
select is(pg_temp.fail(pg_temp.qid(990005), 'worker-a', 1, 'HTTP 401', false), 'failed',
          'a non-retryable failure fails at once');

-- Backoff is capped at one hour.
select public.enqueue_refresh(array[pg_temp.wid(990006)]);
update public.refresh_queue set max_retries = 20, retry_count = 14 where id = pg_temp.qid(990006);
select is((select attempt from public.claim_refresh_batch('worker-a', 1, 120)), 15, 'attempt 15 of 20');
select is(pg_temp.fail(pg_temp.qid(990006), 'worker-a', 15, 'slow'), 'retry', 'attempt 15 fails: retry');
select ok((select next_attempt_at between now() + interval '2880 seconds' and now() + interval '4320 seconds'
             from public.refresh_queue where id = pg_temp.qid(990006)),
          'the backoff is capped at 3600 s (+-20 %)');

-- ---------------------------------------------------------------------------------------
-- Expired lease on the final attempt: failed, not handed out again
-- ---------------------------------------------------------------------------------------

delete from public.refresh_queue;
select public.enqueue_refresh(array[pg_temp.wid(990001)]);
update public.refresh_queue
   set status = 'processing', retry_count = 3, locked_by = 'crashed-worker',
       lease_expires_at = now() - interval '1 second', started_at = now() - interval '3 minutes'
 where id = pg_temp.qid(990001);

select is((select count(*)::int from public.claim_refresh_batch('worker-a', 10, 120)), 0,
          'an expired lease on attempt 3 of 3 is not reclaimed');
select results_eq(
  $$ select status, last_error, completed_at = now(), lease_expires_at
       from public.refresh_queue where id = pg_temp.qid(990001) $$,
  $$ values ('failed'::text, 'lease expired after attempt 3 of 3 (worker crashed or timed out)'::text,
             true, null::timestamptz) $$,
  '...it is failed, saying why');

-- ---------------------------------------------------------------------------------------
-- finish_refresh_batch: one round trip, same rules
-- ---------------------------------------------------------------------------------------

delete from public.refresh_queue;
select public.enqueue_refresh(array[pg_temp.wid(990001), pg_temp.wid(990002), pg_temp.wid(990003),
                                    pg_temp.wid(990004)]);
create temp table t_batch on commit drop as select * from public.claim_refresh_batch('worker-a', 10, 120);

select is(
  public.finish_refresh_batch('worker-a', jsonb_build_array(
    jsonb_build_object('queue_id', pg_temp.qid(990001), 'attempt', 1, 'ok', true, 'result', 'refreshed'),
    jsonb_build_object('queue_id', pg_temp.qid(990002), 'attempt', 1, 'ok', false, 'error', 'timeout'),
    jsonb_build_object('queue_id', pg_temp.qid(990003), 'attempt', 1, 'ok', false, 'error', '401', 'retryable', false),
    jsonb_build_object('queue_id', pg_temp.qid(990004), 'attempt', 9, 'ok', true, 'result', 'unchanged'))),
  jsonb_build_object(
    'completed', 1, 'retried', 1, 'failed', 1, 'lost_lease', 1,
    'items', jsonb_build_array(
      jsonb_build_object('queue_id', pg_temp.qid(990001), 'outcome', 'completed'),
      jsonb_build_object('queue_id', pg_temp.qid(990002), 'outcome', 'retry'),
      jsonb_build_object('queue_id', pg_temp.qid(990003), 'outcome', 'failed'),
      jsonb_build_object('queue_id', pg_temp.qid(990004), 'outcome', 'lost_lease'))),
  'finish_refresh_batch: completed, retry, failed and lost_lease in one call, counted and itemised');
select results_eq(
  $$ select status from public.refresh_queue
      where id in (pg_temp.qid(990001), pg_temp.qid(990002), pg_temp.qid(990003), pg_temp.qid(990004))
      order by work_id $$,
  $$ values ('completed'::text), ('pending'::text), ('failed'::text), ('processing'::text) $$,
  '...and each row is in the state its outcome says');
select is(public.finish_refresh_batch('worker-a', '[]'),
          '{"completed": 0, "retried": 0, "failed": 0, "lost_lease": 0, "items": []}'::jsonb,
          'an empty batch changes nothing');
select throws_ok(
  $$ select public.finish_refresh_batch('worker-a', '[{"queue_id": 1, "attempt": 1, "ok": true, "result": "refreshed"},
                                                      {"queue_id": 1, "attempt": 1, "ok": true, "result": "refreshed"}]') $$,
  '22023', 'p_results lists queue_id 1 more than once',
  'a batch naming a row twice is refused');
select throws_ok(
  $$ select public.finish_refresh_batch('worker-a', '{"queue_id": 1}') $$,
  '22023', 'p_results must be a JSON array: current value is {"queue_id": 1}',
  'a batch that is not an array is refused');
select throws_ok(
  $$ select public.claim_refresh_batch('worker-a', 0) $$,
  '22023', 'p_batch_size must be between 1 and 1000: current value is 0',
  'a zero batch size is refused');
select throws_ok(
  $$ select public.claim_refresh_batch('', 10) $$,
  '22023', 'p_worker must be a non-empty worker id: current value is ''''',
  'an empty worker id is refused');

-- ---------------------------------------------------------------------------------------
-- Stats
-- ---------------------------------------------------------------------------------------

select is(public.refresh_queue_stats() - 'oldest_ready_at',
          '{"pending": 1, "processing": 1, "completed": 1, "failed": 1, "ready": 0, "expired_leases": 0}'::jsonb,
          'refresh_queue_stats counts rows by status');

select * from finish();
rollback;
