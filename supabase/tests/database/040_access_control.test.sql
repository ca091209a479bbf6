-- 040_access_control.test.sql
-- Who may do what: anon and authenticated can read the catalog and nothing else (no writes,
-- no logs, no ingest functions), service_role can do everything; checked both through the
-- catalogs (grants, policies) and by switching roles and asserting the exact error.
begin;
select plan(65);

-- One movie and one row in each log, written as postgres (the owner).
do $$
begin
  perform public.ingest_movie('{
    "id": 550, "title": "Fight Club", "status": "Released", "release_date": "1999-10-15",
    "genres": [{"id": 18, "name": "Drama"}],
    "credits": {"cast": [{"adult": false, "gender": 2, "id": 819, "name": "Edward Norton",
      "original_name": "Edward Norton", "popularity": 26.99, "profile_path": null,
      "known_for_department": "Acting", "character": "Narrator",
      "credit_id": "52fe4250c3a36847f80149f3", "order": 0}],
      "crew": [{"adult": false, "gender": 2, "id": 7467, "name": "David Fincher",
      "original_name": "David Fincher", "popularity": 21.3, "profile_path": null,
      "known_for_department": "Directing", "credit_id": "52fe4250c3a36847f8014a11",
      "department": "Directing", "job": "Director"}]},
    "videos": {"results": [{"id": "64a3284b8c44b9011c4d3c4e", "site": "YouTube",
      "key": "O1nDozs-LxI", "name": "Trailer", "type": "Trailer", "official": true,
      "size": 1080, "iso_639_1": "en", "iso_3166_1": "US",
      "published_at": "2023-07-03T15:17:52.000Z"}]},
    "release_dates": {"results": [{"iso_3166_1": "US", "release_dates": [{"certification": "R",
      "iso_639_1": "", "note": "", "release_date": "1999-10-15T00:00:00.000Z", "type": 3}]}]}
  }'::jsonb, '2026-01-01 00:00:00+00');
  insert into public.tmdb_api_logs (function_name, endpoint, duration_ms)
    values ('ingest-movie', '/movie/{id}', 120);
  insert into public.scheduled_ingestion_log (run_id, source)
    values (gen_random_uuid(), 'now_playing');
end
$$;

-- ---------------------------------------------------------------------------------------
-- grants and policies, from the catalogs
-- ---------------------------------------------------------------------------------------

select table_privs_are('public', t, r, array['SELECT'],
    format('%s may only SELECT public.%s', r, t))
  from unnest(array['works', 'genres', 'work_genres', 'people', 'work_cast', 'work_crew',
                    'work_videos', 'work_release_dates']) as t,
       unnest(array['anon', 'authenticated']) as r;

select table_privs_are('public', t, r, array[]::text[],
    format('%s has no privilege on public.%s', r, t))
  from unnest(array['tmdb_api_logs', 'scheduled_ingestion_log']) as t,
       unnest(array['anon', 'authenticated']) as r;

select table_privs_are('public', t, 'service_role',
    array['DELETE', 'INSERT', 'REFERENCES', 'SELECT', 'TRIGGER', 'TRUNCATE', 'UPDATE'],
    format('service_role has every privilege on public.%s', t))
  from unnest(array['works', 'genres', 'work_genres', 'people', 'work_cast', 'work_crew',
                    'work_videos', 'work_release_dates', 'tmdb_api_logs',
                    'scheduled_ingestion_log']) as t;

select results_eq(
  $$ select tablename::text collate "default", policyname::text collate "default",
            permissive::text collate "default", roles::text[] collate "default", cmd::text collate "default",
            qual::text collate "default"
       from pg_policies
      where schemaname = 'public'
        and tablename in ('works', 'genres', 'work_genres', 'people', 'work_cast', 'work_crew',
                          'work_videos', 'work_release_dates', 'tmdb_api_logs',
                          'scheduled_ingestion_log')
      order by tablename $$,
  $$ values
       ('genres', 'genres_select_all', 'PERMISSIVE', '{anon,authenticated}'::text[], 'SELECT', 'true'),
       ('people', 'people_select_all', 'PERMISSIVE', '{anon,authenticated}', 'SELECT', 'true'),
       ('work_cast', 'work_cast_select_all', 'PERMISSIVE', '{anon,authenticated}', 'SELECT', 'true'),
       ('work_crew', 'work_crew_select_all', 'PERMISSIVE', '{anon,authenticated}', 'SELECT', 'true'),
       ('work_genres', 'work_genres_select_all', 'PERMISSIVE', '{anon,authenticated}', 'SELECT', 'true'),
       ('work_release_dates', 'work_release_dates_select_all', 'PERMISSIVE', '{anon,authenticated}', 'SELECT', 'true'),
       ('work_videos', 'work_videos_select_all', 'PERMISSIVE', '{anon,authenticated}', 'SELECT', 'true'),
       ('works', 'works_select_all', 'PERMISSIVE', '{anon,authenticated}', 'SELECT', 'true') $$,
  'each catalog table has exactly one permissive SELECT policy using (true) for anon and authenticated; the logs have none'
);

select function_privs_are('public', 'ingest_movie', array['jsonb', 'timestamp with time zone'],
  r, case when r = 'service_role' then array['EXECUTE'] else array[]::text[] end,
  format('%s %s execute ingest_movie', r,
    case when r = 'service_role' then 'can' else 'cannot' end))
  from unnest(array['anon', 'authenticated', 'service_role']) as r;

select is_empty(
  $$ select p.oid::regprocedure::text
       from pg_proc as p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) as a
      where p.pronamespace = 'public'::regnamespace
        and p.proname in ('ingest_movie', 'mark_movie_not_found', 'is_stale',
                          'refresh_interval', 'compute_next_refresh_at',
                          'min_refresh_interval', 'max_refresh_interval')
        and a.grantee = 0 $$,
  'no catalog function is executable by PUBLIC (every grant is explicit)'
);

-- ---------------------------------------------------------------------------------------
-- as anon
-- ---------------------------------------------------------------------------------------

set local role anon;

select is((select title from public.works where tmdb_id = 550), 'Fight Club',
  'anon can read works');
select is(
  (select array[(select count(*) from public.genres), (select count(*) from public.work_genres),
                (select count(*) from public.people), (select count(*) from public.work_cast),
                (select count(*) from public.work_crew), (select count(*) from public.work_videos),
                (select count(*) from public.work_release_dates)]),
  array[1, 1, 2, 1, 1, 1, 1]::bigint[],
  'anon can read every catalog child table'
);
select is((select public.is_stale(w, '2026-01-01 00:00:00+00') from public.works as w), false,
  'anon can call is_stale()');
select throws_ok(
  $$ insert into public.works (tmdb_id, title, payload_hash, first_ingested_at)
     values (1, 'x', repeat('a', 64), now()) $$,
  '42501', 'permission denied for table works', 'anon cannot insert into works');
select throws_ok($$ update public.works set title = 'Hacked' $$,
  '42501', 'permission denied for table works', 'anon cannot update works');
select throws_ok($$ delete from public.works $$,
  '42501', 'permission denied for table works', 'anon cannot delete from works');
select throws_ok($$ insert into public.people (id, name) values (1, 'x') $$,
  '42501', 'permission denied for table people', 'anon cannot insert into people');
select throws_ok($$ delete from public.work_cast $$,
  '42501', 'permission denied for table work_cast', 'anon cannot delete from work_cast');
select throws_ok($$ select * from public.tmdb_api_logs $$,
  '42501', 'permission denied for table tmdb_api_logs', 'anon cannot read tmdb_api_logs');
select throws_ok($$ select * from public.scheduled_ingestion_log $$,
  '42501', 'permission denied for table scheduled_ingestion_log',
  'anon cannot read scheduled_ingestion_log');
select throws_ok(
  $$ insert into public.tmdb_api_logs (function_name, endpoint, duration_ms) values ('x', '/x', 1) $$,
  '42501', 'permission denied for table tmdb_api_logs', 'anon cannot write tmdb_api_logs');
select throws_ok($$ select public.ingest_movie('{"id": 1, "title": "x"}') $$,
  '42501', 'permission denied for function ingest_movie', 'anon cannot execute ingest_movie');
select throws_ok($$ select public.mark_movie_not_found(550) $$,
  '42501', 'permission denied for function mark_movie_not_found',
  'anon cannot execute mark_movie_not_found');

reset role;

-- ---------------------------------------------------------------------------------------
-- as authenticated (a signed-in user)
-- ---------------------------------------------------------------------------------------

set local request.jwt.claims to
  '{"sub": "00000000-0000-0000-0000-000000000001", "role": "authenticated"}';
set local role authenticated;

select is((select title from public.works where tmdb_id = 550), 'Fight Club',
  'authenticated can read works');
select is((select count(*) from public.work_cast), 1::bigint,
  'authenticated can read work_cast');
select throws_ok(
  $$ insert into public.works (tmdb_id, title, payload_hash, first_ingested_at)
     values (1, 'x', repeat('a', 64), now()) $$,
  '42501', 'permission denied for table works', 'authenticated cannot insert into works');
select throws_ok($$ update public.works set title = 'Hacked' $$,
  '42501', 'permission denied for table works', 'authenticated cannot update works');
select throws_ok($$ delete from public.works $$,
  '42501', 'permission denied for table works', 'authenticated cannot delete from works');
select throws_ok($$ update public.genres set name = 'x' $$,
  '42501', 'permission denied for table genres', 'authenticated cannot update genres');
select throws_ok($$ select * from public.tmdb_api_logs $$,
  '42501', 'permission denied for table tmdb_api_logs',
  'authenticated cannot read tmdb_api_logs');
select throws_ok($$ select * from public.scheduled_ingestion_log $$,
  '42501', 'permission denied for table scheduled_ingestion_log',
  'authenticated cannot read scheduled_ingestion_log');
select throws_ok($$ select public.ingest_movie('{"id": 1, "title": "x"}') $$,
  '42501', 'permission denied for function ingest_movie',
  'authenticated cannot execute ingest_movie');
select throws_ok($$ select public.mark_movie_not_found(550) $$,
  '42501', 'permission denied for function mark_movie_not_found',
  'authenticated cannot execute mark_movie_not_found');

reset role;

-- ---------------------------------------------------------------------------------------
-- as service_role (the edge functions)
-- ---------------------------------------------------------------------------------------

set local role service_role;

select is(
  public.ingest_movie('{"id": 551, "title": "Another Movie", "status": "Planned"}',
    '2026-01-02 00:00:00+00') ->> 'action',
  'inserted',
  'service_role can execute ingest_movie (and write works through its generated column)'
);
select is(
  public.mark_movie_not_found(551, '2026-01-03 00:00:00+00') ->> 'action',
  'not_found',
  'service_role can execute mark_movie_not_found'
);
select lives_ok(
  $$ insert into public.tmdb_api_logs (function_name, run_id, endpoint, params, http_status,
       duration_ms, tmdb_id)
     values ('ingest-movie', gen_random_uuid(), '/movie/{id}', '{"append_to_response": "credits"}',
       200, 85, 550) $$,
  'service_role can write tmdb_api_logs'
);
select throws_ok(
  $$ insert into public.tmdb_api_logs (function_name, endpoint, params, duration_ms)
     values ('ingest-movie', '/movie/{id}', '{"api_key": "secret"}', 85) $$,
  '23514',
  'new row for relation "tmdb_api_logs" violates check constraint "tmdb_api_logs_params_no_api_key"',
  'tmdb_api_logs refuses params holding an api_key'
);
select is((select count(*) from public.tmdb_api_logs), 2::bigint,
  'service_role can read tmdb_api_logs');
select lives_ok(
  $$ update public.scheduled_ingestion_log set status = 'succeeded', finished_at = now() $$,
  'service_role can update scheduled_ingestion_log'
);
select throws_ok(
  $$ update public.scheduled_ingestion_log set status = 'done' $$,
  '23514',
  null,
  'scheduled_ingestion_log refuses an unknown status'
);

reset role;

select * from finish();
rollback;
