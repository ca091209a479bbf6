-- 024_batch_lock_order.test.sql
-- ingest_tmdb_responses() (032) locks every person and genre of its batch, known or new, in
-- one id order before any movie: a new one is inserted as a placeholder the movie fills in.
-- Checked here: the people it locks are exactly those ingest_movie() writes (cast and key
-- crew); a placeholder ends as the row the movie alone would have written; nothing of a
-- failed movie stays; who may call tmdb_stored_person_ids(). The concurrency itself (two
-- workers that used to deadlock) is tests/ingest_new_people_deadlock_test.ts.
begin;
select plan(13);

-- A movie whose cast is p_cast and whose crew has one credit per (department, job) below,
-- person ids 1_984_100 + n: two key departments, three key jobs, three other credits.
create function pg_temp.movie(p_id integer, p_cast integer[], p_genre integer) returns jsonb
language sql immutable as $fx$
select jsonb_build_object(
  'adult', false, 'backdrop_path', null, 'belongs_to_collection', null, 'budget', 0,
  'genres', jsonb_build_array(jsonb_build_object('id', p_genre, 'name', 'Genre ' || p_genre)),
  'homepage', '', 'id', p_id, 'imdb_id', null, 'origin_country', '[]'::jsonb,
  'original_language', 'en', 'original_title', 'Movie ' || p_id, 'overview', '',
  'popularity', 1, 'poster_path', null, 'production_companies', '[]'::jsonb,
  'production_countries', '[]'::jsonb, 'release_date', '2001-01-01', 'revenue', 0,
  'runtime', 90, 'spoken_languages', '[]'::jsonb, 'status', 'Released', 'tagline', null,
  'title', 'Movie ' || p_id, 'video', false, 'vote_average', 5, 'vote_count', 1,
  'credits', jsonb_build_object(
    'cast', (select coalesce(jsonb_agg(jsonb_build_object(
               'adult', false, 'gender', 1, 'id', c.id, 'known_for_department', 'Acting',
               'name', 'Person ' || c.id, 'original_name', 'Original ' || c.id,
               'popularity', 2.5, 'profile_path', '/p' || c.id || '.jpg', 'cast_id', c.ord,
               'character', 'Role ' || c.ord, 'credit_id', 'c' || p_id || '-' || c.id,
               'order', c.ord - 1) order by c.ord), '[]'::jsonb)
               from unnest(p_cast) with ordinality c(id, ord)),
    'crew', (select jsonb_agg(jsonb_build_object(
               'adult', false, 'gender', 2, 'id', 1984100 + k.n,
               'known_for_department', k.department, 'name', 'Crew ' || k.n,
               'original_name', 'Crew ' || k.n, 'popularity', 1, 'profile_path', null,
               'credit_id', 'k' || p_id || '-' || k.n, 'department', k.department,
               'job', k.job) order by k.n)
               from (values (1, 'Directing', 'Director'), (2, 'Writing', 'Screenplay'),
                            (3, 'Production', 'Producer'), (4, 'Sound', 'Original Music Composer'),
                            (5, 'Editing', 'Editor'), (6, 'Sound', 'Boom Operator'),
                            (7, 'Art', 'Set Decoration'), (8, 'Camera', 'Still Photographer'))
                    k(n, department, job))),
  'videos', jsonb_build_object('results', '[]'::jsonb),
  'release_dates', jsonb_build_object('results', '[]'::jsonb),
  'external_ids', '{}'::jsonb, 'keywords', jsonb_build_object('keywords', '[]'::jsonb))
$fx$;

-- ---- the people it locks are the people ingest_movie writes ----
select is(
  (select array_agg(i order by i)
     from public.tmdb_stored_person_ids(array[pg_temp.movie(1984001, array[1984201, 1984202], 1984901)]) i),
  array[1984101, 1984102, 1984103, 1984104, 1984105, 1984201, 1984202],
  'tmdb_stored_person_ids(): the cast and the key crew (Directing, Writing, key jobs), not the rest');

select lives_ok(
  $$select public.ingest_movie(pg_temp.movie(1984001, array[1984201, 1984202], 1984901))$$,
  'ingest_movie() stores the movie alone');
select is(
  (select array_agg(p order by p) from (
     select c.person_id as p from public.work_cast c join public.works w on w.id = c.work_id
      where w.tmdb_id = 1984001
     union
     select c.person_id from public.work_crew c join public.works w on w.id = c.work_id
      where w.tmdb_id = 1984001) x),
  (select array_agg(i order by i)
     from public.tmdb_stored_person_ids(array[pg_temp.movie(1984001, array[1984201, 1984202], 1984901)]) i),
  '… and writes exactly those people (the rule is the same in both places)');

-- ---- a placeholder ends as the row the movie alone would have written ----
create temp table alone as
  select id, name, original_name, gender, known_for_department, profile_path, popularity, adult
    from public.people where id between 1984100 and 1984299;
delete from public.works where tmdb_id = 1984001;
delete from public.people where id between 1984100 and 1984299;
delete from public.genres where id = 1984901;

select is(
  (select public.ingest_tmdb_responses(null, 'pgtap', '[{"tmdb_id": 1984001, "status": 200, "body": 1}]',
     array[pg_temp.movie(1984001, array[1984201, 1984202], 1984901)::text], '2026-01-02 03:04:05+00')
     #>> '{items,0,outcome}'),
  'inserted', 'ingest_tmdb_responses() stores the same movie with its people new to the catalog');
select results_eq(
  $$select id, name, original_name, gender, known_for_department, profile_path, popularity, adult
      from public.people where id between 1984100 and 1984299 order by id$$,
  $$select * from alone order by id$$,
  '… its people rows are those ingest_movie() alone wrote (placeholders filled in)');
select is(
  (select count(*)::int from public.people
    where id between 1984100 and 1984299
      and (created_at, updated_at) <> ('2026-01-02 03:04:05+00', '2026-01-02 03:04:05+00')),
  0, '… created and updated at the refresh time, like a row the movie inserted');
select is((select name from public.genres where id = 1984901), 'Genre 1984901',
  '… and its new genre carries its name');

-- ---- nothing of a failed movie stays ----
-- 1984002 names new people 1984301 and 1984302 and a new genre, then a credit without an
-- id (essential): it fails. 1984003, in the same batch, shares 1984301 and is stored.
select is(
  (select jsonb_agg(i ->> 'outcome' order by i ->> 'tmdb_id')
     from jsonb_array_elements(public.ingest_tmdb_responses(null, 'pgtap',
       '[{"tmdb_id": 1984002, "status": 200, "body": 1}, {"tmdb_id": 1984003, "status": 200, "body": 2}]',
       array[jsonb_set(pg_temp.movie(1984002, array[1984301, 1984302], 1984902),
                       '{credits,cast}',
                       pg_temp.movie(1984002, array[1984301, 1984302], 1984902) #> '{credits,cast}'
                         || '[{"name": "No Id", "credit_id": "x"}]')::text,
             pg_temp.movie(1984003, array[1984301], 1984901)::text]) -> 'items') i),
  '["failed", "inserted"]'::jsonb, 'a batch with a movie that fails on an essential field');
select is(
  (select array_agg(id order by id) from public.people where id between 1984300 and 1984399),
  array[1984301],
  '… keeps only the new people a stored movie names (no placeholder of the failed one)');
select is((select count(*)::int from public.genres where id = 1984902), 0,
  '… and no placeholder genre of the failed movie');

-- ---- who may call it ----
select function_privs_are('public', 'tmdb_stored_person_ids', array['jsonb[]'], 'anon',
  array[]::text[], 'anon cannot execute tmdb_stored_person_ids()');
select function_privs_are('public', 'tmdb_stored_person_ids', array['jsonb[]'], 'authenticated',
  array[]::text[], 'authenticated cannot execute tmdb_stored_person_ids()');
select function_privs_are('public', 'tmdb_stored_person_ids', array['jsonb[]'], 'service_role',
  array['EXECUTE'], 'service_role (the functions) may execute tmdb_stored_person_ids()');

select * from finish();
rollback;
