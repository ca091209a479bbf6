-- 010_catalog_schema.test.sql
-- The catalog and log tables exist with the shape the edge functions rely on: columns,
-- keys, the generated next_refresh_at, indexes (every foreign key is indexed and cascades),
-- RLS on every table in public, and the function signatures.
begin;
select plan(66);

-- ---------------------------------------------------------------------------------------
-- tables and columns
-- ---------------------------------------------------------------------------------------

select has_table('public', t, format('table public.%s exists', t))
  from unnest(array[
    'works', 'genres', 'work_genres', 'people', 'work_cast', 'work_crew', 'work_videos',
    'work_release_dates', 'tmdb_api_logs', 'scheduled_ingestion_log'
  ]) as t;

select columns_are('public', 'works', array[
  'id', 'tmdb_id', 'title', 'original_title', 'original_language', 'overview', 'tagline',
  'release_date', 'runtime', 'status', 'adult', 'video', 'poster_path', 'backdrop_path',
  'popularity', 'vote_average', 'vote_count', 'budget', 'revenue', 'homepage', 'imdb_id',
  'wikidata_id', 'facebook_id', 'instagram_id', 'twitter_id', 'collection_id',
  'collection_name', 'origin_country', 'spoken_languages', 'production_companies',
  'production_countries', 'keywords', 'payload_hash', 'tmdb_missing_at', 'first_ingested_at',
  'last_refreshed_at', 'next_refresh_at', 'created_at', 'updated_at', 'extra', 'payload_drift',
  'depth'
]);
select columns_are('public', 'genres', array['id', 'name']);
select columns_are('public', 'work_genres', array['work_id', 'genre_id', 'position']);
select columns_are('public', 'people', array[
  'id', 'name', 'original_name', 'gender', 'known_for_department', 'profile_path',
  'popularity', 'adult', 'created_at', 'updated_at'
]);
select columns_are('public', 'work_cast',
  array['work_id', 'credit_id', 'person_id', 'character', 'cast_order']);
select columns_are('public', 'work_crew',
  array['work_id', 'credit_id', 'person_id', 'department', 'job']);
select columns_are('public', 'work_videos', array[
  'work_id', 'video_id', 'site', 'key', 'name', 'type', 'official', 'size', 'iso_639_1',
  'iso_3166_1', 'published_at'
]);
select columns_are('public', 'work_release_dates', array[
  'id', 'work_id', 'iso_3166_1', 'release_type', 'release_date', 'certification',
  'descriptors', 'iso_639_1', 'note'
]);

select col_type_is('public', 'works', 'id', 'bigint', 'works.id is bigint');
select col_type_is('public', 'works', 'tmdb_id', 'integer', 'works.tmdb_id is integer');
select col_not_null('public', 'works', 'tmdb_id', 'works.tmdb_id is not null');
select col_type_is('public', 'works', 'release_date', 'date', 'works.release_date is a date');
select col_type_is('public', 'works', 'origin_country', 'text[]', 'works.origin_country is text[]');
select col_type_is('public', 'works', 'budget', 'bigint', 'works.budget is bigint');
select col_type_is('public', 'works', 'revenue', 'bigint', 'works.revenue is bigint');
select col_type_is('public', 'works', 'next_refresh_at', 'timestamp with time zone',
  'works.next_refresh_at is timestamptz');

-- The TypeScript client (_shared/tmdb/api_log.ts) inserts batches with exactly these columns.
select results_eq(
  $$ select column_name::text collate "default", data_type::text collate "default",
              is_nullable::text collate "default", column_default::text collate "default"
       from information_schema.columns
      where table_schema = 'public' and table_name = 'tmdb_api_logs'
      order by ordinal_position $$,
  $$ values
       ('id', 'bigint', 'NO', null::text),
       ('created_at', 'timestamp with time zone', 'NO', 'now()'),
       ('function_name', 'text', 'NO', null),
       ('run_id', 'uuid', 'YES', null),
       ('method', 'text', 'NO', '''GET''::text'),
       ('endpoint', 'text', 'NO', null),
       ('params', 'jsonb', 'NO', '''{}''::jsonb'),
       ('http_status', 'integer', 'YES', null),
       ('tmdb_status_code', 'integer', 'YES', null),
       ('duration_ms', 'integer', 'NO', null),
       ('attempt', 'integer', 'NO', '1'),
       ('error', 'text', 'YES', null),
       ('tmdb_id', 'integer', 'YES', null) $$,
  'tmdb_api_logs has exactly the columns, types, nullability and defaults the client writes'
);

select results_eq(
  $$ select column_name::text collate "default", data_type::text collate "default",
              is_nullable::text collate "default", column_default::text collate "default"
       from information_schema.columns
      where table_schema = 'public' and table_name = 'scheduled_ingestion_log'
      order by ordinal_position $$,
  $$ values
       ('id', 'bigint', 'NO', null::text),
       ('created_at', 'timestamp with time zone', 'NO', 'now()'),
       ('finished_at', 'timestamp with time zone', 'YES', null),
       ('run_id', 'uuid', 'NO', null),
       ('source', 'text', 'NO', null),
       ('trigger', 'text', 'NO', '''manual''::text'),
       ('requested', 'integer', 'NO', '0'),
       ('found', 'integer', 'NO', '0'),
       ('ingested', 'integer', 'NO', '0'),
       ('unchanged', 'integer', 'NO', '0'),
       ('failed', 'integer', 'NO', '0'),
       ('skipped_fresh', 'integer', 'NO', '0'),
       ('duration_ms', 'integer', 'YES', null),
       ('status', 'text', 'NO', '''running''::text'),
       ('error', 'text', 'YES', null),
       ('details', 'jsonb', 'NO', '''{}''::jsonb') $$,
  'scheduled_ingestion_log has exactly the specified columns, types and defaults'
);

-- ---------------------------------------------------------------------------------------
-- keys, identity, generated column
-- ---------------------------------------------------------------------------------------

select col_is_pk('public', 'works', 'id', 'works.id is the primary key');
select col_is_unique('public', 'works', 'tmdb_id', 'works.tmdb_id is unique');
select col_is_pk('public', 'genres', 'id', 'genres.id (TMDB genre id) is the primary key');
select col_is_pk('public', 'people', 'id', 'people.id (TMDB person id) is the primary key');
select col_is_pk('public', 'work_cast', array['work_id', 'credit_id'],
  'work_cast is keyed by (work_id, credit_id)');
select col_is_pk('public', 'work_crew', array['work_id', 'credit_id'],
  'work_crew is keyed by (work_id, credit_id)');
select col_is_pk('public', 'work_videos', array['work_id', 'video_id'],
  'work_videos is keyed by (work_id, TMDB video id)');
select col_is_unique('public', 'scheduled_ingestion_log', 'run_id',
  'scheduled_ingestion_log.run_id is unique');

select results_eq(
  $$ select table_name::text collate "default", identity_generation::text collate "default"
       from information_schema.columns
      where table_schema = 'public' and column_name = 'id'
        and table_name in ('works', 'work_release_dates', 'tmdb_api_logs',
                           'scheduled_ingestion_log')
      order by table_name $$,
  $$ values ('scheduled_ingestion_log', 'ALWAYS'), ('tmdb_api_logs', 'ALWAYS'),
            ('work_release_dates', 'ALWAYS'), ('works', 'ALWAYS') $$,
  'surrogate ids are generated always as identity'
);

select is(
  (select attgenerated::text from pg_attribute
    where attrelid = 'public.works'::regclass and attname = 'next_refresh_at'),
  's',
  'works.next_refresh_at is a STORED generated column'
);
select matches(
  (select generation_expression::text from information_schema.columns
    where table_schema = 'public' and table_name = 'works' and column_name = 'next_refresh_at'),
  'compute_next_refresh_at\(status, release_date, last_refreshed_at, tmdb_missing_at\)',
  'works.next_refresh_at is generated by compute_next_refresh_at(status, release_date, last_refreshed_at, tmdb_missing_at)'
);
select col_not_null('public', 'works', 'next_refresh_at', 'works.next_refresh_at is never null');

-- ---------------------------------------------------------------------------------------
-- indexes and foreign keys
-- ---------------------------------------------------------------------------------------

select has_index('public', 'works', 'works_next_refresh_at_idx', array['next_refresh_at'],
  'works.next_refresh_at has a btree index');
select has_index('public', 'tmdb_api_logs', 'tmdb_api_logs_created_at_idx', array['created_at'],
  'tmdb_api_logs.created_at is indexed');
select has_index('public', 'tmdb_api_logs', 'tmdb_api_logs_run_id_idx', array['run_id'],
  'tmdb_api_logs.run_id is indexed');

select fk_ok('public', 'work_genres', 'work_id', 'public', 'works', 'id');
select fk_ok('public', 'work_genres', 'genre_id', 'public', 'genres', 'id');
select fk_ok('public', 'work_cast', 'work_id', 'public', 'works', 'id');
select fk_ok('public', 'work_cast', 'person_id', 'public', 'people', 'id');
select fk_ok('public', 'work_crew', 'work_id', 'public', 'works', 'id');
select fk_ok('public', 'work_crew', 'person_id', 'public', 'people', 'id');
select fk_ok('public', 'work_videos', 'work_id', 'public', 'works', 'id');
select fk_ok('public', 'work_release_dates', 'work_id', 'public', 'works', 'id');

select is_empty(
  $$ select c.conrelid::regclass::text || '.' || c.conname
       from pg_constraint as c
      where c.contype = 'f'
        and c.conrelid::regclass::text in ('work_genres', 'work_cast', 'work_crew',
          'work_videos', 'work_release_dates')
        and c.confdeltype <> 'c' $$,
  'every foreign key of the catalog child tables is on delete cascade'
);

-- An index whose leading columns are the foreign key's columns, for every FK in public.
select is_empty(
  $$ select c.conrelid::regclass::text || '.' || c.conname
       from pg_constraint as c
      where c.contype = 'f'
        and c.connamespace = 'public'::regnamespace
        and not exists (
          select from pg_index as i
           where i.indrelid = c.conrelid
             and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey
        ) $$,
  'every foreign key in public is covered by an index'
);

-- ---------------------------------------------------------------------------------------
-- constraints
-- ---------------------------------------------------------------------------------------

select ok(
  exists (select from pg_constraint
           where conrelid = 'public.tmdb_api_logs'::regclass
             and conname = 'tmdb_api_logs_params_no_api_key' and contype = 'c'),
  'tmdb_api_logs has the check constraint tmdb_api_logs_params_no_api_key'
);
select ok(
  exists (select from pg_constraint
           where conrelid = 'public.scheduled_ingestion_log'::regclass
             and conname = 'scheduled_ingestion_log_status_check' and contype = 'c'),
  'scheduled_ingestion_log has the named status check'
);
select ok(
  (select indnullsnotdistinct from pg_index
    where indexrelid = 'public.work_release_dates_release_key'::regclass),
  'work_release_dates natural key treats null release dates as equal (nulls not distinct)'
);

-- ---------------------------------------------------------------------------------------
-- row level security: every table in public, not only this file's
-- ---------------------------------------------------------------------------------------

select ok(
  (select count(*) from pg_class
    where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')) >= 10,
  'public has the catalog and log tables (guards the next test against an empty set)'
);
select is_empty(
  $$ select relname::text from pg_class
      where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')
        and not relrowsecurity $$,
  'row level security is enabled on every table in public'
);

-- ---------------------------------------------------------------------------------------
-- functions
-- ---------------------------------------------------------------------------------------

select function_returns('public', 'ingest_movie', array['jsonb', 'timestamp with time zone'],
  'jsonb', 'ingest_movie(jsonb, timestamptz) returns jsonb');
select function_returns('public', 'mark_movie_not_found',
  array['integer', 'timestamp with time zone'], 'jsonb',
  'mark_movie_not_found(integer, timestamptz) returns jsonb');
select function_returns('public', 'refresh_interval',
  array['text', 'date', 'timestamp with time zone'], 'interval',
  'refresh_interval(text, date, timestamptz) returns interval');
select function_returns('public', 'compute_next_refresh_at',
  array['text', 'date', 'timestamp with time zone', 'timestamp with time zone'],
  'timestamp with time zone',
  'compute_next_refresh_at(text, date, timestamptz, timestamptz) returns timestamptz');
select function_returns('public', 'is_stale', array['works', 'timestamp with time zone'],
  'boolean', 'is_stale(works, timestamptz) returns boolean');
select function_returns('public', 'is_stale', array['bigint', 'timestamp with time zone'],
  'boolean', 'is_stale(bigint, timestamptz) returns boolean');

select is_empty(
  $$ select p.oid::regprocedure::text from pg_proc as p
      where p.pronamespace = 'public'::regnamespace
        and p.proname in ('refresh_interval', 'compute_next_refresh_at',
                          'min_refresh_interval', 'max_refresh_interval')
        and p.provolatile <> 'i' $$,
  'the freshness policy functions are all IMMUTABLE (usable in a generated column)'
);
select is_empty(
  $$ select p.oid::regprocedure::text from pg_proc as p
      where p.pronamespace = 'public'::regnamespace
        and p.proname in ('ingest_movie', 'mark_movie_not_found', 'is_stale',
                          'refresh_interval', 'compute_next_refresh_at',
                          'min_refresh_interval', 'max_refresh_interval')
        and (p.prosecdef
             or not coalesce(p.proconfig @> array['search_path=""'], false)) $$,
  'the catalog functions are security invoker with an empty search_path'
);

select * from finish();
rollback;
