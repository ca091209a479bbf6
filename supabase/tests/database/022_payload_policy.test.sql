-- 022_payload_policy.test.sql
-- The TMDB payload policy (025): which fields are essential, what a missing, null, ill-typed
-- or unknown non-essential field degrades to and how it is counted (drift), that an unusable
-- essential field fails the movie naming its path, that shared rows keep what other movies
-- said, and the batch writers ingest_tmdb_responses() / refresh_worker_step().
begin;
select plan(61);

-- A complete payload as TMDB documents it: every field the policy knows, nothing else.
create function pg_temp.movie(p_id integer) returns jsonb
language sql immutable as $fx$
select jsonb_build_object(
  'adult', false, 'backdrop_path', '/b.jpg', 'belongs_to_collection', null, 'budget', 1000,
  'genres', '[{"id": 18, "name": "Drama"}]'::jsonb, 'homepage', '', 'id', p_id,
  'imdb_id', 'tt01', 'origin_country', '["US"]'::jsonb, 'original_language', 'en',
  'original_title', 'Original ' || p_id, 'overview', 'An overview.', 'popularity', 1.5,
  'poster_path', '/p.jpg', 'production_companies', '[]'::jsonb,
  'production_countries', '[]'::jsonb, 'release_date', '2001-02-03', 'revenue', 2000,
  'runtime', 100, 'spoken_languages', '[]'::jsonb, 'status', 'Released', 'tagline', null,
  'title', 'Title ' || p_id, 'video', false, 'vote_average', 7.5, 'vote_count', 10,
  'credits', jsonb_build_object(
    'cast', jsonb_build_array(
      jsonb_build_object('adult', false, 'gender', 1, 'id', 9001, 'known_for_department', 'Acting',
        'name', 'Ann Actor', 'original_name', 'Ann Actor', 'popularity', 2.5,
        'profile_path', '/a.jpg', 'cast_id', 1, 'character', 'Hero', 'credit_id', 'c' || p_id || 'a',
        'order', 0),
      jsonb_build_object('adult', false, 'gender', 2, 'id', 9002, 'known_for_department', 'Acting',
        'name', 'Bob Actor', 'original_name', 'Bob Actor', 'popularity', 1.5,
        'profile_path', null, 'cast_id', 2, 'character', 'Friend', 'credit_id', 'c' || p_id || 'b',
        'order', 1)),
    'crew', jsonb_build_array(
      jsonb_build_object('adult', false, 'gender', 2, 'id', 9003, 'known_for_department', 'Directing',
        'name', 'Dee Rector', 'original_name', 'Dee Rector', 'popularity', 3.5,
        'profile_path', null, 'credit_id', 'c' || p_id || 'd', 'department', 'Directing',
        'job', 'Director'))),
  'videos', jsonb_build_object('results', jsonb_build_array(
    jsonb_build_object('id', 'v' || p_id, 'iso_639_1', 'en', 'iso_3166_1', 'US', 'key', 'K' || p_id,
      'name', 'Trailer', 'site', 'YouTube', 'size', 1080, 'type', 'Trailer', 'official', true,
      'published_at', '2001-01-01T10:00:00.000Z'))),
  'release_dates', jsonb_build_object('results', jsonb_build_array(
    jsonb_build_object('iso_3166_1', 'US', 'release_dates', jsonb_build_array(
      jsonb_build_object('certification', 'R', 'descriptors', '[]'::jsonb, 'iso_639_1', '',
        'note', '', 'release_date', '2001-02-03T00:00:00.000Z', 'type', 3))))),
  'external_ids', jsonb_build_object('imdb_id', 'tt01', 'wikidata_id', null,
    'facebook_id', null, 'instagram_id', null, 'twitter_id', null),
  'keywords', jsonb_build_object('keywords', '[{"id": 1, "name": "k"}]'::jsonb)
)
$fx$;

-- ---------------------------------------------------------------------------------------
-- the policy
-- ---------------------------------------------------------------------------------------

select results_eq(
  $$ select parent, field from public.tmdb_movie_fields() where essential order by 1, 2 $$,
  $$ values ('', 'id'), ('credits.cast[]', 'credit_id'), ('credits.cast[]', 'id'),
            ('credits.crew[]', 'credit_id'), ('credits.crew[]', 'id'), ('genres[]', 'id'),
            ('release_dates.results[]', 'iso_3166_1'),
            ('release_dates.results[].release_dates[]', 'type'),
            ('videos.results[]', 'key'), ('videos.results[]', 'site') $$,
  'essential fields: the movie id, genre/person/credit ids, video key and site, release country and type'
);
select is(
  (select count(*) from public.tmdb_movie_fields()
    where json_type not in ('string', 'key', 'smallint', 'integer', 'bigint', 'number', 'boolean',
                            'array', 'object', 'date', 'timestamp')),
  0::bigint,
  'every field has a known JSON type'
);
select is(public.tmdb_movie_drift(pg_temp.movie(1)), '{}'::jsonb,
  'a complete payload has no drift');

-- ---------------------------------------------------------------------------------------
-- non-essential fields degrade to their defaults and are counted
-- ---------------------------------------------------------------------------------------

-- Release dates without note are common on TMDB: stored with note "".
select is(
  public.ingest_movie(pg_temp.movie(100) #- '{release_dates,results,0,release_dates,0,note}',
                      '2026-01-01 00:00:00+00') -> 'drift',
  '{"release_dates.results[].release_dates[].note": {"missing": 1}}'::jsonb,
  'a release date without note is stored and counted as missing'
);
select is(
  public.ingest_movie(pg_temp.movie(100) #- '{release_dates,results,0,release_dates,0,note}',
                      '2026-01-02 00:00:00+00') - 'work_id',
  '{"tmdb_id": 100, "action": "unchanged", "cast": 2, "crew": 1, "videos": 1, "genres": 1,
    "release_dates": 1, "drift": {"release_dates.results[].release_dates[].note": {"missing": 1}}}'::jsonb,
  'the same payload again is unchanged and reports the drift it had, kept with the work'
);
select is(
  (select payload_drift from public.works where tmdb_id = 100),
  '{"release_dates.results[].release_dates[].note": {"missing": 1}}'::jsonb,
  '… in works.payload_drift'
);
select is(
  (select row(rd.note, rd.release_type, rd.certification)::text
     from public.work_release_dates rd join public.works w on w.id = rd.work_id
    where w.tmdb_id = 100),
  '("",3,R)',
  '… with note "" and the rest of the release'
);

select is(
  public.ingest_movie(pg_temp.movie(101)
      || '{"runtime": "120", "adult": "false", "vote_count": 12.5, "genres": null, "title": null,
           "release_date": "not a date", "popularity": null}'::jsonb
      #- '{tagline}' #- '{homepage}',
    '2026-01-01 00:00:00+00') -> 'drift',
  '{"runtime": {"wrong_type": 1}, "adult": {"wrong_type": 1}, "vote_count": {"wrong_type": 1},
    "genres": {"null": 1}, "title": {"null": 1}, "release_date": {"wrong_type": 1},
    "popularity": {"null": 1}, "tagline": {"missing": 1}, "homepage": {"missing": 1}}'::jsonb,
  'wrong types, nulls and missing fields are each counted by path and kind'
);
select is(
  (select row(w.runtime, w.adult, w.vote_count, w.title, w.release_date, w.popularity, w.tagline,
              w.homepage, (select count(*) from public.work_genres g where g.work_id = w.id))::text
     from public.works w where w.tmdb_id = 101),
  '(,f,,"Original 101",,,,,0)',
  '… and degrade to their defaults: null, false, original_title for the title, no genres'
);
select lives_ok(
  $$ select public.ingest_movie(pg_temp.movie(102) - 'title' - 'original_title') $$,
  'a movie with neither title nor original_title is stored'
);
select is((select title from public.works where tmdb_id = 102), '',
  '… with the title ""');

select is(
  public.ingest_movie(jsonb_set(pg_temp.movie(103), '{credits,cast}', '{"not": "an array"}'),
                      '2026-01-01 00:00:00+00') -> 'drift',
  '{"credits.cast": {"wrong_type": 1}}'::jsonb,
  'a credits.cast that is not an array is counted once and not walked'
);
select is(
  (select count(*) from public.work_cast c join public.works w on w.id = c.work_id where w.tmdb_id = 103),
  0::bigint,
  '… and the movie is stored without cast'
);

select is(
  public.ingest_movie(jsonb_set(jsonb_set(pg_temp.movie(104),
      '{videos,results,0,published_at}', '"2023-02-30T00:00:00Z"'),
      '{credits,cast,0,order}', '"first"'), '2026-01-01 00:00:00+00') -> 'drift',
  '{"videos.results[].published_at": {"wrong_type": 1}, "credits.cast[].order": {"wrong_type": 1}}'::jsonb,
  'an impossible timestamp and a non-integer order are counted as wrong_type'
);
select is(
  (select row(v.published_at, c.cast_order)::text
     from public.works w join public.work_videos v on v.work_id = w.id
     join public.work_cast c on c.work_id = w.id and c.credit_id = 'c104a'
    where w.tmdb_id = 104),
  '(,0)',
  '… the timestamp is null and the order falls back to the position in the list'
);

-- Unknown fields: counted; top-level ones kept in works.extra.
select is(
  public.ingest_movie(pg_temp.movie(105)
      || '{"new_field": {"x": [1, 2]}, "another": 1}'::jsonb
      || jsonb_build_object('credits', jsonb_set(pg_temp.movie(105) -> 'credits',
                                                 '{cast,0,new_person_field}', '"y"')),
    '2026-01-01 00:00:00+00') -> 'drift',
  '{"new_field": {"unknown": 1}, "another": {"unknown": 1}, "credits.cast[].new_person_field": {"unknown": 1}}'::jsonb,
  'fields the policy does not know are counted as unknown (and not walked)'
);
select is(
  (select extra from public.works where tmdb_id = 105),
  '{"new_field": {"x": [1, 2]}, "another": 1}'::jsonb,
  '… and the unknown top-level fields are kept in works.extra'
);

-- Duplicate credits, videos without id, elements of the wrong type.
select is(
  public.ingest_movie(
    jsonb_set(jsonb_set(jsonb_set(pg_temp.movie(106),
      '{credits,cast}', (pg_temp.movie(106) #> '{credits,cast}') || (pg_temp.movie(106) #> '{credits,cast,0}')),
      '{videos,results,0}', (pg_temp.movie(106) #> '{videos,results,0}') - 'id'),
      '{genres}', '[{"id": 18, "name": "Drama"}, "Comedy"]'),
    '2026-01-01 00:00:00+00') - 'work_id' - 'tmdb_id' - 'action',
  '{"cast": 2, "crew": 1, "videos": 1, "genres": 1, "release_dates": 1,
    "drift": {"videos.results[].id": {"missing": 1}, "genres[]": {"wrong_type": 1}}}'::jsonb,
  'a duplicate credit is stored once, a genre that is not an object is skipped and counted'
);
select is(
  (select v.video_id from public.work_videos v join public.works w on w.id = v.work_id where w.tmdb_id = 106),
  'YouTube:K106',
  'a video without TMDB''s id is identified as site:key'
);

-- Values of the right JSON type that do not fit where they are stored degrade like any
-- other ill-typed value (they used to fail the whole movie).
select is(
  public.ingest_movie(
    jsonb_set(jsonb_set(jsonb_set(jsonb_set(jsonb_set(pg_temp.movie(110),
      '{videos,results,0,published_at}', '"2020-01-01T00:00:00+99:00"'),
      '{credits,cast,0,gender}', '40000'),
      '{release_dates,results,0,release_dates,0,note}', to_jsonb(repeat('n', 3000))),
      '{videos,results,0,id}', to_jsonb(repeat('v', 3000))),
      '{vote_count}', '3000000000')
    || '{"budget": 9007199254740991}'::jsonb,
    '2026-01-01 00:00:00+00') -> 'drift',
  '{"videos.results[].published_at": {"wrong_type": 1}, "credits.cast[].gender": {"wrong_type": 1},
    "release_dates.results[].release_dates[].note": {"wrong_type": 1},
    "videos.results[].id": {"wrong_type": 1}, "vote_count": {"wrong_type": 1}}'::jsonb,
  'a zone beyond ±15:59, a gender beyond smallint, a key too long for its index and a count beyond integer are counted as wrong_type; a budget up to 2^53 is not'
);
select is(
  (select row(w.vote_count, w.budget,
              (select v.video_id || '|' || coalesce(v.published_at::text, '-') from public.work_videos v where v.work_id = w.id),
              (select '[' || r.note || ']' from public.work_release_dates r where r.work_id = w.id),
              (select p.gender from public.people p where p.id = 9001))::text
     from public.works w where w.tmdb_id = 110),
  '(,9007199254740991,YouTube:K110|-,[],1)',
  '… and are stored as their defaults: no count, the video under site:key with no date, an empty note, the person''s gender kept'
);
select throws_ok(
  $$ select public.ingest_movie(jsonb_set(pg_temp.movie(111), '{credits,cast,1,credit_id}', to_jsonb(repeat('c', 300)))) $$,
  '22023',
  'ingest_movie: credits.cast[1].credit_id is of the wrong type: the row cannot exist without it (tmdb_id 111)',
  'an essential key too long for its index fails the movie'
);

-- ---------------------------------------------------------------------------------------
-- shared rows keep what other movies said
-- ---------------------------------------------------------------------------------------

select lives_ok(
  $$ select public.ingest_movie(
       jsonb_set(jsonb_set(pg_temp.movie(107), '{credits,cast,0}',
         (pg_temp.movie(107) #> '{credits,cast,0}') - 'name' - 'profile_path' || '{"popularity": null}'),
         '{genres,0}', '{"id": 18}'),
       '2026-01-02 00:00:00+00') $$,
  'a movie whose payload lacks a person''s name and a genre''s name is stored'
);
select is(
  (select row(p.name, p.profile_path, p.popularity)::text from public.people p where p.id = 9001),
  '("Ann Actor",/a.jpg,2.5)',
  '… and the person keeps the name, picture and popularity other movies gave'
);
select is((select name from public.genres where id = 18), 'Drama',
  '… and the genre keeps its name');
select lives_ok(
  $$ select public.ingest_movie(jsonb_set(pg_temp.movie(108), '{credits,cast,1,adult}', 'true'),
                                '2026-01-03 00:00:00+00'),
            public.ingest_movie(pg_temp.movie(109) #- '{credits,cast,1,adult}',
                                '2026-01-04 00:00:00+00') $$,
  'one movie says a person is adult, a later one leaves adult out'
);
select is((select adult from public.people where id = 9002), true,
  '… and the person keeps adult = true: a defaulted false never overwrites it');
select lives_ok(
  $$ select public.ingest_movie(pg_temp.movie(112), '2026-01-05 00:00:00+00') $$,
  'a later movie says adult = false for that person');
select is((select adult from public.people where id = 9002), false,
  '… and a value the payload does give is taken');

-- ---------------------------------------------------------------------------------------
-- an unusable essential field fails the movie, naming the path
-- ---------------------------------------------------------------------------------------

select throws_ok(
  $$ select public.ingest_movie(pg_temp.movie(200) #- '{credits,cast,1,id}') $$,
  '22023',
  'ingest_movie: credits.cast[1].id is missing: the row cannot exist without it (tmdb_id 200)',
  'a cast member without id fails the movie, naming credits.cast[1].id'
);
select throws_ok(
  $$ select public.ingest_movie(jsonb_set(pg_temp.movie(201), '{credits,crew,0,credit_id}', 'null')) $$,
  '22023',
  'ingest_movie: credits.crew[0].credit_id is null: the row cannot exist without it (tmdb_id 201)',
  'a crew credit with a null credit_id fails the movie'
);
select throws_ok(
  $$ select public.ingest_movie(jsonb_set(pg_temp.movie(202), '{videos,results,0,key}', '""')) $$,
  '22023',
  'ingest_movie: videos.results[0].key is empty: the row cannot exist without it (tmdb_id 202)',
  'a video with an empty key fails the movie'
);
select throws_ok(
  $$ select public.ingest_movie(jsonb_set(pg_temp.movie(203), '{videos,results,0,site}', '3')) $$,
  '22023',
  'ingest_movie: videos.results[0].site is of the wrong type: the row cannot exist without it (tmdb_id 203)',
  'a video whose site is not a string fails the movie'
);
select throws_ok(
  $$ select public.ingest_movie(jsonb_set(pg_temp.movie(204), '{release_dates,results,0,release_dates,0,type}', '9')) $$,
  '22023',
  'ingest_movie: release_dates.results[0].release_dates[0].type is out of range: the row cannot exist without it (tmdb_id 204)',
  'a release type outside 1–6 fails the movie'
);
select throws_ok(
  $$ select public.ingest_movie(pg_temp.movie(205) #- '{release_dates,results,0,iso_3166_1}') $$,
  '22023',
  'ingest_movie: release_dates.results[0].iso_3166_1 is missing: the row cannot exist without it (tmdb_id 205)',
  'a release group without country fails the movie'
);
select throws_ok(
  $$ select public.ingest_movie(jsonb_set(pg_temp.movie(206), '{genres,0,id}', '"18"')) $$,
  '22023',
  'ingest_movie: genres[0].id is of the wrong type: the row cannot exist without it (tmdb_id 206)',
  'a genre id given as a string fails the movie'
);
select throws_ok(
  $$ select public.ingest_movie(jsonb_set(pg_temp.movie(207), '{credits,cast,0,id}', '0')) $$,
  '22023',
  'ingest_movie: credits.cast[0].id is out of range: the row cannot exist without it (tmdb_id 207)',
  'a person id of 0 fails the movie'
);
select is(
  (select count(*) from public.works where tmdb_id between 200 and 207),
  0::bigint,
  'none of the refused movies was written'
);

-- ---------------------------------------------------------------------------------------
-- ingest_tmdb_responses: TMDB's answers as text, many per call
-- ---------------------------------------------------------------------------------------

insert into public.works (tmdb_id, title, payload_hash, last_refreshed_at)
values (304, 'Gone', repeat('0', 64), '2026-01-01 00:00:00+00');

create temporary table batch (val jsonb);
insert into batch
select public.ingest_tmdb_responses(
  '00000000-0000-4000-8000-000000000001', 'test-fn',
  '[{"tmdb_id": 300, "status": 200, "body": 1}, {"tmdb_id": 301, "status": 200, "body": 2},
    {"tmdb_id": 302, "status": 200, "body": 3}, {"tmdb_id": 303, "status": 200, "body": 4},
    {"tmdb_id": 304, "status": 404}, {"tmdb_id": 305, "status": 200, "body": 5},
    {"tmdb_id": 306, "status": 200, "body": 6}]'::jsonb,
  array[
    (pg_temp.movie(300) #- '{release_dates,results,0,release_dates,0,note}')::text,
    '{"id": 301, "title": "cut off',
    pg_temp.movie(999)::text,
    (pg_temp.movie(303) #- '{genres,0,id}')::text,
    replace(pg_temp.movie(305)::text, '"An overview."', '"An \u0000overview."'),
    (pg_temp.movie(306) #- '{release_dates,results,0,release_dates,0,note}')::text
  ],
  '2026-01-05 00:00:00+00');

select is(
  (select jsonb_agg(i - 'work_id' - 'error') from batch, jsonb_array_elements(val -> 'items') i),
  '[{"tmdb_id": 300, "outcome": "inserted"},
    {"tmdb_id": 301, "outcome": "failed", "kind": "invalid_response"},
    {"tmdb_id": 302, "outcome": "failed", "kind": "invalid_response"},
    {"tmdb_id": 303, "outcome": "failed", "kind": "invalid_response"},
    {"tmdb_id": 304, "outcome": "not_found"},
    {"tmdb_id": 305, "outcome": "inserted"},
    {"tmdb_id": 306, "outcome": "inserted"}]'::jsonb,
  'each answer gets its own outcome, in input order; one bad body never undoes the others'
);
select alike(
  (select val #>> '{items,1,error}' from batch),
  'HTTP 200 body is not JSON (%',
  'a body that is not JSON says so'
);
select is(
  (select val #>> '{items,2,error}' from batch),
  'TMDB answered movie 999 when asked for 302; not stored',
  'a body about another movie is not stored, naming both ids'
);
select is(
  (select val #>> '{items,3,error}' from batch),
  'ingest_movie: genres[0].id is missing: the row cannot exist without it (tmdb_id 303)',
  'a body refused by the policy names the path'
);
select is(
  (select overview from public.works where tmdb_id = 305),
  'An overview.',
  'a NUL character (which jsonb cannot hold) is dropped, not the movie'
);
select isnt((select tmdb_missing_at from public.works where tmdb_id = 304), null,
  'a 404 marks the movie not found');
select is(
  (select val -> 'drift' from batch),
  '{"release_dates.results[].release_dates[].note": {"missing": 2}}'::jsonb,
  'the call reports the drift of every stored movie, summed'
);
select results_eq(
  $$ select function_name, path, kind, count, sample_tmdb_id from public.tmdb_payload_drift
      where run_id = '00000000-0000-4000-8000-000000000001' $$,
  $$ values ('test-fn'::text, 'release_dates.results[].release_dates[].note'::text, 'missing'::text, 2, 300) $$,
  '… and records it for the run, with a sample movie'
);
select lives_ok(
  $$ select public.ingest_tmdb_responses('00000000-0000-4000-8000-000000000001', 'test-fn',
       '[{"tmdb_id": 300, "status": 200, "body": 1}]',
       array[(pg_temp.movie(300) #- '{release_dates,results,0,release_dates,0,note}')::text]) $$,
  'a second call of the same run'
);
select is(
  (select count from public.tmdb_payload_drift where run_id = '00000000-0000-4000-8000-000000000001'),
  3,
  '… adds to the run''s counts'
);
select throws_ok(
  $$ select public.ingest_tmdb_responses(null, 'x', '[{"tmdb_id": 1, "status": 200, "body": 2}]', array['{}']) $$,
  '22023',
  null,
  'a body index outside p_bodies is refused before anything is written'
);
select throws_ok(
  $$ select public.ingest_tmdb_responses(null, 'x', '[{"tmdb_id": 1, "status": 500}]', array[]::text[]) $$,
  '22023',
  'p_responses items must be {tmdb_id: 1..2147483647, status: 200, body: index of a non-null p_bodies element} or {tmdb_id, status: 404}: invalid item {"status": 500, "tmdb_id": 1}',
  'a status other than 200 or 404 is refused, showing the item'
);

-- ---------------------------------------------------------------------------------------
-- refresh_worker_step: store a batch, finish it, claim the next
-- ---------------------------------------------------------------------------------------

delete from public.refresh_queue;
select is(
  public.enqueue_refresh(array(select id from public.works where tmdb_id in (300, 305, 306) order by id), 'manual', 50),
  3,
  'three movies queued'
);
create temporary table step (name text, val jsonb);
insert into step select 'claim', public.refresh_worker_step('w1', null, '[]', array[]::text[], 3, 60);
select is(jsonb_array_length((select val -> 'claimed' from step where name = 'claim')), 3,
  'an empty step claims the first batch');

insert into step
select 'finish', public.refresh_worker_step('w1', '00000000-0000-4000-8000-000000000002',
  (select jsonb_agg(
     case c ->> 'tmdb_id'
       when '300' then c || '{"status": 200, "body": 1}'
       when '305' then c || '{"status": 404}'
       else c || '{"error": "timeout: no answer", "retryable": true}' end)
     from step, jsonb_array_elements(val -> 'claimed') c where name = 'claim'),
  array[(pg_temp.movie(300) || '{"runtime": 101}')::text], 0, 60);

select is(
  (select (val -> 'finished') - 'items' from step where name = 'finish'),
  '{"completed": 2, "retried": 1, "failed": 0, "lost_lease": 0}'::jsonb,
  'the answered items complete, the one without an answer is retried'
);
select results_eq(
  $$ select w.tmdb_id, q.status, q.result, q.last_error from public.refresh_queue q
       join public.works w on w.id = q.work_id order by w.tmdb_id $$,
  $$ values (300, 'completed'::text, 'refreshed'::text, null::text),
            (305, 'completed', 'not_found', null),
            (306, 'pending', null, 'timeout: no answer') $$,
  '… with their results and the error'
);
select is((select runtime from public.works where tmdb_id = 300), 101,
  '… and the answered movie was stored in the same round trip');
select is(
  (select jsonb_agg(s - 'work_id' - 'queue_id') from step, jsonb_array_elements(val -> 'stored') s where name = 'finish'),
  '[{"tmdb_id": 300, "outcome": "updated"}, {"tmdb_id": 305, "outcome": "not_found"}]'::jsonb,
  'the step reports what was stored for each answered item'
);
select is((select val -> 'claimed' from step where name = 'finish'), '[]'::jsonb,
  'batch size 0 claims nothing');

-- Movies are stored in tmdb_id order (one lock order for every caller), answered in input order.
select is(
  (select jsonb_agg(i ->> 'tmdb_id') from jsonb_array_elements(
     public.ingest_tmdb_responses(null, 'pgtap',
       '[{"tmdb_id": 402, "status": 200, "body": 1}, {"tmdb_id": 401, "status": 404},
         {"tmdb_id": 400, "status": 200, "body": 2}]'::jsonb,
       array[pg_temp.movie(402)::text, pg_temp.movie(400)::text]) -> 'items') i),
  '["402", "401", "400"]'::jsonb,
  'answers come back in input order'
);
select ok(
  (select w400.updated_at <= w402.updated_at and w400.id < w402.id
     from public.works w400, public.works w402 where w400.tmdb_id = 400 and w402.tmdb_id = 402),
  '… though 400 was stored before 402');

-- Planner hints that keep a movie's statements cheap: no JIT (it once cost ~1 s a movie).
select is((select prorows from pg_proc where oid = 'public.tmdb_elements(jsonb)'::regprocedure),
  20::real, 'tmdb_elements() is estimated at 20 rows, not the default 1000');
select is(
  (select count(*)::int from pg_proc
    where oid in ('public.ingest_movie(jsonb, timestamptz)'::regprocedure,
                  'public.ingest_tmdb_responses(uuid, text, jsonb, text[], timestamptz)'::regprocedure,
                  'public.refresh_worker_step(text, uuid, jsonb, text[], integer, integer)'::regprocedure)
      and 'jit=off' = any(proconfig)),
  3, 'the ingest functions run without JIT');

select * from finish();
rollback;
