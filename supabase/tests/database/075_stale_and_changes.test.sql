-- 075_stale_and_changes.test.sql
-- Finding what to refresh: get_stale_movies() agrees with is_stale() and is served by the
-- works.next_refresh_at index (10 000 works, analyzed: no sequential scan of works);
-- enqueue_stale_movies() queues the most overdue works and skips queued ones;
-- enqueue_changed_movies() respects the 12 h floor; classify_tmdb_ids() tells new, due and
-- fresh ids apart.
begin;
select plan(25);

-- 10 000 works with TMDB ids far above real ones: released in 1990 (30-day tier), refreshed
-- 0–59 days ago (about half are due), every 97th never refreshed (due since -infinity).
insert into public.works (tmdb_id, title, release_date, status, payload_hash, first_ingested_at,
                          last_refreshed_at)
select 2000000000 + g, 'Bulk movie ' || g, date '1990-01-01', 'Released', repeat('0', 64),
       now() - interval '400 days',
       case when g % 97 = 0 then null else now() - (g % 60) * interval '1 day' - interval '1 hour' end
  from generate_series(1, 10000) g;
analyze public.works;

-- ---------------------------------------------------------------------------------------
-- get_stale_movies: same answer as is_stale()
-- ---------------------------------------------------------------------------------------

select ok((select count(*) from public.works w where public.is_stale(w)) > 4000,
          'the fixture has thousands of stale works');
select set_eq(
  $$ select work_id from public.get_stale_movies(1000000) $$,
  $$ select w.id from public.works w where public.is_stale(w) $$,
  'get_stale_movies (no effective limit) returns exactly the works is_stale() calls stale');
select is((select count(*)::int from public.get_stale_movies()), 100, 'the default limit is 100');
select is((select count(*)::int from public.get_stale_movies(5)), 5, 'limit_count caps the rows');

create temp table t_top on commit drop as
  select s.* from public.get_stale_movies(50) with ordinality
    as s(work_id, tmdb_id, title, last_refreshed_at, next_refresh_at, ord);

select is_empty(
  $$ select t.* from t_top t join public.works w on w.id = t.work_id
      where (t.tmdb_id, t.title, t.last_refreshed_at, t.next_refresh_at)
            is distinct from (w.tmdb_id, w.title, w.last_refreshed_at, w.next_refresh_at) $$,
  'each row carries the work''s tmdb_id, title, last_refreshed_at and next_refresh_at');
select is_empty(
  $$ select * from (select t.ord, t.next_refresh_at,
                           lag(t.next_refresh_at) over (order by t.ord) as previous
                      from t_top t) x
      where x.next_refresh_at < x.previous $$,
  'rows come most overdue first (next_refresh_at ascending)');
select ok(
  (select max(next_refresh_at) from t_top)
    <= (select min(w.next_refresh_at) from public.works w
         where public.is_stale(w) and w.id not in (select work_id from t_top)),
  'no stale work left out is more overdue than one returned');

-- ---------------------------------------------------------------------------------------
-- get_stale_movies: served by the index
-- ---------------------------------------------------------------------------------------

-- The function's own statement, explained with limit_count = 100.
create function pg_temp.get_stale_movies_plan() returns setof text language plpgsql as $fn$
declare
  line text;
begin
  for line in execute 'explain ' || (
    select replace(p.prosrc, 'limit_count', '100') from pg_proc p
     where p.oid = 'public.get_stale_movies(integer)'::regprocedure)
  loop
    return next line;
  end loop;
end;
$fn$;

select is_empty(
  $$ select l from pg_temp.get_stale_movies_plan() l where l like '%Seq Scan%' $$,
  'get_stale_movies'' query plan has no sequential scan');
select ok(exists (select 1 from pg_temp.get_stale_movies_plan() l
                   where l like '%Index Scan using works_next_refresh_at_idx on works%'),
          'get_stale_movies'' query plan reads works through works_next_refresh_at_idx');

-- The function as called: this transaction's own scan counters of works and of its index.
create temp table t_scans on commit drop as
  select (select seq_scan from pg_stat_xact_user_tables where relid = 'public.works'::regclass) as seq,
         pg_stat_get_xact_numscans('public.works_next_refresh_at_idx'::regclass) as idx;
create temp table t_called on commit drop as select * from public.get_stale_movies(100);
select is(
  (select seq_scan from pg_stat_xact_user_tables where relid = 'public.works'::regclass) - (select seq from t_scans),
  0::bigint, 'calling get_stale_movies(100) makes no sequential scan of works');
select is(
  pg_stat_get_xact_numscans('public.works_next_refresh_at_idx'::regclass) - (select idx from t_scans),
  1::bigint, 'calling get_stale_movies(100) makes one scan of works_next_refresh_at_idx');

-- ---------------------------------------------------------------------------------------
-- enqueue_stale_movies
-- ---------------------------------------------------------------------------------------

delete from public.refresh_queue;
create temp table t_due50 on commit drop as select work_id from public.get_stale_movies(50);

select is(public.enqueue_stale_movies(50), 50, 'enqueue_stale_movies(50) queues 50 works');
select set_eq(
  $$ select work_id from public.refresh_queue $$,
  $$ select work_id from t_due50 $$,
  '...the 50 most overdue ones (as get_stale_movies lists them)');
select results_eq(
  $$ select distinct reason, priority, status from public.refresh_queue $$,
  $$ values ('stale'::text, 100::smallint, 'pending'::text) $$,
  '...as pending, reason stale, priority 100');
select is(public.enqueue_stale_movies(50), 50, 'a second call queues 50 more');
select is((select count(distinct work_id)::int from public.refresh_queue), 100,
          '...different works: those already queued are skipped, not counted against the limit');
select is(public.enqueue_stale_movies(0), 0, 'a zero limit queues nothing');

-- ---------------------------------------------------------------------------------------
-- enqueue_changed_movies: the 12 h floor
-- ---------------------------------------------------------------------------------------

delete from public.refresh_queue;
insert into public.works (tmdb_id, title, release_date, status, payload_hash, first_ingested_at,
                          last_refreshed_at)
values (2100000001, 'Refreshed 1 h ago', date '1990-01-01', 'Released', repeat('0', 64), now(), now() - interval '1 hour'),
       (2100000002, 'Refreshed 11 h 59 min ago', date '1990-01-01', 'Released', repeat('0', 64), now(), now() - interval '11 hours 59 minutes'),
       (2100000003, 'Refreshed 12 h ago', date '1990-01-01', 'Released', repeat('0', 64), now(), now() - interval '12 hours'),
       (2100000004, 'Refreshed 3 days ago', date '1990-01-01', 'Released', repeat('0', 64), now(), now() - interval '3 days'),
       (2100000005, 'Never refreshed', date '1990-01-01', 'Released', repeat('0', 64), now(), null);

select is(public.enqueue_changed_movies(array[2100000001, 2100000002, 2100000003, 2100000004, 2100000005, 2100000099]),
          3, 'changed: 3 of 6 ids queued');
select results_eq(
  $$ select w.tmdb_id, q.reason, q.priority from public.refresh_queue q
       join public.works w on w.id = q.work_id order by w.tmdb_id $$,
  $$ values (2100000003, 'changed'::text, 10::smallint), (2100000004, 'changed'::text, 10::smallint),
            (2100000005, 'changed'::text, 10::smallint) $$,
  'only works refreshed at least 12 h ago (or never), and only works we have, at priority 10');
select is(public.enqueue_changed_movies(array[2100000003, 2100000004]), 0,
          'changed works already queued are not queued twice');

delete from public.refresh_queue;
select is(public.enqueue_changed_movies(array[2100000003, 2100000004, 2100000005], 2), 2,
          'p_limit caps the changed works queued');
select is(
  (select array_agg(w.tmdb_id order by w.tmdb_id) from public.refresh_queue q join public.works w on w.id = q.work_id),
  array[2100000004, 2100000005], '...the least recently refreshed first (never refreshed first of all)');

-- ---------------------------------------------------------------------------------------
-- classify_tmdb_ids
-- ---------------------------------------------------------------------------------------

select results_eq(
  $$ select tmdb_id, state from public.classify_tmdb_ids(
       array[2100000001, 2100000099, 2000000097, 2100000001, null, 2000000001]) $$,
  $$ values (2100000001, 'fresh'::text), (2100000099, 'new'::text), (2000000097, 'due'::text),
            (2000000001, 'fresh'::text) $$,
  'classify_tmdb_ids: fresh / new / due, one row per distinct id, input order, nulls ignored');
select is((select count(*)::int from public.classify_tmdb_ids('{}')), 0, 'no ids, no rows');
select is_empty(
  $$ select c.tmdb_id from public.classify_tmdb_ids(
       (select array_agg(tmdb_id) from public.works where tmdb_id between 2000000001 and 2000000300)) c
       join public.works w on w.tmdb_id = c.tmdb_id
      where (c.state = 'due') is distinct from public.is_stale(w) $$,
  'classify_tmdb_ids says due exactly when is_stale() does');

select * from finish();
rollback;
