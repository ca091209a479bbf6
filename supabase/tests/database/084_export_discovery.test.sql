-- 084_export_discovery.test.sql
-- Migration 031: TMDB export discovery. Imports are driven here as discover-movies drives
-- them (discover_import, lines staged, discover_stage_commit, discover_step until done), with
-- the lines inserted directly, over six export days: new ids queued by popularity, an id
-- absent once (counted), absent twice (recheck queued), back again (its absences end, a
-- recheck after a recheck), adult titles skipped unless configured, malformed lines counted;
-- re-runs, older days, one import at a time, positions, failure and crash recovery; the
-- continuation and cron call; privileges and RLS. Everything is rolled back.
begin;
select plan(64);
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

delete from public.export_imports;
truncate public.tmdb_export_ids, public.export_import_lines, public.export_import_ids;
delete from public.refresh_queue;
update public.edge_function_invocations set invoked_at = now() - interval '1 day';

-- Two movies the catalog holds already.
insert into public.works (tmdb_id, title, payload_hash)
values (840001, 'Absent later', repeat('0', 64)), (840002, 'Always there', repeat('0', 64));

-- An export line.
create function pg_temp.line(p_id bigint, p_popularity double precision, p_adult boolean default false)
returns text language sql as $fn$
  select format('{"adult":%s,"id":%s,"original_title":"T \"%s\", a\\b","popularity":%s,"video":false}',
                p_adult::text, p_id, p_id, p_popularity)
$fn$;

-- Imports p_day's export made of p_lines, as the function does (two segments, small slices);
-- returns the import row at the end.
create function pg_temp.import_day(p_day date, p_lines text[]) returns public.export_imports
language plpgsql as $fn$
declare
  v jsonb;
  v_id bigint;
  v_half integer := cardinality(p_lines) / 2;
  r public.export_imports;
begin
  v := public.discover_import(p_day, p_day, gen_random_uuid());
  if v ->> 'action' <> 'start' then
    raise exception 'expected start, got %', v;
  end if;
  v_id := (v -> 'import' ->> 'id')::bigint;
  if not public.discover_stage_begin(v_id, 0, 0) then raise exception 'stage 1 refused'; end if;
  insert into public.export_import_lines (line) select unnest(p_lines[1:v_half]);
  perform public.discover_stage_commit(v_id, 100, false);
  if not public.discover_stage_begin(v_id, 0, 100) then raise exception 'stage 2 refused'; end if;
  insert into public.export_import_lines (line) select unnest(p_lines[v_half + 1:]);
  v := public.discover_stage_commit(v_id, 200, true);
  -- include_adult: the adult file is file 1 (empty here).
  if v ->> 'status' = 'downloading' then
    perform public.discover_stage_begin(v_id, 1, 0);
    perform public.discover_stage_commit(v_id, 0, true);
  end if;
  for i in 1 .. 100 loop
    select * into r from public.export_imports where id = v_id;
    exit when r.status = 'done';
    perform public.discover_step(v_id, 2);
  end loop;
  select * into r from public.export_imports where id = v_id;
  return r;
end;
$fn$;

-- ---------------------------------------------------------------------------------------
-- Day 1: every id new; adult skipped; malformed counted; popularity orders the queue
-- ---------------------------------------------------------------------------------------

create temp table d1 as
select * from pg_temp.import_day('2026-01-01', array[
  pg_temp.line(840001, 5), pg_temp.line(840002, 7), pg_temp.line(840003, 50),
  pg_temp.line(840004, 1), pg_temp.line(840005, 99, true), '{"id": oops',
  pg_temp.line(840003, 2)]);

select results_eq(
  $$ select status, lines_staged, lines_parsed, malformed_lines, adult_skipped, ids_seen, new_ids, queued_new from d1 $$,
  $$ values ('done'::text, 7::bigint, 7::bigint, 1::bigint, 1::bigint, 4::bigint, 4::bigint, 2::bigint) $$,
  'day 1: 7 lines, 1 malformed, 1 adult skipped, 4 ids (a repeated id once), all new, 2 queued (2 already in works)'
);
select results_eq(
  $$ select tmdb_id from public.refresh_queue where reason = 'new' order by priority, tmdb_id $$,
  $$ values (840003), (840004) $$,
  'new ids are queued most popular first, ids in works are not'
);
select results_eq(
  $$ select tmdb_id::int, popularity, first_seen_day, absent_count from public.tmdb_export_ids order by tmdb_id $$,
  $$ values (840001, 5::float8, '2026-01-01'::date, 0), (840002, 7, '2026-01-01', 0),
            (840003, 50, '2026-01-01', 0), (840004, 1, '2026-01-01', 0) $$,
  'the known ids: the adult title is not among them; a repeated id keeps its first line'
);
select is(
  (select count(*) from public.export_import_lines) + (select count(*) from public.export_import_ids),
  0::bigint, 'staging is empty once the import is done');
select isnt((select downloaded_at from d1), null, 'the import records when it was downloaded');
select ok((select finished_at >= parsed_at and parsed_at >= downloaded_at from d1),
  'and its phases in order');

-- ---------------------------------------------------------------------------------------
-- Re-runs and older days
-- ---------------------------------------------------------------------------------------

select is(public.discover_import('2026-01-01', '2026-01-01', null) ->> 'action', 'done',
  'a re-run of a done day changes nothing');
select is(public.discover_import('2025-12-31', '2026-01-01', null) ->> 'action', 'older',
  'an export older than one imported is refused');
select is(public.discover_import(null, null, null) ->> 'action', 'none',
  'with no day and nothing in progress there is nothing to do');
select is((select count(*) from public.export_imports), 1::bigint, 'still one import');

-- ---------------------------------------------------------------------------------------
-- Day 2: 840001 absent once
-- ---------------------------------------------------------------------------------------

create temp table d2 as
select * from pg_temp.import_day('2026-01-02', array[
  pg_temp.line(840002, 7), pg_temp.line(840003, 50), pg_temp.line(840004, 1)]);

select results_eq(
  $$ select new_ids, absent_ids, recheck_queued, reappeared from d2 $$,
  $$ values (0::bigint, 1::bigint, 0::bigint, 0::bigint) $$,
  'day 2: nothing new, one id absent, no recheck yet'
);
select results_eq(
  $$ select absent_count, absent_since_day from public.tmdb_export_ids where tmdb_id = 840001 $$,
  $$ values (1, '2026-01-02'::date) $$,
  'an id absent once has its absence counted from that day'
);
select is((select count(*) from public.refresh_queue where reason = 'recheck'), 0::bigint,
  'absent once: not rechecked');

-- ---------------------------------------------------------------------------------------
-- Day 3: 840001 absent twice → recheck; 840004 absent once
-- ---------------------------------------------------------------------------------------

create temp table d3 as
select * from pg_temp.import_day('2026-01-03', array[pg_temp.line(840002, 7), pg_temp.line(840003, 50)]);

select results_eq(
  $$ select absent_ids, recheck_queued from d3 $$,
  $$ values (2::bigint, 1::bigint) $$,
  'day 3: two ids absent, one recheck queued'
);
select results_eq(
  $$ select tmdb_id, reason, priority, status from public.refresh_queue where reason = 'recheck' $$,
  $$ values (840001, 'recheck'::text, 150::smallint, 'pending'::text) $$,
  'absent from two consecutive exports: one recheck of the movie'
);
select results_eq(
  $$ select tmdb_id::int, absent_count, absent_since_day from public.tmdb_export_ids where absent_count > 0 order by tmdb_id $$,
  $$ values (840001, 2, '2026-01-02'::date), (840004, 1, '2026-01-03'::date) $$,
  'absences count consecutive exports'
);
select is((select tmdb_missing_at from public.works where tmdb_id = 840001), null,
  'nothing is marked missing or deleted by the export alone');
select is((select count(*) from public.works where tmdb_id = 840001), 1::bigint, 'the movie is kept');

-- ---------------------------------------------------------------------------------------
-- Day 4: both back; 840001 had been rechecked → rechecked again
-- ---------------------------------------------------------------------------------------

-- The first recheck ran meanwhile (TMDB still knew the movie).
update public.refresh_queue set status = 'completed', result = 'refreshed', completed_at = now()
 where reason = 'recheck';

create temp table d4 as
select * from pg_temp.import_day('2026-01-04', array[
  pg_temp.line(840001, 5), pg_temp.line(840002, 7), pg_temp.line(840003, 50), pg_temp.line(840004, 1)]);

select results_eq(
  $$ select new_ids, absent_ids, reappeared, recheck_queued from d4 $$,
  $$ values (0::bigint, 0::bigint, 2::bigint, 1::bigint) $$,
  'day 4: two ids back, the one back after a recheck is rechecked again'
);
select is((select count(*) from public.tmdb_export_ids where absent_count > 0), 0::bigint,
  'ids present again have no absence');
select is((select count(*) from public.refresh_queue where reason = 'recheck' and status = 'pending' and tmdb_id = 840001),
  1::bigint, 'one pending recheck for the id back after a recheck');
select is((select count(*) from public.refresh_queue where tmdb_id = 840004 and reason = 'recheck'), 0::bigint,
  'an id back after one absence is not rechecked');

-- ---------------------------------------------------------------------------------------
-- Adult titles when configured
-- ---------------------------------------------------------------------------------------

update public.discovery_settings set include_adult = true;
create temp table d5 as
select * from pg_temp.import_day('2026-01-05', array[
  pg_temp.line(840001, 5), pg_temp.line(840002, 7), pg_temp.line(840003, 50), pg_temp.line(840004, 1),
  pg_temp.line(840005, 99, true)]);

select results_eq(
  $$ select include_adult, adult_skipped, new_ids, queued_new from d5 $$,
  $$ values (true, 0::bigint, 1::bigint, 1::bigint) $$,
  'with include_adult the adult title is new and queued'
);
select results_eq(
  $$ select adult from public.tmdb_export_ids where tmdb_id = 840005 $$,
  $$ values (true) $$, 'and known as adult');

update public.discovery_settings set include_adult = false;
create temp table d6 as
select * from pg_temp.import_day('2026-01-06', array[
  pg_temp.line(840001, 5), pg_temp.line(840002, 7), pg_temp.line(840003, 50), pg_temp.line(840004, 1)]);
select results_eq(
  $$ select absent_ids from d6 $$, $$ values (0::bigint) $$,
  'an import without adult titles does not count known adult ids as absent');

-- ---------------------------------------------------------------------------------------
-- One import at a time, positions, failure, crash
-- ---------------------------------------------------------------------------------------

select is(public.discover_import('2026-01-07', '2026-01-07', null) ->> 'action', 'start',
  'a new day starts an import');
select is(public.discover_import('2026-01-08', '2026-01-08', null) ->> 'action', 'resume',
  'while one is in progress, any run resumes it');
select is(public.discover_import(null, null, null) -> 'import' ->> 'export_day', '2026-01-07',
  'the one in progress');
select is((select invocations from public.export_imports where export_day = '2026-01-07'), 3,
  'runs on an import are counted');
select throws_ok(
  $$ insert into public.export_imports (export_day, include_adult) values ('2026-01-09', false) $$,
  '23505', null, 'there is never a second import in progress');

select ok(not public.discover_stage_begin(
  (select id from public.export_imports where export_day = '2026-01-07'), 0, 5),
  'a segment from a position the import is not at is refused');
select ok(public.discover_stage_begin(
  (select id from public.export_imports where export_day = '2026-01-07'), 0, 0),
  'a segment from the import''s position is accepted');
insert into public.export_import_lines (line) values (pg_temp.line(1, 1));
select is(public.discover_stage_commit(
  (select id from public.export_imports where export_day = '2026-01-07'), 50, false) ->> 'bytes_staged',
  '50', 'a committed segment moves the position');
select throws_ok(
  $$ select public.discover_stage_commit((select id from public.export_imports where export_day = '2026-01-07'), 10, false) $$,
  '22023', null, 'a position never goes back');

-- A crash empties the unlogged staging: the next run downloads again from the start.
truncate public.export_import_lines;
select results_eq(
  $$ select (r -> 'import' ->> 'bytes_staged')::bigint, (r -> 'import' ->> 'lines_staged')::bigint, r -> 'import' ->> 'status'
       from (select public.discover_import(null, null, null) r) x $$,
  $$ values (0::bigint, 0::bigint, 'downloading'::text) $$,
  'an import whose staging was lost starts its download again');

select is(public.discover_fail((select id from public.export_imports where export_day = '2026-01-07'),
  'movie export of 2026-01-07 is missing (404) while importing it') ->> 'status', 'failed',
  'an import can be marked failed');
select is((select error from public.export_imports where export_day = '2026-01-07'),
  'movie export of 2026-01-07 is missing (404) while importing it', 'with its error');
select is(public.discover_import('2026-01-07', '2026-01-07', null) ->> 'action', 'start',
  'a failed day is started again');
select is((select count(*) from public.export_imports where export_day = '2026-01-07'), 1::bigint,
  'as the same day''s one row');
select throws_ok($$ select public.discover_step(-1, 10) $$, 'P0002', null, 'an unknown import is an error');
select throws_ok($$ select public.discover_step((select id from public.export_imports where export_day = '2026-01-07'), 0) $$,
  '22023', null, 'a slice has at least one row');

-- ---------------------------------------------------------------------------------------
-- Parsing one line
-- ---------------------------------------------------------------------------------------

select results_eq(
  $$ select public.export_line_json(l) is null from unnest(array[
       '{"id":550,"popularity":1}', '{"id":550.5}', '{"id":0}', '{"id":2147483648}', '"x"',
       '{"id":"550"}', '{', '']) l $$,
  $$ values (false), (true), (true), (true), (true), (true), (true), (true) $$,
  'export_line_json: a JSON object with an integer id from 1 to 2147483647, else null');

-- ---------------------------------------------------------------------------------------
-- Continuation and the cron call
-- ---------------------------------------------------------------------------------------

select results_eq(
  $$ select r ->> 'continued', r ->> 'reason'
       from (select public.continue_discover_movies(gen_random_uuid(), gen_random_uuid(), 1, '{"budget_ms": 5000}') r) x $$,
  $$ values ('true', 'queued') $$,
  'a run stopped by its budget queues the next while the import is in progress');
select results_eq(
  $$ select trigger, body ->> 'chain_link', body ->> 'budget_ms' from public.edge_function_invocations
      where function_name = 'discover-movies' order by invoked_at desc, request_id desc limit 1 $$,
  $$ values ('continuation'::text, '2'::text, '5000'::text) $$,
  'as a continuation, next link, same budgets');
update public.discovery_settings set paused = true;
select is(public.continue_discover_movies(gen_random_uuid(), gen_random_uuid(), 1) ->> 'reason', 'paused',
  'no continuation while paused');
select is(public.call_discover_movies('cron'), null, 'cron starts nothing while paused');
update public.discovery_settings set paused = false, max_continuations_per_hour = 1;
select is(public.continue_discover_movies(gen_random_uuid(), gen_random_uuid(), 1) ->> 'reason', 'hourly_cap',
  'no continuation past the hourly cap');
update public.discovery_settings set max_continuations_per_hour = 60;
select discover_fail(id, 'test') from public.export_imports where status not in ('done', 'failed');
select is(public.continue_discover_movies(gen_random_uuid(), gen_random_uuid(), 1) ->> 'reason', 'no_import',
  'no continuation once no import is in progress');
select isnt(public.call_discover_movies('cron'), null, 'cron calls the function');
select results_eq(
  $$ select trigger, job_name, body ->> 'trigger' from public.edge_function_invocations
      where function_name = 'discover-movies' order by invoked_at desc, request_id desc limit 1 $$,
  $$ values ('cron'::text, 'discover_movies'::text, 'cron'::text) $$,
  'as the discover_movies job');
select throws_ok($$ select public.call_discover_movies('sometimes') $$, '22023', null,
  'call_discover_movies takes manual or cron');
select results_eq(
  $$ select schedule, command from cron.job where jobname = 'discover_movies' $$,
  $$ values ('30 8 * * *'::text, 'select public.call_discover_movies(''cron'')'::text) $$,
  'the cron job runs at 08:30 UTC, after TMDB publishes');

-- ---------------------------------------------------------------------------------------
-- Privileges and RLS
-- ---------------------------------------------------------------------------------------

select results_eq(
  $$ select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relrowsecurity
        and c.relname in ('discovery_settings', 'export_imports', 'export_import_lines',
                          'export_import_ids', 'tmdb_export_ids') $$,
  $$ values (5::bigint) $$,
  'RLS is on for every discovery table');

set local role anon;
select throws_ok($$ select * from public.export_imports $$, '42501', null, 'anon cannot read the imports');
select throws_ok($$ select * from public.tmdb_export_ids $$, '42501', null, 'anon cannot read the known ids');
select throws_ok($$ select * from public.export_import_lines $$, '42501', null, 'anon cannot read staging');
select throws_ok($$ select public.discover_step(1, 10) $$, '42501', null, 'anon cannot run a step');
select throws_ok($$ select public.call_discover_movies() $$, '42501', null, 'anon cannot call the function');
reset role;

set local role authenticated;
select throws_ok($$ select * from public.discovery_settings $$, '42501', null, 'authenticated cannot read the settings');
select throws_ok($$ update public.discovery_settings set include_adult = true $$, '42501', null,
  'authenticated cannot change the settings');
select throws_ok($$ insert into public.export_import_ids values (1, 1, false) $$, '42501', null,
  'authenticated cannot write staging');
select throws_ok($$ select public.discover_import('2026-02-01', null, null) $$, '42501', null,
  'authenticated cannot start an import');
reset role;

set local role service_role;
select lives_ok($$ select * from public.export_imports $$, 'service_role reads the imports');
select throws_ok($$ select public.continue_discover_movies(gen_random_uuid(), gen_random_uuid(), 1) $$, '42501', null,
  'service_role cannot queue a signed call');
reset role;

select * from finish();
rollback;
