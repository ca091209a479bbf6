-- 020_ingest_movie.test.sql
-- public.ingest_movie(): what it stores, that the same payload twice writes nothing but the
-- refresh time, that a changed payload replaces child rows (and rewrites only what changed),
-- that shared genres and people are never duplicated, "" dates become null, a payload whose
-- id is unusable raises an error naming it, and a failure leaves nothing half-written.
-- The payload policy itself (essential fields, defaults, drift) is tested in 022.
begin;
select plan(40);

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

-- Inserts, updates and deletes this transaction made in each catalog table so far.
create function pg_temp.catalog_writes() returns table (relname text, writes bigint)
language sql as $$
  select t.relname::text, coalesce(s.n_tup_ins + s.n_tup_upd + s.n_tup_del, 0)
    from unnest(array['works', 'genres', 'work_genres', 'people', 'work_cast', 'work_crew',
                      'work_videos', 'work_release_dates']) as t(relname)
    left join pg_stat_xact_user_tables as s
      on s.schemaname = 'public' and s.relname = t.relname
$$;

-- Physical row versions (ctid) of a work's child rows: any UPDATE or DELETE+INSERT of a row
-- changes its ctid, even inside this one transaction (where xmin cannot change).
create function pg_temp.child_ctids(p_work_id bigint) returns text
language sql as $$
  select concat_ws(' | ',
    (select string_agg(ctid::text, ',' order by credit_id) from public.work_cast where work_id = p_work_id),
    (select string_agg(ctid::text, ',' order by credit_id) from public.work_crew where work_id = p_work_id),
    (select string_agg(ctid::text, ',' order by video_id) from public.work_videos where work_id = p_work_id),
    (select string_agg(ctid::text, ',' order by genre_id) from public.work_genres where work_id = p_work_id),
    (select string_agg(ctid::text, ',' order by id) from public.work_release_dates where work_id = p_work_id),
    (select string_agg(ctid::text, ',' order by id) from public.people),
    (select string_agg(ctid::text, ',' order by id) from public.genres))
$$;

create function pg_temp.row_counts() returns table (relname text, n bigint)
language sql as $$
  select 'works', count(*) from public.works
  union all select 'genres', count(*) from public.genres
  union all select 'work_genres', count(*) from public.work_genres
  union all select 'people', count(*) from public.people
  union all select 'work_cast', count(*) from public.work_cast
  union all select 'work_crew', count(*) from public.work_crew
  union all select 'work_videos', count(*) from public.work_videos
  union all select 'work_release_dates', count(*) from public.work_release_dates
$$;

create temporary table snap (name text primary key, val jsonb);

-- ---------------------------------------------------------------------------------------
-- first ingest: inserted, everything mapped
-- ---------------------------------------------------------------------------------------

insert into snap
  select 'r1', public.ingest_movie(pg_temp.movie_fixture(), '2026-01-01 00:00:00+00');

select is(
  (select val from snap where name = 'r1'),
  jsonb_build_object('tmdb_id', 550, 'work_id', (select id from public.works where tmdb_id = 550),
    'action', 'inserted', 'cast', 5, 'crew', 4, 'videos', 2, 'genres', 2, 'release_dates', 3,
    'drift', '{}'::jsonb),
  'a new movie is inserted, the result counts its stored child rows, nothing was defaulted'
);

select row_eq(
  $$ select title, original_title, original_language, tagline, release_date, runtime, status,
            adult, video, poster_path, backdrop_path, popularity, vote_average, vote_count,
            budget, revenue, homepage, imdb_id, wikidata_id, facebook_id, instagram_id,
            twitter_id, collection_id, collection_name, origin_country
       from public.works where tmdb_id = 550 $$,
  row('Fight Club'::text, 'Fight Club'::text, 'en'::text, 'Mischief. Mayhem. Soap.'::text,
      '1999-10-15'::date, 139, 'Released'::text, false, false,
      '/pB8BM7pdSp6B6Ih7QZ4DrQ3PmJK.jpg'::text, '/hZkgoQYus5vegHoetLkCJzb17zJ.jpg'::text,
      73.433::numeric, 8.438::numeric, 29923, 63000000::bigint, 100853753::bigint,
      'http://www.foxmovies.com/movies/fight-club'::text, 'tt0137523'::text, 'Q190050'::text,
      'FightClub'::text, null::text, null::text, null::integer, null::text, '{US}'::text[]),
  'the work row holds the mapped TMDB fields (file paths, external ids, null collection)'
);

select row_eq(
  $$ select jsonb_array_length(spoken_languages), jsonb_array_length(production_companies),
            jsonb_array_length(production_countries), keywords -> 0 ->> 'name',
            payload_hash, first_ingested_at, last_refreshed_at, updated_at, tmdb_missing_at
       from public.works where tmdb_id = 550 $$,
  row(1, 2, 1, 'support group'::text,
      encode(sha256(convert_to(pg_temp.movie_fixture()::text, 'UTF8')), 'hex'),
      '2026-01-01 00:00:00+00'::timestamptz, '2026-01-01 00:00:00+00'::timestamptz,
      '2026-01-01 00:00:00+00'::timestamptz, null::timestamptz),
  'lists are stored as jsonb, payload_hash is the sha256 of the canonical payload, times come from refreshed_at'
);

select results_eq(
  $$ select c.cast_order, p.name, c.character
       from public.work_cast as c join public.people as p on p.id = c.person_id
      where c.work_id = (select id from public.works where tmdb_id = 550)
      order by c.cast_order $$,
  $$ values (0, 'Edward Norton', 'Narrator'), (1, 'Brad Pitt', 'Tyler Durden'),
            (2, 'Helena Bonham Carter', 'Marla Singer'),
            (3, 'Meat Loaf', 'Robert "Bob" Paulson'), (4, 'Jared Leto', 'Angel Face') $$,
  'the cast is stored in billing order with its people'
);

select results_eq(
  $$ select c.department, c.job, p.name
       from public.work_crew as c join public.people as p on p.id = c.person_id
      where c.work_id = (select id from public.works where tmdb_id = 550)
      order by c.department, c.job $$,
  $$ values ('Directing', 'Director', 'David Fincher'), ('Production', 'Producer', 'Art Linson'),
            ('Writing', 'Novel', 'Chuck Palahniuk'), ('Writing', 'Screenplay', 'Jim Uhls') $$,
  'only key crew is stored (Directing, Writing, Producer…; not Catering)'
);

select is(
  (select count(*) from public.people where id = 1725),
  0::bigint,
  'a person credited only outside the key crew is not stored'
);

select results_eq(
  $$ select video_id, site, key, type, official, iso_639_1, iso_3166_1, published_at
       from public.work_videos
      where work_id = (select id from public.works where tmdb_id = 550)
      order by published_at $$,
  $$ values
       ('5c9294240e0a267cd516835f', 'YouTube', 'BdJKm16Co6M', 'Teaser', false, 'en', 'US',
        '2014-04-07 19:35:26+00'::timestamptz),
       ('64a3284b8c44b9011c4d3c4e', 'YouTube', 'O1nDozs-LxI', 'Trailer', true, 'en', 'US',
        '2023-07-03 15:17:52+00'::timestamptz) $$,
  'videos are stored with site, key, type and publication time'
);

select results_eq(
  $$ select iso_3166_1, release_type::integer, release_date, certification, descriptors,
            iso_639_1, note
       from public.work_release_dates
      where work_id = (select id from public.works where tmdb_id = 550)
      order by iso_3166_1, release_type $$,
  $$ values
       ('DE', 3, '1999-11-11 00:00:00+00'::timestamptz, '18', '{Violence}'::text[], 'de', ''),
       ('US', 3, '1999-10-15 00:00:00+00'::timestamptz, 'R', '{}'::text[], '', ''),
       ('US', 5, '2000-06-06 00:00:00+00'::timestamptz, 'R', '{}'::text[], '', 'DVD') $$,
  'release dates are flattened by country and type'
);

select results_eq(
  $$ select g.id, g.name, wg.position::integer
       from public.work_genres as wg join public.genres as g on g.id = wg.genre_id
      where wg.work_id = (select id from public.works where tmdb_id = 550)
      order by wg.position $$,
  $$ values (18, 'Drama', 0), (53, 'Thriller', 1) $$,
  'genres are stored in TMDB order'
);

-- ---------------------------------------------------------------------------------------
-- the same payload again: unchanged, and nothing but last_refreshed_at is written
-- ---------------------------------------------------------------------------------------

insert into snap select 'counts1', jsonb_object_agg(relname, n) from pg_temp.row_counts();
insert into snap select 'writes1', jsonb_object_agg(relname, writes) from pg_temp.catalog_writes();
insert into snap select 'ctids1', to_jsonb(pg_temp.child_ctids((select id from public.works where tmdb_id = 550)));
insert into snap select 'work_ctid1', to_jsonb((select ctid::text from public.works where tmdb_id = 550));

insert into snap
  select 'r2', public.ingest_movie(pg_temp.movie_fixture(), '2026-01-02 00:00:00+00');

select is(
  (select val from snap where name = 'r2'),
  (select val || '{"action": "unchanged"}' from snap where name = 'r1'),
  'the same payload again is "unchanged", with the same counts'
);

select is(
  (select jsonb_object_agg(relname, n) from pg_temp.row_counts()),
  (select val from snap where name = 'counts1'),
  'row counts of every catalog table are identical after the unchanged ingest'
);

select is(
  (select jsonb_object_agg(relname, writes) from pg_temp.catalog_writes()),
  (select jsonb_set(val, '{works}', to_jsonb((val ->> 'works')::bigint + 1))
     from snap where name = 'writes1'),
  'the unchanged ingest wrote exactly one row version: the work (last_refreshed_at), no child row'
);

select is(
  pg_temp.child_ctids((select id from public.works where tmdb_id = 550)),
  (select val #>> '{}' from snap where name = 'ctids1'),
  'no child, people or genre row was rewritten (ctids unchanged)'
);

select row_eq(
  $$ select updated_at, last_refreshed_at, first_ingested_at from public.works where tmdb_id = 550 $$,
  row('2026-01-01 00:00:00+00'::timestamptz, '2026-01-02 00:00:00+00'::timestamptz,
      '2026-01-01 00:00:00+00'::timestamptz),
  'unchanged: updated_at stays, last_refreshed_at restarts the freshness clock'
);

select is(
  (select next_refresh_at from public.works where tmdb_id = 550),
  '2026-02-01 00:00:00+00'::timestamptz,
  'unchanged: next_refresh_at moves with last_refreshed_at (old movie: +30 days)'
);

-- The same payload with an older refreshed_at (a late worker) writes nothing at all.
insert into snap select 'writes2', jsonb_object_agg(relname, writes) from pg_temp.catalog_writes();
select is(
  public.ingest_movie(pg_temp.movie_fixture(), '2025-12-31 00:00:00+00') ->> 'action',
  'unchanged',
  'the same payload with an older refreshed_at is unchanged'
);
select is(
  (select jsonb_object_agg(relname, writes) from pg_temp.catalog_writes()),
  (select val from snap where name = 'writes2'),
  '… and writes nothing: last_refreshed_at never moves backwards'
);

-- ---------------------------------------------------------------------------------------
-- a changed payload: child rows replaced, only what changed is rewritten
-- ---------------------------------------------------------------------------------------

-- Cast: Meat Loaf and Jared Leto leave, Helena's character changes, Zach Grenier joins.
-- Crew: the Producer credit leaves, an Editor joins. Popularity changes.
insert into snap select 'norton_ctid', to_jsonb((
  select ctid::text from public.work_cast where credit_id = '52fe4250c3a36847f80149f3'));

insert into snap select 'r3', public.ingest_movie(
  jsonb_set(jsonb_set(jsonb_set(pg_temp.movie_fixture(),
    '{credits,cast}', '[
      {"adult": false, "gender": 2, "id": 819, "known_for_department": "Acting", "name": "Edward Norton", "original_name": "Edward Norton", "popularity": 26.99, "profile_path": "/8nytsqL59SFJTVYVrN72k6qkGgJ.jpg", "cast_id": 4, "character": "Narrator", "credit_id": "52fe4250c3a36847f80149f3", "order": 0},
      {"adult": false, "gender": 2, "id": 287, "known_for_department": "Acting", "name": "Brad Pitt", "original_name": "Brad Pitt", "popularity": 52.1, "profile_path": "/cckcYc2v0yh1tc9QjRelptcOBko.jpg", "cast_id": 5, "character": "Tyler Durden", "credit_id": "52fe4250c3a36847f80149f7", "order": 1},
      {"adult": false, "gender": 1, "id": 1283, "known_for_department": "Acting", "name": "Helena Bonham Carter", "original_name": "Helena Bonham Carter", "popularity": 21.4, "profile_path": "/DDeITcCpnBd0CkAIRPhggy9bt5.jpg", "cast_id": 7, "character": "Marla", "credit_id": "52fe4250c3a36847f80149fb", "order": 2},
      {"adult": false, "gender": 2, "id": 7471, "known_for_department": "Acting", "name": "Zach Grenier", "original_name": "Zach Grenier", "popularity": 9.8, "profile_path": "/fRlvmBDrUCDd3Ihk4ZZGkzqFuZ6.jpg", "cast_id": 31, "character": "Richard Chesler", "credit_id": "52fe4250c3a36847f8014a55", "order": 3}
    ]'),
    '{credits,crew}', (pg_temp.movie_fixture() #> '{credits,crew}') - 3 || '[
      {"adult": false, "gender": 2, "id": 7474, "known_for_department": "Editing", "name": "James Haygood", "original_name": "James Haygood", "popularity": 1.4, "profile_path": null, "credit_id": "52fe4250c3a36847f8014a2f", "department": "Editing", "job": "Editor"}
    ]'),
    '{popularity}', '80.5'),
  '2026-01-03 00:00:00+00');

select is(
  (select val from snap where name = 'r3'),
  (select val || '{"action": "updated", "cast": 4}' from snap where name = 'r1'),
  'a changed payload is "updated" and the result counts the new cast'
);

select results_eq(
  $$ select c.cast_order, p.name, c.character
       from public.work_cast as c join public.people as p on p.id = c.person_id
      where c.work_id = (select id from public.works where tmdb_id = 550)
      order by c.cast_order $$,
  $$ values (0, 'Edward Norton', 'Narrator'), (1, 'Brad Pitt', 'Tyler Durden'),
            (2, 'Helena Bonham Carter', 'Marla'), (3, 'Zach Grenier', 'Richard Chesler') $$,
  'the changed cast replaces the old one: departed credits deleted, changed ones updated, new ones added'
);

select results_eq(
  $$ select c.department, c.job
       from public.work_crew as c
      where c.work_id = (select id from public.works where tmdb_id = 550)
      order by c.department, c.job $$,
  $$ values ('Directing', 'Director'), ('Editing', 'Editor'), ('Writing', 'Novel'),
            ('Writing', 'Screenplay') $$,
  'the changed key crew replaces the old one (Producer gone, Editor added)'
);

select is(
  (select ctid::text from public.work_cast where credit_id = '52fe4250c3a36847f80149f3'),
  (select val #>> '{}' from snap where name = 'norton_ctid'),
  'an unchanged cast row is not rewritten by a changed payload'
);

select ok(
  (select count(*) from public.people where id in (7470, 7499, 1254)) = 3,
  'people who left this movie are kept (they are shared across movies)'
);

select row_eq(
  $$ select popularity, updated_at, last_refreshed_at
       from public.works where tmdb_id = 550 $$,
  row(80.5::numeric, '2026-01-03 00:00:00+00'::timestamptz,
      '2026-01-03 00:00:00+00'::timestamptz),
  'the work is updated and updated_at / last_refreshed_at move to refreshed_at'
);

select isnt(
  (select payload_hash from public.works where tmdb_id = 550),
  encode(sha256(convert_to(pg_temp.movie_fixture()::text, 'UTF8')), 'hex'),
  'the stored payload_hash is the new payload''s'
);

-- A popularity-only change rewrites the work row and nothing else.
-- (back to the original payload first)
insert into snap select 'r4', public.ingest_movie(pg_temp.movie_fixture(), '2026-01-04 00:00:00+00');
insert into snap select 'writes3', jsonb_object_agg(relname, writes) from pg_temp.catalog_writes();
insert into snap select 'ctids3', to_jsonb(pg_temp.child_ctids((select id from public.works where tmdb_id = 550)));
select is(
  public.ingest_movie(jsonb_set(pg_temp.movie_fixture(), '{popularity}', '99.1'),
    '2026-01-05 00:00:00+00') ->> 'action',
  'updated',
  'a popularity-only change is "updated"'
);
select is(
  (select jsonb_object_agg(relname, writes) from pg_temp.catalog_writes()),
  (select jsonb_set(val, '{works}', to_jsonb((val ->> 'works')::bigint + 1))
     from snap where name = 'writes3'),
  '… and rewrites only the work row: every child upsert skips identical rows'
);
select is(
  pg_temp.child_ctids((select id from public.works where tmdb_id = 550)),
  (select val #>> '{}' from snap where name = 'ctids3'),
  '… so no child row version changes'
);

-- ---------------------------------------------------------------------------------------
-- shared genres and people are never duplicated
-- ---------------------------------------------------------------------------------------

-- Movie 551 shares Drama, Edward Norton and Brad Pitt with 550; David Fincher both directs
-- and appears in its cast (one person, two credits in one payload).
select is(
  public.ingest_movie(
    jsonb_set(jsonb_set(jsonb_set(jsonb_set(pg_temp.movie_fixture(551),
      '{title}', '"Another Movie"'),
      '{genres}', '[{"id": 18, "name": "Drama"}, {"id": 35, "name": "Comedy"}]'),
      '{credits,cast}', '[
        {"adult": false, "gender": 2, "id": 819, "known_for_department": "Acting", "name": "Edward Norton", "original_name": "Edward Norton", "popularity": 26.99, "profile_path": "/8nytsqL59SFJTVYVrN72k6qkGgJ.jpg", "character": "Lead", "credit_id": "aaaa00000000000000000001", "order": 0},
        {"adult": false, "gender": 2, "id": 287, "known_for_department": "Acting", "name": "Brad Pitt", "original_name": "Brad Pitt", "popularity": 52.1, "profile_path": "/cckcYc2v0yh1tc9QjRelptcOBko.jpg", "character": "Friend", "credit_id": "aaaa00000000000000000002", "order": 1},
        {"adult": false, "gender": 2, "id": 7467, "known_for_department": "Directing", "name": "David Fincher", "original_name": "David Fincher", "popularity": 21.3, "profile_path": "/tpEczFclQZeKAiCeKZZ0adRvtfz.jpg", "character": "Cameo", "credit_id": "aaaa00000000000000000003", "order": 2}
      ]'),
      '{credits,crew}', '[
        {"adult": false, "gender": 2, "id": 7467, "known_for_department": "Directing", "name": "David Fincher", "original_name": "David Fincher", "popularity": 21.3, "profile_path": "/tpEczFclQZeKAiCeKZZ0adRvtfz.jpg", "credit_id": "aaaa00000000000000000004", "department": "Directing", "job": "Director"},
        {"adult": false, "gender": 2, "id": 7467, "known_for_department": "Directing", "name": "David Fincher", "original_name": "David Fincher", "popularity": 21.3, "profile_path": "/tpEczFclQZeKAiCeKZZ0adRvtfz.jpg", "credit_id": "aaaa00000000000000000005", "department": "Production", "job": "Executive Producer"}
      ]'),
    '2026-01-06 00:00:00+00') - 'work_id',
  '{"tmdb_id": 551, "action": "inserted", "cast": 3, "crew": 2, "videos": 2, "genres": 2, "release_dates": 3,
    "drift": {"credits.cast[].cast_id": {"missing": 3}}}'::jsonb,
  'a second movie sharing genres and people is inserted (one person in cast and twice in crew)'
);

select results_eq(
  $$ select id, name from public.genres order by id $$,
  $$ values (18, 'Drama'), (35, 'Comedy'), (53, 'Thriller') $$,
  'genres are stored once per TMDB genre id'
);

select is_empty(
  $$ select name from public.people group by name having count(*) > 1 $$,
  'no person is stored twice'
);

select is(
  (select count(distinct c.work_id) from public.work_cast as c where c.person_id = 819),
  2::bigint,
  'one people row is shared by the casts of both movies'
);

select is(
  (select count(*) from public.work_crew where person_id = 7467),
  3::bigint,
  'one person keeps several crew credits (550 Director; 551 Director and Executive Producer)'
);

-- ---------------------------------------------------------------------------------------
-- "" becomes null
-- ---------------------------------------------------------------------------------------

select is(
  public.ingest_movie(
    pg_temp.movie_fixture(552) || '{"release_date": "", "homepage": "", "imdb_id": null,
      "status": "Released", "belongs_to_collection": {"id": 10, "name": "Some Collection",
      "poster_path": null, "backdrop_path": null}}'::jsonb
      || jsonb_build_object('external_ids', jsonb_build_object('imdb_id', '', 'wikidata_id', '')),
    '2026-01-07 00:00:00+00') ->> 'action',
  'inserted',
  'a movie with an unknown ("") release date is ingested'
);

select row_eq(
  $$ select release_date, homepage, imdb_id, wikidata_id, collection_id, collection_name,
            next_refresh_at
       from public.works where tmdb_id = 552 $$,
  row(null::date, null::text, null::text, null::text, 10, 'Some Collection'::text,
      '2026-01-08 00:00:00+00'::timestamptz),
  '"" release_date, homepage and external ids are stored as null (unknown date: daily refresh)'
);

-- ---------------------------------------------------------------------------------------
-- bad payloads raise an error that names the field
-- ---------------------------------------------------------------------------------------

select throws_ok(
  $$ select public.ingest_movie(pg_temp.movie_fixture() - 'id') $$,
  '22023',
  'ingest_movie: payload.id must be a positive integer (the TMDB movie id): got nothing (key missing)',
  'a payload without id is refused, naming payload.id'
);
select throws_ok(
  $$ select public.ingest_movie(pg_temp.movie_fixture() || '{"id": "550"}') $$,
  '22023',
  'ingest_movie: payload.id must be a positive integer (the TMDB movie id): got "550"',
  'a string id is refused, showing the value'
);
select throws_ok(
  $$ select public.ingest_movie(pg_temp.movie_fixture() || '{"id": 1.5}') $$,
  '22023',
  'ingest_movie: payload.id must be a positive integer (the TMDB movie id): got 1.5',
  'a fractional id is refused'
);
select throws_ok(
  $$ select public.ingest_movie('[1, 2]'::jsonb) $$,
  '22023',
  'ingest_movie: payload must be a JSON object: got array',
  'a payload that is not an object is refused'
);

-- A failure after the work row was inserted leaves nothing behind (one statement = one
-- transaction): a trigger makes the first cast row fail after works and people were written.
create function pg_temp.fail_cast_insert() returns trigger language plpgsql as $$
begin
  raise exception 'simulated failure while writing work_cast' using errcode = 'P0001';
end;
$$;
create trigger fail_cast_insert before insert on public.work_cast
  for each row execute function pg_temp.fail_cast_insert();
select throws_ok(
  $$ select public.ingest_movie(pg_temp.movie_fixture(553)) $$,
  'P0001',
  'simulated failure while writing work_cast',
  'a payload that fails while writing child rows raises'
);
drop trigger fail_cast_insert on public.work_cast;
select is(
  (select count(*) from public.works where tmdb_id = 553),
  0::bigint,
  '… and its work row is rolled back with it (nothing half-written)'
);

select * from finish();
rollback;
