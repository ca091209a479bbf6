-- 082_queue_at_depth.test.sql
-- The queue at catalog depth (029): rows keyed by tmdb_id (work_id null for a movie new to
-- the catalog), the reasons new and recheck, enqueue_new_movies() and enqueue_recheck(),
-- new_movie_priority(), one active row per tmdb_id, the claim order across reasons, the
-- claim and refresh_worker_step() for rows without a work (an answer inserts the work, a
-- 404 finishes not_found and writes nothing), the grants, and the plans: with thousands of
-- rows queued, claiming, finishing, enqueueing and pruning never scan refresh_queue
-- sequentially.
begin;
select plan(52);

-- Works refreshed long ago (more overdue than any other work of the database) unless said.
create function pg_temp.add_work(p_tmdb_id integer, p_last_refreshed_at timestamptz,
                                 p_missing boolean default false)
returns bigint language sql as $fn$
  insert into public.works (tmdb_id, title, release_date, status, payload_hash, first_ingested_at,
                            last_refreshed_at, tmdb_missing_at)
  values (p_tmdb_id, 'Test movie ' || p_tmdb_id, date '1990-01-01', 'Released', repeat('0', 64),
          p_last_refreshed_at, p_last_refreshed_at,
          case when p_missing then now() - interval '10 days' end)
  returning id
$fn$;

create function pg_temp.row_of(p_tmdb_id integer) returns public.refresh_queue
language sql stable as $fn$
  select q from public.refresh_queue q where q.tmdb_id = p_tmdb_id order by q.id desc limit 1
$fn$;

-- Start from an empty queue so counts and claims see only this test's rows.
delete from public.refresh_queue;

select pg_temp.add_work(1900001, '1950-01-01');
select pg_temp.add_work(1900002, '1940-01-01');
select pg_temp.add_work(1900003, now(), true);

-- ---------------------------------------------------------------------------------------
-- Schema
-- ---------------------------------------------------------------------------------------

select col_not_null('public', 'refresh_queue', 'tmdb_id', 'refresh_queue.tmdb_id is not null');
select col_is_null('public', 'refresh_queue', 'work_id', 'refresh_queue.work_id may be null');
select is(
  (select indexdef from pg_indexes
    where schemaname = 'public' and indexname = 'refresh_queue_active_tmdb_id_key'),
  'CREATE UNIQUE INDEX refresh_queue_active_tmdb_id_key ON public.refresh_queue USING btree (tmdb_id) WHERE (status = ANY (ARRAY[''pending''::text, ''processing''::text]))',
  'a partial unique index keeps one active row per tmdb_id');
select hasnt_index('public', 'refresh_queue', 'refresh_queue_active_work_id_key',
                   '018''s active index on work_id is gone (the tmdb_id one covers it)');
select ok(
  (select reloptions @> array['fillfactor=80', 'autovacuum_vacuum_scale_factor=0.01',
                              'autovacuum_vacuum_threshold=1000',
                              'autovacuum_analyze_scale_factor=0.02',
                              'autovacuum_vacuum_insert_scale_factor=0.05']
     from pg_class where oid = 'public.refresh_queue'::regclass),
  'refresh_queue has its fillfactor and autovacuum settings');
select throws_ok(
  $$ insert into public.refresh_queue (tmdb_id, reason) values (1900999, 'manual') $$,
  '23514', null, 'only a row queued as new may lack its work (refresh_queue_work_id_required_check)');
select throws_ok(
  $$ insert into public.refresh_queue (tmdb_id, reason) values (0, 'new') $$,
  '23514', null, 'tmdb_id must be positive');

-- ---------------------------------------------------------------------------------------
-- new_movie_priority
-- ---------------------------------------------------------------------------------------

select results_eq(
  $$ select public.new_movie_priority(p)
       from unnest(array[1e6, 9999, 999, 99, 9, 0.5, 0, -3, 'NaN', null]::double precision[])
            with ordinality u(p, o) order by o $$,
  $$ values (1000::smallint), (1000::smallint), (2000::smallint), (3000::smallint),
            (4000::smallint), (4824::smallint), (5000::smallint), (5000::smallint),
            (5000::smallint), (5000::smallint) $$,
  'new_movie_priority: 1000 (most popular) to 5000 (0, negative, NaN, unknown), log scale');
select is_empty(
  $$ select p from generate_series(0, 2000) g, lateral (select g * 0.37::double precision as p) x
      where public.new_movie_priority(p) < public.new_movie_priority(p + 0.37)
         or public.new_movie_priority(p) <= 150 $$,
  'more popular never runs later, and every new movie runs after changed, stale and recheck rows');

-- ---------------------------------------------------------------------------------------
-- enqueue_new_movies
-- ---------------------------------------------------------------------------------------

select is(
  public.enqueue_new_movies(array[1900101, 1900102, 1900103, 1900001, 1900102]::bigint[],
                            array[5, 500, 0.1, 50, 2]::double precision[]),
  3, 'enqueue_new_movies queues ids not in works, once each');
select results_eq(
  $$ select q.tmdb_id, q.work_id, q.reason, q.status, q.priority, q.retry_count
       from public.refresh_queue q where q.tmdb_id between 1900101 and 1900103 order by q.tmdb_id $$,
  $$ values (1900101, null::bigint, 'new'::text, 'pending'::text, public.new_movie_priority(5), 0),
            (1900102, null::bigint, 'new'::text, 'pending'::text, public.new_movie_priority(500), 0),
            (1900103, null::bigint, 'new'::text, 'pending'::text, public.new_movie_priority(0.1), 0) $$,
  'new rows: no work, reason new, pending, priority from popularity (an id listed twice keeps its highest)');
select is((select count(*)::int from public.refresh_queue where tmdb_id = 1900001), 0,
          'an id already in works is not queued as new');
select is(public.enqueue_new_movies(array[1900101, 1900104]::bigint[], null), 1,
          'an id already queued is skipped; popularities may be null');
select is((pg_temp.row_of(1900104)).priority, 5000::smallint,
          'an id without popularity gets the lowest new priority');
select is(public.enqueue_new_movies(array[]::bigint[], array[]::double precision[]), 0,
          'an empty array queues nothing');
select throws_ok(
  $$ select public.enqueue_new_movies(array[1900105, 1900106]::bigint[], array[1]::double precision[]) $$,
  '22023', 'p_popularity must have one value per id (or be null): 2 ids, 1 popularities',
  'ids and popularities must pair up');
select throws_ok(
  $$ select public.enqueue_new_movies(array[1900105, 0]::bigint[], null) $$,
  '22023', 'p_tmdb_ids must hold TMDB ids between 1 and 2147483647: invalid id 0',
  'an invalid id is refused, naming it');
select throws_ok(
  $$ select public.enqueue_new_movies(array[1900105, null]::bigint[], null) $$,
  '22023', 'p_tmdb_ids must hold TMDB ids between 1 and 2147483647: invalid id NULL',
  'a null id is refused');
select throws_ok(
  $$ select public.enqueue_new_movies(null, null) $$,
  '22023', 'p_tmdb_ids must be an array of TMDB ids: current value is NULL',
  'a null array is refused');
select is((select count(*)::int from public.refresh_queue where tmdb_id = 1900105), 0,
          '… and a refused call queues nothing');

-- ---------------------------------------------------------------------------------------
-- enqueue_recheck
-- ---------------------------------------------------------------------------------------

select is(public.enqueue_recheck(array[1900002, 1900003, 1900777, 1900101]::bigint[]), 1,
          'enqueue_recheck queues catalog movies only: not unknown ids, missing movies or queued ids');
select results_eq(
  $$ select q.work_id, q.reason, q.priority from public.refresh_queue q where q.tmdb_id = 1900002 $$,
  $$ values ((select id from public.works where tmdb_id = 1900002), 'recheck'::text, 150::smallint) $$,
  'a recheck row: the work, reason recheck, priority 150');
select is(public.enqueue_recheck(array[1900002]::bigint[]), 0, 'a queued recheck is not queued twice');
select throws_ok(
  $$ select public.enqueue_recheck(array[3000000000]::bigint[]) $$,
  '22023', 'p_tmdb_ids must hold TMDB ids between 1 and 2147483647: invalid id 3000000000',
  'enqueue_recheck refuses an id out of range');

-- ---------------------------------------------------------------------------------------
-- One active row per tmdb_id
-- ---------------------------------------------------------------------------------------

select throws_ok(
  $$ insert into public.refresh_queue (tmdb_id, reason) values (1900101, 'new') $$,
  '23505', null, 'a second active row for one tmdb_id is refused');
select pg_temp.add_work(1900104, '1940-01-01');
select is(public.enqueue_refresh(array[(select id from public.works where tmdb_id = 1900104)], 'manual'), 0,
          'a work whose movie is queued as new is not queued again (enqueue_refresh)');
select is(public.enqueue_stale_movies(1), 1, 'enqueue_stale_movies(1) queues one movie');
select is((pg_temp.row_of(1900001)).reason, 'stale', '… the most overdue one not queued yet: movies queued as recheck or new are skipped by tmdb_id');

-- ---------------------------------------------------------------------------------------
-- Claim order and rows without a work
-- ---------------------------------------------------------------------------------------

select pg_temp.add_work(1900005, now() - interval '2 days');
select pg_temp.add_work(1900006, now() - interval '2 days');
select is(public.enqueue_changed_movies(array[1900005], 10), 1, 'a changed movie queued');

create temp table t_claim on commit drop as
  select c.* from public.claim_refresh_batch('w-depth', 10, 120) with ordinality c(queue_id, work_id, tmdb_id, attempt, o);

select results_eq(
  $$ select tmdb_id, work_id is null from t_claim order by o $$,
  $$ values (1900005, false), (1900001, false), (1900002, false), (1900102, true),
            (1900101, true), (1900103, true), (1900104, true) $$,
  'claim order: changed, stale, recheck, then new movies by popularity; new rows have no work');
select is_empty(
  $$ select c.* from t_claim c join public.refresh_queue q on q.id = c.queue_id
      where c.tmdb_id <> q.tmdb_id or c.work_id is distinct from q.work_id $$,
  'claim returns each row''s own tmdb_id and work_id');

-- A step: 1900102 answered (a new work), 1900101 404 (no work), the others left unanswered.
create temp table t_step on commit drop as
select public.refresh_worker_step('w-depth', '00000000-0000-4000-8000-000000000082',
  (select jsonb_agg(case c.tmdb_id
                      when 1900102 then jsonb_build_object('queue_id', c.queue_id, 'attempt', c.attempt,
                                                           'tmdb_id', c.tmdb_id, 'status', 200, 'body', 1)
                      when 1900101 then jsonb_build_object('queue_id', c.queue_id, 'attempt', c.attempt,
                                                           'tmdb_id', c.tmdb_id, 'status', 404)
                      else jsonb_build_object('queue_id', c.queue_id, 'attempt', c.attempt,
                                              'tmdb_id', c.tmdb_id, 'error', 'skipped', 'retryable', true)
                    end order by c.o)
     from t_claim c where c.tmdb_id in (1900101, 1900102)),
  array['{"id": 1900102, "title": "A new movie"}'], 10, 120) as val;

select is((select (val -> 'finished') - 'items' from t_step),
          '{"completed": 2, "retried": 0, "failed": 0, "lost_lease": 0}'::jsonb,
          'the step finishes both new rows');
select results_eq(
  $$ select q.tmdb_id, q.status, q.result from public.refresh_queue q
      where q.tmdb_id in (1900101, 1900102) order by q.tmdb_id $$,
  $$ values (1900101, 'completed'::text, 'not_found'::text), (1900102, 'completed', 'refreshed') $$,
  'an answered new id completes refreshed, a 404 new id completes not_found');
select is((select title from public.works where tmdb_id = 1900102), 'A new movie',
          'the answer inserted the new movie into works');
select is((select count(*)::int from public.works where tmdb_id = 1900101), 0,
          'a 404 for a new id creates no work');
select is((select val -> 'stored' -> 1 ->> 'outcome' from t_step), 'not_found',
          'the step reports the 404 as not_found');

-- The claim within finish_and_claim returns JSON with work_id null for new rows.
select public.enqueue_new_movies(array[1900201]::bigint[], array[1]::double precision[]);
select is(
  (select c - 'queue_id' from jsonb_array_elements(
     public.finish_and_claim_refresh_batch('w-other', '[]', 10, 120) -> 'claimed') c
    where (c ->> 'tmdb_id')::int = 1900201),
  '{"work_id": null, "tmdb_id": 1900201, "attempt": 1}'::jsonb,
  'finish_and_claim_refresh_batch returns tmdb_id and a null work_id for a new row');

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------

create temp table t_fns (sig regprocedure) on commit drop;
insert into t_fns values ('public.enqueue_new_movies(bigint[], double precision[])'),
                         ('public.enqueue_recheck(bigint[])'),
                         ('public.new_movie_priority(double precision)');
select is_empty(
  $$ select f.sig::text || ' ' || r from t_fns f, unnest(array['public', 'anon', 'authenticated']) r
      where case when r = 'public'
                 then exists (select from pg_proc p, aclexplode(p.proacl) a
                               where p.oid = f.sig and a.grantee = 0 and a.privilege_type = 'EXECUTE')
                      or (select proacl is null from pg_proc where oid = f.sig)
                 else has_function_privilege(r, f.sig, 'execute') end $$,
  'no EXECUTE for public, anon or authenticated on the new queue functions');
select is_empty(
  $$ select f.sig::text from t_fns f where not has_function_privilege('service_role', f.sig, 'execute') $$,
  'service_role may execute the new queue functions');

set local role anon;
select throws_ok($$ select public.enqueue_new_movies(array[1900301]::bigint[], null) $$, '42501',
                 'permission denied for function enqueue_new_movies', 'anon cannot queue new movies');
select throws_ok($$ select public.enqueue_recheck(array[1900001]::bigint[]) $$, '42501',
                 'permission denied for function enqueue_recheck', 'anon cannot queue rechecks');
select throws_ok($$ select * from public.refresh_queue $$, '42501',
                 'permission denied for table refresh_queue', 'anon cannot read refresh_queue');
reset role;
set local role authenticated;
select throws_ok($$ select public.enqueue_new_movies(array[1900301]::bigint[], null) $$, '42501',
                 'permission denied for function enqueue_new_movies', 'authenticated cannot queue new movies');
select throws_ok($$ select public.enqueue_recheck(array[1900001]::bigint[]) $$, '42501',
                 'permission denied for function enqueue_recheck', 'authenticated cannot queue rechecks');
select throws_ok($$ select public.new_movie_priority(1) $$, '42501',
                 'permission denied for function new_movie_priority', 'authenticated cannot call new_movie_priority');
select throws_ok($$ insert into public.refresh_queue (tmdb_id, reason) values (1900301, 'new') $$, '42501',
                 'permission denied for table refresh_queue', 'authenticated cannot write refresh_queue');
reset role;
set local role service_role;
select is(public.enqueue_new_movies(array[1900301]::bigint[], null), 1, 'service_role queues new movies');
select is(public.enqueue_recheck(array[1900001, 1900006]::bigint[]), 1,
          'service_role queues rechecks (1900001 is still queued as stale)');
reset role;

-- ---------------------------------------------------------------------------------------
-- Plans at depth: index scans only
-- ---------------------------------------------------------------------------------------

-- 6,000 new rows, 400 finished rows of which 100 are past retention, 20 stale works queued.
select public.enqueue_new_movies(array(select 1910000 + g from generate_series(1, 6000) g)::bigint[],
                                 array(select (g % 997)::double precision from generate_series(1, 6000) g));
insert into public.refresh_queue (tmdb_id, reason, status, result, completed_at)
select 1920000 + g, 'new', 'completed', 'not_found',
       case when g <= 100 then now() - interval '30 days' else now() - interval '1 hour' end
  from generate_series(1, 400) g;
analyze public.refresh_queue;

-- This transaction's own scan counters: sequential scans of refresh_queue, scans of the
-- claimable index and of the finished rows' index.
create function pg_temp.scans() returns table (seq bigint, claim bigint, done bigint)
language sql volatile as $fn$
  select pg_stat_get_xact_numscans('public.refresh_queue'::regclass),
         pg_stat_get_xact_numscans('public.refresh_queue_claim_idx'::regclass),
         pg_stat_get_xact_numscans('public.refresh_queue_completed_at_idx'::regclass)
$fn$;
create temp table t_scans (step text, seq bigint, claim bigint, done bigint) on commit drop;

insert into t_scans select 'before', * from pg_temp.scans();
create temp table t_depth on commit drop as
  select * from public.claim_refresh_batch('w-plan', 10, 120);
insert into t_scans select 'claim', * from pg_temp.scans();
create temp table t_depth2 on commit drop as
select public.finish_and_claim_refresh_batch('w-plan',
         (select jsonb_agg(jsonb_build_object('queue_id', queue_id, 'attempt', attempt, 'ok', true,
                                              'result', 'unchanged'))
            from t_depth), 10, 120) as val;
insert into t_scans select 'finish_and_claim', * from pg_temp.scans();
select public.enqueue_new_movies(array[1930001, 1930002]::bigint[], array[3, 4]::double precision[]);
select public.enqueue_recheck(array[1900002]::bigint[]);
select public.enqueue_stale_movies(5);
insert into t_scans select 'enqueue', * from pg_temp.scans();
select public.prune_old_rows();
insert into t_scans select 'prune', * from pg_temp.scans();

select is((select count(*)::int from t_depth), 10, 'the claim at depth returns a full batch');
select is((select jsonb_array_length(val -> 'claimed') from t_depth2), 10,
          'finish_and_claim at depth finishes one batch and claims the next');
select results_eq(
  $$ select s.step, s.seq - p.seq, s.claim - p.claim, s.done - p.done
       from (select *, row_number() over () as n from t_scans) s
       join (select *, row_number() over () + 1 as n from t_scans) p on p.n = s.n
      order by s.n $$,
  $$ values ('claim'::text, 0::bigint, 1::bigint, 0::bigint), ('finish_and_claim', 0, 1, 0),
            ('enqueue', 0, 0, 0), ('prune', 0, 0, 1) $$,
  'with 6,400 rows, the claim, the finish, enqueueing and pruning use index scans of refresh_queue, never a sequential scan');
select is((select count(*)::int from public.refresh_queue where tmdb_id between 1920001 and 1920400), 300,
          'pruning deleted the 100 finished rows past retention only');

select * from finish();
rollback;
