-- 025_mark_movie_not_found.test.sql
-- public.mark_movie_not_found(): TMDB's 404 is recorded (not retried for 180 days), nothing
-- is written for an unknown movie, and a movie that comes back is cleared by ingest_movie.
begin;
select plan(17);

-- A realistic /movie/550?append_to_response=credits,videos,release_dates,external_ids,keywords
-- payload: 5 cast, 5 crew (4 of them key crew), 2 videos, 2 genres, releases in 2 countries.
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

-- ---------------------------------------------------------------------------------------
-- unknown movie: nothing written
-- ---------------------------------------------------------------------------------------

select is(
  public.mark_movie_not_found(999999, '2026-03-01 00:00:00+00'),
  '{"tmdb_id": 999999, "work_id": null, "action": "not_found"}'::jsonb,
  'marking a movie that is not in the catalog returns work_id null'
);
select is(
  (select count(*) from public.works),
  0::bigint,
  '… and creates no row'
);
select is(
  (select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) from pg_stat_xact_user_tables
    where schemaname = 'public' and relname = 'works'),
  0::numeric,
  '… and writes nothing'
);

select throws_ok(
  $$ select public.mark_movie_not_found(null) $$,
  '22023',
  'mark_movie_not_found: p_tmdb_id must be a positive integer: got null',
  'a null tmdb id is refused'
);

-- ---------------------------------------------------------------------------------------
-- known movie: marked, 180-day interval, first 404 time kept
-- ---------------------------------------------------------------------------------------

do $$ begin perform public.ingest_movie(pg_temp.movie_fixture(), '2026-03-01 00:00:00+00'); end $$;

select is(
  public.mark_movie_not_found(550, '2026-03-10 00:00:00+00'),
  jsonb_build_object('tmdb_id', 550, 'work_id', (select id from public.works where tmdb_id = 550),
    'action', 'not_found'),
  'marking a known movie returns its work_id'
);

select row_eq(
  $$ select tmdb_missing_at, last_refreshed_at, next_refresh_at, updated_at
       from public.works where tmdb_id = 550 $$,
  row('2026-03-10 00:00:00+00'::timestamptz, '2026-03-10 00:00:00+00'::timestamptz,
      '2026-09-06 00:00:00+00'::timestamptz, '2026-03-10 00:00:00+00'::timestamptz),
  'a 404 sets tmdb_missing_at and last_refreshed_at; next refresh in 180 days'
);

select ok(
  not public.is_stale(w, '2026-09-05 23:59:59+00') and public.is_stale(w, '2026-09-06 00:00:00+00'),
  'a missing movie is not stale until 180 days after the 404'
) from public.works as w where w.tmdb_id = 550;

select is(
  (select count(*) from public.work_cast
    where work_id = (select id from public.works where tmdb_id = 550)),
  5::bigint,
  'a 404 keeps the catalog data (the movie is marked, not deleted)'
);

do $$ begin perform public.mark_movie_not_found(550, '2026-09-07 00:00:00+00'); end $$;

select row_eq(
  $$ select tmdb_missing_at, last_refreshed_at, updated_at from public.works where tmdb_id = 550 $$,
  row('2026-03-10 00:00:00+00'::timestamptz, '2026-09-07 00:00:00+00'::timestamptz,
      '2026-03-10 00:00:00+00'::timestamptz),
  'a second 404 keeps the first tmdb_missing_at ("missing since") and restarts the clock'
);

-- ---------------------------------------------------------------------------------------
-- coming back
-- ---------------------------------------------------------------------------------------

select is(
  public.ingest_movie(pg_temp.movie_fixture(), '2026-09-08 00:00:00+00') ->> 'action',
  'updated',
  'a movie that comes back with the same payload is "updated" (its missing mark changes)'
);

select row_eq(
  $$ select tmdb_missing_at, last_refreshed_at, next_refresh_at, updated_at
       from public.works where tmdb_id = 550 $$,
  row(null::timestamptz, '2026-09-08 00:00:00+00'::timestamptz,
      '2026-10-08 00:00:00+00'::timestamptz, '2026-09-08 00:00:00+00'::timestamptz),
  'coming back clears tmdb_missing_at and returns to the normal tier (old movie: 30 days)'
);

select is(
  public.ingest_movie(pg_temp.movie_fixture(), '2026-09-09 00:00:00+00') ->> 'action',
  'unchanged',
  'once cleared, the same payload is "unchanged" again'
);

-- Coming back with a changed payload.
do $$ begin perform public.mark_movie_not_found(550, '2026-09-10 00:00:00+00'); end $$;
select is(
  public.ingest_movie(pg_temp.movie_fixture() || '{"title": "Fight Club (Restored)"}',
    '2026-09-11 00:00:00+00') ->> 'action',
  'updated',
  'a movie that comes back with a changed payload is "updated"'
);
select row_eq(
  $$ select title, tmdb_missing_at from public.works where tmdb_id = 550 $$,
  row('Fight Club (Restored)'::text, null::timestamptz),
  '… with its new data and no missing mark'
);

-- ---------------------------------------------------------------------------------------
-- privileges
-- ---------------------------------------------------------------------------------------

select function_privs_are('public', 'mark_movie_not_found',
  array['integer', 'timestamp with time zone'], 'anon', array[]::text[],
  'anon cannot execute mark_movie_not_found');
select function_privs_are('public', 'mark_movie_not_found',
  array['integer', 'timestamp with time zone'], 'authenticated', array[]::text[],
  'authenticated cannot execute mark_movie_not_found');
select function_privs_are('public', 'mark_movie_not_found',
  array['integer', 'timestamp with time zone'], 'service_role', array['EXECUTE'],
  'service_role can execute mark_movie_not_found');

select * from finish();
rollback;
