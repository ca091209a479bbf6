-- 028_depth_and_freshness.test.sql
-- Migration 030: the depth policy (catalog_depth_for's decisions; ingest_movie at base depth
-- stores the work and its genres only, and a movie switching depth gains or loses its child
-- rows even when its payload is unchanged), and the catalog_freshness view's figures on a
-- small fixture with times set relative to now(). Both are closed to anon and authenticated.
begin;
select plan(62);

-- The movie of 020 (5 cast, 4 key crew, 2 videos, 2 genres, 3 release dates, popularity
-- 73.433).
create function pg_temp.movie_fixture(p_id integer default 550) returns jsonb
language sql immutable as $fx$
select jsonb_build_object(
  'adult', false,
  'backdrop_path', '/hZkgoQYus5vegHoetLkCJzb17zJ.jpg',
  'belongs_to_collection', null,
  'budget', 63000000,
  'genres', '[{"id": 18, "name": "Drama"}, {"id": 53, "name": "Thriller"}]'::jsonb,
  'homepage', 'http://www.foxmovies.com/movies/fight-club',
  'id', p_id,
  'imdb_id', 'tt0137523',
  'origin_country', '["US"]'::jsonb,
  'original_language', 'en',
  'original_title', 'Fight Club',
  'overview', 'A ticking-time-bomb insomniac and a slippery soap salesman channel primal male aggression into a shocking new form of therapy.',
  'popularity', 73.433,
  'poster_path', '/pB8BM7pdSp6B6Ih7QZ4DrQ3PmJK.jpg',
  'production_companies', '[{"id": 508, "logo_path": "/7cxRWzi4LsVm4Utfpr1hfARNurT.png", "name": "Regency Enterprises", "origin_country": "US"}, {"id": 711, "logo_path": null, "name": "Fox 2000 Pictures", "origin_country": "US"}]'::jsonb,
  'production_countries', '[{"iso_3166_1": "US", "name": "United States of America"}]'::jsonb,
  'release_date', '1999-10-15',
  'revenue', 100853753,
  'runtime', 139,
  'spoken_languages', '[{"english_name": "English", "iso_639_1": "en", "name": "English"}]'::jsonb,
  'status', 'Released',
  'tagline', 'Mischief. Mayhem. Soap.',
  'title', 'Fight Club',
  'video', false,
  'vote_average', 8.438,
  'vote_count', 29923,
  'credits', jsonb_build_object(
    'cast', '[
      {"adult": false, "gender": 2, "id": 819, "known_for_department": "Acting", "name": "Edward Norton", "original_name": "Edward Norton", "popularity": 26.99, "profile_path": "/8nytsqL59SFJTVYVrN72k6qkGgJ.jpg", "cast_id": 4, "character": "Narrator", "credit_id": "52fe4250c3a36847f80149f3", "order": 0},
      {"adult": false, "gender": 2, "id": 287, "known_for_department": "Acting", "name": "Brad Pitt", "original_name": "Brad Pitt", "popularity": 52.1, "profile_path": "/cckcYc2v0yh1tc9QjRelptcOBko.jpg", "cast_id": 5, "character": "Tyler Durden", "credit_id": "52fe4250c3a36847f80149f7", "order": 1},
      {"adult": false, "gender": 1, "id": 1283, "known_for_department": "Acting", "name": "Helena Bonham Carter", "original_name": "Helena Bonham Carter", "popularity": 21.4, "profile_path": "/DDeITcCpnBd0CkAIRPhggy9bt5.jpg", "cast_id": 7, "character": "Marla Singer", "credit_id": "52fe4250c3a36847f80149fb", "order": 2},
      {"adult": false, "gender": 2, "id": 7470, "known_for_department": "Acting", "name": "Meat Loaf", "original_name": "Meat Loaf", "popularity": 8.2, "profile_path": "/7gKLR1u46OB8WJ6m06LemNBCMx6.jpg", "cast_id": 8, "character": "Robert \"Bob\" Paulson", "credit_id": "52fe4250c3a36847f80149ff", "order": 3},
      {"adult": false, "gender": 2, "id": 7499, "known_for_department": "Acting", "name": "Jared Leto", "original_name": "Jared Leto", "popularity": 24.7, "profile_path": "/ca3x0OfIKbJppZh8S1Alx3GfUZO.jpg", "cast_id": 30, "character": "Angel Face", "credit_id": "52fe4250c3a36847f8014a51", "order": 4}
    ]'::jsonb,
    'crew', '[
      {"adult": false, "gender": 2, "id": 7467, "known_for_department": "Directing", "name": "David Fincher", "original_name": "David Fincher", "popularity": 21.3, "profile_path": "/tpEczFclQZeKAiCeKZZ0adRvtfz.jpg", "credit_id": "52fe4250c3a36847f8014a11", "department": "Directing", "job": "Director"},
      {"adult": false, "gender": 2, "id": 7468, "known_for_department": "Writing", "name": "Chuck Palahniuk", "original_name": "Chuck Palahniuk", "popularity": 5.1, "profile_path": "/9pLYcUPI9VBvQ0T6WF2v6yW9pnE.jpg", "credit_id": "52fe4250c3a36847f8014a05", "department": "Writing", "job": "Novel"},
      {"adult": false, "gender": 2, "id": 7469, "known_for_department": "Writing", "name": "Jim Uhls", "original_name": "Jim Uhls", "popularity": 2.3, "profile_path": null, "credit_id": "52fe4250c3a36847f8014a0b", "department": "Writing", "job": "Screenplay"},
      {"adult": false, "gender": 2, "id": 1254, "known_for_department": "Production", "name": "Art Linson", "original_name": "Art Linson", "popularity": 3.2, "profile_path": null, "credit_id": "52fe4250c3a36847f8014a17", "department": "Production", "job": "Producer"},
      {"adult": false, "gender": 0, "id": 1725, "known_for_department": "Crew", "name": "Catering Person", "original_name": "Catering Person", "popularity": 0.6, "profile_path": null, "credit_id": "52fe4250c3a36847f8014aaa", "department": "Crew", "job": "Catering"}
    ]'::jsonb
  ),
  'videos', jsonb_build_object('results', '[
      {"iso_639_1": "en", "iso_3166_1": "US", "name": "Fight Club (1999) Trailer", "key": "O1nDozs-LxI", "site": "YouTube", "size": 1080, "type": "Trailer", "official": true, "published_at": "2023-07-03T15:17:52.000Z", "id": "64a3284b8c44b9011c4d3c4e"},
      {"iso_639_1": "en", "iso_3166_1": "US", "name": "Fight Club - Teaser", "key": "BdJKm16Co6M", "site": "YouTube", "size": 720, "type": "Teaser", "official": false, "published_at": "2014-04-07T19:35:26.000Z", "id": "5c9294240e0a267cd516835f"}
    ]'::jsonb),
  'release_dates', jsonb_build_object('results', '[
      {"iso_3166_1": "US", "release_dates": [
        {"certification": "R", "descriptors": [], "iso_639_1": "", "note": "", "release_date": "1999-10-15T00:00:00.000Z", "type": 3},
        {"certification": "R", "descriptors": [], "iso_639_1": "", "note": "DVD", "release_date": "2000-06-06T00:00:00.000Z", "type": 5}
      ]},
      {"iso_3166_1": "DE", "release_dates": [
        {"certification": "18", "descriptors": ["Violence"], "iso_639_1": "de", "note": "", "release_date": "1999-11-11T00:00:00.000Z", "type": 3}
      ]}
    ]'::jsonb),
  'external_ids', jsonb_build_object('imdb_id', 'tt0137523', 'wikidata_id', 'Q190050', 'facebook_id', 'FightClub', 'instagram_id', null, 'twitter_id', null),
  'keywords', jsonb_build_object('keywords', '[{"id": 825, "name": "support group"}, {"id": 851, "name": "dual identity"}]'::jsonb)
)
$fx$;

-- The work's stored child rows and depth, as one value to compare.
create function pg_temp.stored(p_tmdb_id integer) returns text
language sql as $$
  select format('%s cast=%s crew=%s videos=%s genres=%s release_dates=%s', w.depth,
    (select count(*) from public.work_cast x where x.work_id = w.id),
    (select count(*) from public.work_crew x where x.work_id = w.id),
    (select count(*) from public.work_videos x where x.work_id = w.id),
    (select count(*) from public.work_genres x where x.work_id = w.id),
    (select count(*) from public.work_release_dates x where x.work_id = w.id))
    from public.works w where w.tmdb_id = p_tmdb_id
$$;

-- A queue row for a work. Migration 029 adds refresh_queue.tmdb_id (not null): it is filled
-- from the work when the column exists, so this file runs before and after 029.
create function pg_temp.queue_row(p_work_id bigint, p_status text, p_completed_at timestamptz)
returns void language plpgsql as $$
declare
  v_has_tmdb_id boolean := exists (
    select from information_schema.columns
     where table_schema = 'public' and table_name = 'refresh_queue' and column_name = 'tmdb_id');
begin
  execute format(
    'insert into public.refresh_queue (work_id, %s status, reason, result, last_error,
       lease_expires_at, locked_by, started_at, completed_at)
     select w.id, %s $2, ''manual'',
       case when $2 = ''completed'' then ''refreshed'' end,
       case when $2 = ''failed'' then ''test failure'' end,
       case when $2 = ''processing'' then now() + interval ''2 minutes'' end,
       case when $2 = ''processing'' then ''test-worker'' end,
       case when $2 <> ''pending'' then coalesce($3, now()) end, $3
       from public.works w where w.id = $1',
    case when v_has_tmdb_id then 'tmdb_id,' else '' end,
    case when v_has_tmdb_id then 'w.tmdb_id,' else '' end)
  using p_work_id, p_status, p_completed_at;
end;
$$;

-- ---------------------------------------------------------------------------------------
-- The policy's decisions
-- ---------------------------------------------------------------------------------------

select is(
  (select array[public.catalog_depth_for(0), public.catalog_depth_for(null, 'base'),
                public.catalog_depth_for(1000, 'full')]),
  array['full', 'full', 'full'],
  'the default policy (no threshold) stores every movie at full depth');

update public.catalog_depth_policy set full_min_popularity = 10, keep_full = true;
select is(public.catalog_depth_for(12.5), 'full', 'above the threshold: full');
select is(public.catalog_depth_for(10), 'full', 'at the threshold: full');
select is(public.catalog_depth_for(9.999), 'base', 'below the threshold: base');
select is(public.catalog_depth_for(null), 'base', 'no popularity counts as 0: base');
select is(public.catalog_depth_for(5, 'full'), 'full', 'keep_full: a full movie stays full');
select is(public.catalog_depth_for(5, 'base'), 'base', 'a base movie below the threshold stays base');
select is(public.catalog_depth_for(50, 'base'), 'full', 'a base movie above the threshold becomes full');
update public.catalog_depth_policy set keep_full = false;
select is(public.catalog_depth_for(5, 'full'), 'base',
  'without keep_full, a full movie below the threshold drops to base');
select throws_ok($$ select public.catalog_depth_for(5, 'deep') $$, '22023',
  'p_current_depth must be full, base or null: current value is deep',
  'an unknown depth is refused, naming it');
select throws_ok($$ update public.catalog_depth_policy set full_min_popularity = -1 $$, '23514',
  null, 'a negative threshold is refused');
select throws_ok($$ insert into public.catalog_depth_policy (id) values (false) $$, '23514',
  null, 'the policy has one row');

-- ---------------------------------------------------------------------------------------
-- ingest_movie at each depth
-- ---------------------------------------------------------------------------------------

update public.catalog_depth_policy set full_min_popularity = null, keep_full = true;
select is(public.ingest_movie(pg_temp.movie_fixture(550), '2026-01-01 00:00:00+00') - 'work_id',
  '{"tmdb_id": 550, "action": "inserted", "drift": {}, "cast": 5, "crew": 4, "videos": 2,
    "genres": 2, "release_dates": 3}'::jsonb,
  'default policy: the answer of 025, every child row stored');
select is(pg_temp.stored(550), 'full cast=5 crew=4 videos=2 genres=2 release_dates=3',
  '… and the movie is full');

delete from public.works;
delete from public.people;
update public.catalog_depth_policy set full_min_popularity = 100, keep_full = true;
select is(public.ingest_movie(pg_temp.movie_fixture(551), '2026-01-01 00:00:00+00') - 'work_id',
  '{"tmdb_id": 551, "action": "inserted", "drift": {}, "cast": 0, "crew": 0, "videos": 0,
    "genres": 2, "release_dates": 0}'::jsonb,
  'below the threshold a new movie is inserted at base depth: the work and its genres');
select is(pg_temp.stored(551), 'base cast=0 crew=0 videos=0 genres=2 release_dates=0',
  '… stored as base');
select is((select count(*) from public.people), 0::bigint,
  '… and the people of its credits are not written');
select is((select title from public.works where tmdb_id = 551), 'Fight Club',
  '… the work row itself is complete');
select is(public.ingest_movie(pg_temp.movie_fixture(551), '2026-01-02 00:00:00+00') ->> 'action',
  'unchanged', 'the same payload again at the same depth: unchanged');

update public.catalog_depth_policy set full_min_popularity = 50;
select is(public.ingest_movie(pg_temp.movie_fixture(551), '2026-01-03 00:00:00+00') - 'work_id',
  '{"tmdb_id": 551, "action": "updated", "drift": {}, "cast": 5, "crew": 4, "videos": 2,
    "genres": 2, "release_dates": 3}'::jsonb,
  'threshold lowered: the same payload switches the movie to full (updated, children written)');
select is(pg_temp.stored(551), 'full cast=5 crew=4 videos=2 genres=2 release_dates=3',
  '… stored as full');
select is((select count(*) from public.people), 9::bigint, '… with its people');
select is((select updated_at from public.works where tmdb_id = 551), '2026-01-03 00:00:00+00'::timestamptz,
  '… and updated_at says when');
select is(public.ingest_movie(pg_temp.movie_fixture(551), '2026-01-04 00:00:00+00') ->> 'action',
  'unchanged', 'then the same payload again: unchanged');

update public.catalog_depth_policy set full_min_popularity = 100, keep_full = true;
select is(public.ingest_movie(pg_temp.movie_fixture(551), '2026-01-05 00:00:00+00') ->> 'action',
  'unchanged', 'threshold raised with keep_full: the full movie stays full, nothing written');
select is(pg_temp.stored(551), 'full cast=5 crew=4 videos=2 genres=2 release_dates=3',
  '… still full');

update public.catalog_depth_policy set keep_full = false;
select is(public.ingest_movie(pg_temp.movie_fixture(551), '2026-01-06 00:00:00+00') - 'work_id',
  '{"tmdb_id": 551, "action": "updated", "drift": {}, "cast": 0, "crew": 0, "videos": 0,
    "genres": 2, "release_dates": 0}'::jsonb,
  'without keep_full the same payload drops the movie to base');
select is(pg_temp.stored(551), 'base cast=0 crew=0 videos=0 genres=2 release_dates=0',
  '… its cast, crew, videos and release dates are deleted');
select is((select count(*) from public.people), 9::bigint, '… the shared people stay');

select is(
  public.ingest_movie(jsonb_set(pg_temp.movie_fixture(551), '{title}', '"Fight Club (1999)"'),
                      '2026-01-07 00:00:00+00') ->> 'action',
  'updated', 'a changed payload at base depth updates the work');
select is((select title || ' / ' || pg_temp.stored(551) from public.works where tmdb_id = 551),
  'Fight Club (1999) / base cast=0 crew=0 videos=0 genres=2 release_dates=0',
  '… and still writes no child row but genres');

select is(
  (public.ingest_tmdb_responses(null, 'test', '[{"tmdb_id": 551, "status": 200, "body": 1}]',
     array[pg_temp.movie_fixture(551)::text], '2026-01-08 00:00:00+00') #>> '{items,0,outcome}'),
  'updated', 'ingest_tmdb_responses stores through the same policy');
select is(pg_temp.stored(551), 'base cast=0 crew=0 videos=0 genres=2 release_dates=0',
  '… at base depth');

update public.catalog_depth_policy set full_min_popularity = null;
select is(public.ingest_movie(pg_temp.movie_fixture(551), '2026-01-09 00:00:00+00') ->> 'action',
  'updated', 'back to the default policy: the movie becomes full again at its next ingest');
select is(pg_temp.stored(551), 'full cast=5 crew=4 videos=2 genres=2 release_dates=3',
  '… with every child row');

-- ---------------------------------------------------------------------------------------
-- catalog_freshness on a fixture
-- ---------------------------------------------------------------------------------------

delete from public.works;
delete from public.refresh_queue;
delete from public.tmdb_api_logs;
delete from public.tmdb_payload_drift;
delete from public.scheduled_ingestion_log;
update public.tmdb_rate_limit set requests_per_second = 0.001;

-- 1: released long ago, refreshed 10 days ago: 30-day tier, due in 20 days (within its tier).
-- 2: released long ago, refreshed 40 days ago: due 10 days ago (the most overdue).
-- 3: released 7 days before its refresh 3 days ago: 1-day tier, due 2 days ago.
-- 4: never refreshed: due since -infinity (overdue, counted apart).
insert into public.works (tmdb_id, title, payload_hash, status, release_date, last_refreshed_at)
values
  (1, 'one', repeat('a', 64), 'Released', '2000-01-01', now() - interval '10 days'),
  (2, 'two', repeat('a', 64), 'Released', '2000-01-01', now() - interval '40 days'),
  (3, 'three', repeat('a', 64), 'Released', ((now() at time zone 'UTC') - interval '10 days')::date,
   now() - interval '3 days'),
  (4, 'four', repeat('a', 64), 'Released', '2000-01-01', null);

-- Queue: 2 pending + 1 processing; finished in the last hour: 3 completed + 1 failed;
-- finished earlier in the day: 2; two days ago: 1 (outside every window).
select pg_temp.queue_row(w.id, 'pending', null) from public.works w where w.tmdb_id in (1, 2);
select pg_temp.queue_row(w.id, 'processing', null) from public.works w where w.tmdb_id = 3;
select pg_temp.queue_row(w.id, 'completed', now() - interval '10 minutes')
  from public.works w, generate_series(1, 3) where w.tmdb_id = 1;
select pg_temp.queue_row(w.id, 'failed', now() - interval '30 minutes')
  from public.works w where w.tmdb_id = 2;
select pg_temp.queue_row(w.id, 'completed', now() - interval '5 hours')
  from public.works w, generate_series(1, 2) where w.tmdb_id = 1;
select pg_temp.queue_row(w.id, 'completed', now() - interval '2 days')
  from public.works w where w.tmdb_id = 1;

-- 5 TMDB requests in the last day, 2 before it; the limit is 0.001/s = 86 a day.
insert into public.tmdb_api_logs (created_at, function_name, endpoint, duration_ms)
select now() - interval '1 hour', 'refresh-worker', '/movie/{id}', 30 from generate_series(1, 5);
insert into public.tmdb_api_logs (created_at, function_name, endpoint, duration_ms)
select now() - interval '2 days', 'refresh-worker', '/movie/{id}', 30 from generate_series(1, 2);

insert into public.tmdb_payload_drift (run_id, function_name, path, kind, count, last_seen_at)
values
  (gen_random_uuid(), 'refresh-worker', 'tagline', 'missing', 3, now()),
  (gen_random_uuid(), 'refresh-worker', 'runtime', 'null', 2, now() - interval '2 hours'),
  (gen_random_uuid(), 'refresh-worker', 'budget', 'wrong_type', 10, now() - interval '3 days');

insert into public.scheduled_ingestion_log (created_at, run_id, source, status, failed)
values
  (now() - interval '1 hour', gen_random_uuid(), 'mixed_daily', 'succeeded', 0),
  (now() - interval '1 hour', gen_random_uuid(), 'mixed_daily', 'partial', 2),
  (now() - interval '2 hours', gen_random_uuid(), 'changes', 'failed', 1),
  (now() - interval '2 days', gen_random_uuid(), 'changes', 'failed', 7);

select is(
  (select array[works, within_tier, overdue, never_refreshed] from public.catalog_freshness),
  array[4, 1, 3, 1]::bigint[],
  'works 4: 1 within its tier, 3 overdue (1 never refreshed)');
select is((select within_tier_share from public.catalog_freshness), 0.2500,
  'share within its tier: 1 of 4');
select is(
  (select array[oldest_overdue_at = now() - interval '10 days',
                oldest_overdue_by = interval '10 days'] from public.catalog_freshness),
  array[true, true],
  'the most overdue movie was due 10 days ago (a never-refreshed one is counted, not dated)');
select is(
  (select array[queue_pending, queue_processing, queue_backlog, queue_finished_last_hour,
                queue_finished_last_day, queue_failed_last_day] from public.catalog_freshness),
  array[2, 1, 3, 4, 6, 1]::bigint[],
  'queue: 2 pending + 1 processing; 4 finished in the last hour, 6 in the day, 1 failed');
select is(
  (select array[queue_finished_per_hour::text, queue_backlog_eta::text]
     from public.catalog_freshness),
  array['4', '00:45:00'],
  'the measured rate is the last hour''s (4/h): 3 items take 45 minutes');
update public.refresh_queue set completed_at = completed_at - interval '3 hours'
 where completed_at > now() - interval '1 hour';
select is(
  (select array[queue_finished_per_hour::text, queue_backlog_eta::text]
     from public.catalog_freshness),
  array['0.25', '12:00:00'],
  'with nothing finished in the last hour, the day''s rate (6/24 = 0.25/h): 12 hours');
select is(
  (select array[tmdb_requests_last_day::numeric, tmdb_requests_limit_per_day, tmdb_requests_share]
     from public.catalog_freshness),
  array[5, 86, 0.0581]::numeric[],
  'TMDB requests in the last day against the limit (5 of 86)');
select is(
  (select array[drift_last_day, drift_paths_last_day, ingest_runs_failed_last_day,
                ingest_items_failed_last_day] from public.catalog_freshness),
  array[5, 2, 2, 3]::bigint[],
  'drift of the last day (5 occurrences, 2 paths); 2 runs failed or partial, 3 items failed');
delete from public.refresh_queue;
select is((select queue_backlog_eta from public.catalog_freshness), interval '0',
  'an empty queue has nothing to wait for');
delete from public.works;
select is(
  (select array[works::text, coalesce(within_tier_share::text, 'null'),
                coalesce(oldest_overdue_at::text, 'null')] from public.catalog_freshness),
  array['0', 'null', 'null'],
  'an empty catalog: no share, no overdue movie');

-- ---------------------------------------------------------------------------------------
-- Access: closed to anon and authenticated, open to service_role
-- ---------------------------------------------------------------------------------------

select ok((select relrowsecurity from pg_class where oid = 'public.catalog_depth_policy'::regclass),
  'catalog_depth_policy has RLS on');
select ok(
  (select 'security_invoker=true' = any (reloptions) from pg_class
    where oid = 'public.catalog_freshness'::regclass),
  'catalog_freshness runs with its caller''s privileges (security_invoker)');
select ok(not has_function_privilege('public', 'public.catalog_depth_for(numeric, text)', 'execute'),
  'PUBLIC cannot execute catalog_depth_for');

select public.ingest_movie(pg_temp.movie_fixture(550)) is not null as stored;

set local role anon;
select throws_ok($$ select * from public.catalog_freshness $$, '42501',
  'permission denied for view catalog_freshness', 'anon cannot read catalog_freshness');
select throws_ok($$ select * from public.catalog_depth_policy $$, '42501',
  'permission denied for table catalog_depth_policy', 'anon cannot read the depth policy');
select throws_ok($$ update public.catalog_depth_policy set full_min_popularity = 1 $$, '42501',
  'permission denied for table catalog_depth_policy', 'anon cannot change the depth policy');
select throws_ok($$ select public.catalog_depth_for(1) $$, '42501',
  'permission denied for function catalog_depth_for', 'anon cannot execute catalog_depth_for');
select is((select depth from public.works where tmdb_id = 550), 'full',
  'anon reads a work''s depth with the rest of the work');
reset role;

set local request.jwt.claims to
  '{"sub": "00000000-0000-0000-0000-000000000001", "role": "authenticated"}';
set local role authenticated;
select throws_ok($$ select * from public.catalog_freshness $$, '42501',
  'permission denied for view catalog_freshness', 'authenticated cannot read catalog_freshness');
select throws_ok($$ select * from public.catalog_depth_policy $$, '42501',
  'permission denied for table catalog_depth_policy',
  'authenticated cannot read the depth policy');
select throws_ok($$ update public.catalog_depth_policy set keep_full = false $$, '42501',
  'permission denied for table catalog_depth_policy',
  'authenticated cannot change the depth policy');
select throws_ok($$ select public.catalog_depth_for(1) $$, '42501',
  'permission denied for function catalog_depth_for',
  'authenticated cannot execute catalog_depth_for');
select is((select depth from public.works where tmdb_id = 550), 'full',
  'authenticated reads a work''s depth');
reset role;

set local role service_role;
select is((select works from public.catalog_freshness), 1::bigint,
  'service_role reads catalog_freshness');
select lives_ok($$ update public.catalog_depth_policy set full_min_popularity = 5 $$,
  'service_role may change the depth policy');
select is(public.catalog_depth_for(1), 'base', '… and its decision follows');
select throws_ok($$ insert into public.catalog_depth_policy (id) values (true) $$, '42501',
  'permission denied for table catalog_depth_policy',
  'service_role cannot add a second policy row');
reset role;

select * from finish();
rollback;
